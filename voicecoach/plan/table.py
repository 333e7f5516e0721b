"""The timeline as ``voicecoach plan`` prints it: one row per event, and the total."""

from __future__ import annotations

from ..text import clock
from .model import SPEECH, Timeline


def format_table(timeline: Timeline) -> str:
    """The readable timeline of ``plan``: start, length, kind, exercise, what is heard."""
    rows = [f"{timeline.title}", f"{'start':>10}  {'length':>7}  {'kind':<6}  {'exercise':<18}  what"]
    for event in timeline.events:
        what = event.text if event.kind == SPEECH else event.sound or ""
        rows.append(f"{clock(timeline.seconds(event.start)):>10}  {timeline.seconds(event.length):>6.2f}s"
                    f"  {event.kind:<6}  {(event.exercise or '-')[:18]:<18}  {what}".rstrip())  # a hold says nothing
    exercises = len(timeline.chapters) - 2  # all chapters but the introduction and the finish
    rows.append(f"Total: {clock(timeline.total_s)} ({timeline.total_s:.3f} s), "
                f"{exercises} exercise{'s' if exercises != 1 else ''}")
    return "\n".join(rows)
