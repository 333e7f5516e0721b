"""What ``voicecoach history`` shows: a table of sessions, a small chart of level and
feeling over time, the sessions as JSON, or the same chart drawn into a PNG.

All of it is plain text built from ``SessionRecord``s, so it can be tested without a terminal;
``width`` is the terminal's width in characters, and narrow terminals get fewer columns
(the latest sessions) rather than wrapped lines.
"""

from __future__ import annotations

import datetime as dt
import os
import io
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ExportError
from ..export.destination import write_document
from .store import SessionRecord

BLOCKS = "▁▂▃▄▅▆▇█"
FELT_MARKS = {"better": "+", "same": "=", "worse": "-", "unknown": "·"}
FELT_KEY = "+ better  = same  - worse  · no answer"
LABEL_MAX = 14  # characters of an exercise's name in the chart
PLOT_HINT = ".venv/bin/pip install '.[plot]' (in your clone of voicecoach)"


def as_json(records: Sequence[SessionRecord]) -> list[dict]:
    """The sessions as plain values (``history --json``), oldest first."""
    return [{
        "id": r.id, "routine": r.routine, "routine_digest": r.routine_digest,
        "started_at": r.started_at.isoformat(), "length_s": r.length_s,
        "levels": r.levels_by_name, "outcome": r.outcome, "stopped_at": r.stopped_at,
        "stop_reason": r.stop_reason, "felt": r.felt, "pain": r.pain, "source": r.source,
    } for r in records]


def report(records: Sequence[SessionRecord], width: int = 80, tz: dt.tzinfo | None = None,
           per_week_of: Callable[[str], int | None] | None = None,
           today: dt.date | None = None) -> str:
    """The table, then one chart per routine, each with what the programme has to say (the
    pain advice; the weeks against ``per_week_of(routine)``'s schedule, if any); ``tz`` for
    the dates (default: local time), ``today`` for the weeks (default: today)."""
    if not records:
        return "No sessions recorded yet."
    from .programme import lines as programme_lines
    parts = [table(records, width, tz)]
    for routine in sorted({r.routine for r in records}):
        mine = [r for r in records if r.routine == routine]
        per_week = per_week_of(routine) if per_week_of is not None else None
        noted = programme_lines(mine, per_week, today or dt.date.today(), tz, width)
        parts.append("\n".join([chart(mine, width), *([""] + noted if noted else [])]))
    return "\n\n".join(parts)


