"""The report as one HTML file: no scripts, no files beside it, the charts drawn inline as
SVG, laid out for A4 paper too (print it from the browser, or save it as PDF).

The charts: each exercise's level per session (lines at one level side by side, as in
``history --plot``), and the pain per session over the traffic light's bands (0-3 go on,
4-5 stay, 6 or more step back).
"""

from __future__ import annotations

from html import escape

from ..plan.progression import PAIN_GO_ON_MAX, PAIN_STAY_MAX
from .summary import Summary, adherence_text, pain_text

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
WIDTH, LEVELS_H, PAIN_H, LEFT, BOTTOM = 640, 220, 130, 40, 24  # SVG user units (px)
SPREAD = 0.3  # reps between the lowest and highest of lines at one level

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 46em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 99%; font-size: 0.9em; }  /* 100% loses the right border in print */
td:first-child { white-space: nowrap; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.4em; text-align: left; }
th { background: #eee; } .note { font-weight: bold; } svg { width: 100%; height: auto; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  tr, svg { break-inside: avoid; } }
"""


def to_html(summary: Summary) -> str:
    s = summary
    title = f"Exercise report: {escape(s.routine)}"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>{title}</title><style>{STYLE}</style></head><body>",
             f"<h1>{title}</h1>",
             f"<p>From {s.start} to {s.end}: {len(s.rows)} session{'s' if len(s.rows) != 1 else ''}.</p>",
             _overview(s), "<h2>Levels per exercise</h2>", levels_svg(s),
             "<h2>Pain after each session</h2>", f"<p>{escape(pain_text(s))}</p>", pain_svg(s)]
    if s.weeks:
        parts += [f"<h2>Sessions per week ({s.per_week} planned)</h2>", _weeks(s)]
    parts += ["<h2>Sessions</h2>", _sessions(s), "</body></html>\n"]
    return "\n".join(parts)


def _overview(s: Summary) -> str:
    stopped = "; ".join(f"{r.when:%Y-%m-%d} in {escape(r.stopped_in or 'the introduction')}"
                        for r in s.stopped_for_pain) or "none"
    items = [("Schedule", f"{s.per_week} sessions a week" if s.per_week else "none set"),
             ("Adherence", adherence_text(s)),
             ("Streak", f"{s.streak} week{'s' if s.streak != 1 else ''} met in a row"
              if s.per_week else "no schedule set"),
             ("Sessions stopped for pain", f"{len(s.stopped_for_pain)}: {stopped}"
              if s.stopped_for_pain else "none")]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in items)
    note = "" if s.pain_rise is None else (
        f"<p class=\"note\">Pain rose from {s.pain_rise.first} to {s.pain_rise.last} over the last "
        "three scored sessions.</p>")
    return f"<table>{rows}</table>{note}"


def _weeks(s: Summary) -> str:
    head = "<tr><th>Week</th><th>From</th><th>Sessions</th><th>Planned</th><th>Met</th></tr>"
    body = "".join(f"<tr><td>{w.label}</td><td>{w.start}</td><td>{w.done}</td><td>{w.planned}</td>"
                   f"<td>{'yes' if w.met else 'so far' if w.current else 'no'}</td></tr>"
                   for w in s.weeks)
    return f"<table>{head}{body}</table>"


def _sessions(s: Summary) -> str:
    names = "".join(f"<th>{escape(n)}</th>" for n in s.exercises)
    head = f"<tr><th>Date</th>{names}<th>Felt</th><th>Pain</th><th>Change</th><th>Ended</th></tr>"
    rows = []
    for r in s.rows:
        levels = "".join(f"<td>{'' if r.levels[n] is None else r.levels[n]}</td>" for n in s.exercises)
        ended = r.ended + (f" in {escape(r.stopped_in)}" if r.stopped_in else "")
        rows.append(f"<tr><td>{r.when:%Y-%m-%d %H:%M}</td>{levels}"
                    f"<td>{'' if r.felt == 'unknown' else r.felt}</td>"
                    f"<td>{'' if r.pain is None else r.pain}</td>"
                    f"<td>{'' if r.pain_change is None else f'{r.pain_change:+d}'}</td><td>{ended}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _x(index: int, count: int) -> float:
    return LEFT + 24 + (WIDTH - LEFT - 48) * (index / (count - 1) if count > 1 else 0.5)  # room for a date


def levels_svg(s: Summary) -> str:
    """Each exercise's reps per session, a polyline and a legend row each."""
    values = [v for r in s.rows for v in r.levels.values() if v is not None]
    low, high = min(values, default=0) - 1, max(values, default=1) + 1
    plot_h = LEVELS_H - BOTTOM - 10

    def y(value: float) -> float:
        return 10 + plot_h * (high - value) / (high - low)
    out = [_axes(LEVELS_H, [(y(v), str(v)) for v in range(low + 1, high)], s)]
    for index, name in enumerate(s.exercises):
        offset = 0 if len(s.exercises) < 2 else SPREAD * (index / (len(s.exercises) - 1) - 0.5)
        points = " ".join(f"{_x(i, len(s.rows)):.1f},{y(r.levels[name] + offset):.1f}"
                          for i, r in enumerate(s.rows) if r.levels[name] is not None)
        colour = COLOURS[index % len(COLOURS)]
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
    legend = "".join(f'<span style="color:{COLOURS[i % len(COLOURS)]}">&#9632;</span> {escape(n)} &nbsp; '
                     for i, n in enumerate(s.exercises))
    return (f'<svg viewBox="0 0 {WIDTH} {LEVELS_H}" role="img" aria-label="levels">'
            f'{"".join(out)}</svg><p>{legend}</p>')


def pain_svg(s: Summary) -> str:
    """The pain score per session, over green, amber and red bands."""
    plot_h = PAIN_H - BOTTOM - 10

    def y(value: float) -> float:
        return 10 + plot_h * (10 - value) / 10
    bands = [(0, PAIN_GO_ON_MAX + 0.5, "#e3f4e3"), (PAIN_GO_ON_MAX + 0.5, PAIN_STAY_MAX + 0.5, "#fbf0d0"),
             (PAIN_STAY_MAX + 0.5, 10, "#f8dcdc")]
    out = [f'<rect x="{LEFT}" y="{y(top):.1f}" width="{WIDTH - LEFT}" height="{y(bottom) - y(top):.1f}" '
           f'fill="{colour}"/>' for bottom, top, colour in bands]
    out.append(_axes(PAIN_H, [(y(v), str(v)) for v in (0, 3, 5, 8, 10)], s))
    scored = [(i, r.pain) for i, r in enumerate(s.rows) if r.pain is not None]
    if scored:
        points = " ".join(f"{_x(i, len(s.rows)):.1f},{y(p):.1f}" for i, p in scored)
        out.append(f'<polyline points="{points}" fill="none" stroke="#333" stroke-width="2"/>')
        out += [f'<circle cx="{_x(i, len(s.rows)):.1f}" cy="{y(p):.1f}" r="3" fill="#333"/>'
                for i, p in scored]
    return f'<svg viewBox="0 0 {WIDTH} {PAIN_H}" role="img" aria-label="pain">{"".join(out)}</svg>'


def _axes(height: int, ticks: list[tuple[float, str]], s: Summary) -> str:
    """The y axis with its ``ticks`` (position, label) and the dates of some sessions below."""
    base = height - BOTTOM
    out = [f'<line x1="{LEFT}" y1="10" x2="{LEFT}" y2="{base}" stroke="#666"/>',
           f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#666"/>']
    out += [f'<text x="{LEFT - 6}" y="{pos + 4:.1f}" font-size="11" text-anchor="end">{label}</text>'
            for pos, label in ticks]
    step = max(1, len(s.rows) // 6)  # about six dates fit under the chart
    out += [f'<text x="{_x(i, len(s.rows)):.1f}" y="{base + 16}" font-size="11" text-anchor="middle">'
            f'{r.when:%d %b}</text>' for i, r in enumerate(s.rows) if i % step == 0]
    return "".join(out)