def table(records: Sequence[SessionRecord], width: int = 80, tz: dt.tzinfo | None = None) -> str:
    """One line per session: its ID (for ``history --delete``), date, routine (when there are
    several), length, felt, pain, how it ended, and the levels, then the key to the levels.

    The levels are the reps of each exercise in the order the key names them ("all 4" when
    they are all the same, "-" for an exercise not in that session), so five exercises fit
    in 80 characters. Lines longer than ``width`` are cut; under 72 characters the date
    loses its year.
    """
    narrow = width < 72
    names = {routine: _exercise_names([r for r in records if r.routine == routine])
             for routine in dict.fromkeys(r.routine for r in records)}
    rows = [("ID", "Date", "Routine", "Length", "Felt", "Pain", "Ended", "Levels")]
    rows += [(str(r.id or ""), _local(r.started_at, tz, narrow), shown_name(r.routine),
              _minutes(r.length_s), "-" if r.felt == "unknown" else r.felt,
              "-" if r.pain is None else str(r.pain), _ended(r), _level_cell(r, names[r.routine]))
             for r in records]
    if len(names) == 1:
        rows = [row[:2] + row[3:] for row in rows]
    if not any(r.id for r in records):  # records not from the file (nothing to --delete)
        rows = [row[1:] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join([*(_fit(line, width) for line in lines), *_level_key(names, width)])


def _level_cell(r: SessionRecord, names: Sequence[str]) -> str:
    values = [r.level_of(name) for name in names]
    if len(values) > 1 and None not in values and len(set(values)) == 1:
        return f"all {values[0]}"
    return "/".join("-" if v is None else str(v) for v in values)


def _level_key(names: dict[str, list[str]], width: int) -> list[str]:
    """'Levels: Pelvic tilt, Cat-cow, ...' (one line per routine when there are several),
    wrapped, not cut: it is the key to the column."""
    lines = []
    for routine, exercises in names.items():
        head = "Levels: " if len(names) == 1 else f"Levels of {shown_name(routine)}: "
        lines += textwrap.wrap(head + ", ".join(exercises), max(width, 4),
                               subsequent_indent="  ", break_on_hyphens=False)
    return lines


def chart(records: Sequence[SessionRecord], width: int = 80) -> str:
    """Level of each exercise (a bar per session) and the feeling, oldest to newest.

    Only the latest sessions that fit in ``width`` are drawn; below about 20 characters the
    chart becomes one line per exercise with its first and last level.
    """
    names = _exercise_names(records)
    label_w = min(LABEL_MAX, max([len(n) for n in names] + [len("felt")]))
    columns = width - label_w - 1 - 8  # the label, a space, then " 12→15" at the end
    routine = shown_name(records[0].routine) if records else ""
    if columns < 4:
        return "\n".join([f"{routine}:"] + [f"{_fit(n, width - 8)} {_first_last(records, n)}"
                                            for n in names])
    shown = list(records)[-columns:]
    title = f"{routine}: level and feeling, oldest to newest"
    if len(shown) < len(records):
        title += f" (last {len(shown)} of {len(records)} sessions)"
    lines = [_fit(title, width)]
    for name in names:
        lines.append(f"{_fit(name, label_w).ljust(label_w)} {_bars(shown, name)} "
                     f"{_first_last(shown, name)}".rstrip())
    lines.append(f"{'felt'.ljust(label_w)} {''.join(FELT_MARKS[r.felt] for r in shown)}")
    lines.append(_fit(" " * (label_w + 1) + FELT_KEY, width))
    return "\n".join(lines)


def plot_png(records: Sequence[SessionRecord], path: Path | str) -> Path:
    """Draw the chart with matplotlib into ``path``, atomically: a reader never sees half a PNG.

    Raises ``ExportError`` with the install hint when matplotlib is missing (an optional extra).
    """
    try:
        # Imported here: matplotlib is optional and slow to import; the Agg backend needs no
        # display.
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        raise ExportError(f"drawing a chart needs matplotlib, which is not installed; "
                          f"install it with: {PLOT_HINT}") from None
    path = Path(path)
    figure = _figure(pyplot, records)
    try:
        png = io.BytesIO()
        figure.savefig(png, format="png")
    finally:
        pyplot.close(figure)
    write_document(path, png.getvalue())
    return path


MARKERS = "osD^vPX*"  # one per exercise, so lines that meet can still be told apart
SPREAD = 0.3  # reps: how far apart lines at one level are drawn (a level is a whole number)


def _figure(pyplot, records: Sequence[SessionRecord]):
    """Levels above, feeling below; the legend outside the plot, to its right, so it never
    covers a line, and exercises at the same level drawn side by side (``spread``), not as
    one line."""
    figure, (levels, felt) = pyplot.subplots(2, 1, sharex=True, figsize=(9, 5), layout="constrained",
                                             gridspec_kw={"height_ratios": [3, 1]})
    several = len({r.routine for r in records}) > 1
    lines = [(routine, name) for routine in sorted({r.routine for r in records})
             for name in _exercise_names([r for r in records if r.routine == routine])]
    for index, (routine, name) in enumerate(lines):
        points = [(r.started_at, r.level_of(name)) for r in records
                  if r.routine == routine and r.level_of(name) is not None]
        offset = spread(index, len(lines))
        levels.plot([p[0] for p in points], [p[1] + offset for p in points],
                    marker=MARKERS[index % len(MARKERS)], drawstyle="steps-post",
                    label=f"{shown_name(routine)}: {name}" if several else name)
    levels.set_ylabel("reps")
    levels.yaxis.get_major_locator().set_params(integer=True)
    levels.set_title("Level and feeling over time")
    if levels.get_lines():
        figure.legend(loc="outside right upper", fontsize="small")
    score = {"worse": -1, "same": 0, "better": 1}
    answered = [r for r in records if r.felt in score]
    felt.scatter([r.started_at for r in answered], [score[r.felt] for r in answered])
    felt.set_yticks([-1, 0, 1], ["worse", "same", "better"])
    felt.set_ylim(-1.5, 1.5)
    for label in felt.get_xticklabels():
        label.set(rotation=30, horizontalalignment="right")
    return figure


def spread(index: int, count: int) -> float:
    """The offset of line ``index`` of ``count``: evenly within ±``SPREAD``/2 of the level."""
    return 0.0 if count < 2 else SPREAD * (index / (count - 1) - 0.5)


def _exercise_names(records: Sequence[SessionRecord]) -> list[str]:
    """Every exercise in ``records``, in the order of their first appearance."""
    names: dict[str, None] = {}
    for r in records:
        names.update((name, None) for name, _ in r.levels)
    return list(names)


def _bars(records: Sequence[SessionRecord], name: str) -> str:
    """One block per session, from the lowest level shown (▁) to the highest (█); a level
    that never changed sits in the middle (▄), a session without the exercise is blank."""
    values = [r.level_of(name) for r in records]
    present = [v for v in values if v is not None]
    low, high = min(present, default=0), max(present, default=0)

    def block(value: int | None) -> str:
        if value is None:
            return " "
        if high == low:
            return BLOCKS[3]
        return BLOCKS[round((value - low) * (len(BLOCKS) - 1) / (high - low))]
    return "".join(block(v) for v in values)


def _first_last(records: Sequence[SessionRecord], name: str) -> str:
    values = [r.level_of(name) for r in records if r.level_of(name) is not None]
    if not values:
        return ""
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}→{values[-1]}"


def _local(when: dt.datetime, tz: dt.tzinfo | None, short: bool = False) -> str:
    return when.astimezone(tz).strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _ended(r: SessionRecord) -> str:
    """'done', or why and where it stopped: 'pain in knee rolls', 'quit in bridge'."""
    if r.outcome == "completed":
        return "done"
    return r.stop_reason + (f" in {r.stopped_at}" if r.stopped_at else " at the start")


def describe(r: SessionRecord) -> str:
    """One session in words: "back-pain, 2026-12-01 18:00, felt better, done"."""
    return (f"{shown_name(r.routine)}, {_local(r.started_at, None)}, felt {r.felt}"
            + ("" if r.pain is None else f", pain {r.pain}") + f", {_ended(r)}")


def shown_name(routine: str) -> str:
    """A routine file's name without its folder (the history keeps the whole path): the
    name ``history`` shows, and takes as its ROUTINE."""
    return Path(routine).stem if os.sep in routine else routine


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[:max(0, width - 1)] + "…"
