"""The report as CSV, for a spreadsheet: three tables one after the other, each with a
title row and a header row, a blank row between them (Python's ``csv`` reads it as rows):

- ``Period``: the routine, from, to, sessions, the schedule, the streak, the adherence, the
  pain's trend, and how many sessions were stopped for pain;
- ``Weeks``: each week (ISO week and its Monday), sessions done, planned, met;
- ``Sessions``: the date and time, length in minutes, one column of reps per exercise
  (the levels over time), felt, pain, the change since the last score, how it ended and
  the exercise it stopped in.
"""

from __future__ import annotations

import csv
import io

from .summary import Summary, adherence_text


def to_csv(summary: Summary) -> str:
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\n").writerow
    write(["Period"])
    write(["routine", "from", "to", "sessions", "sessions per week planned", "streak of weeks met",
           "adherence", "pain trend", "stopped for pain"])
    write([summary.routine, summary.start.isoformat(), summary.end.isoformat(), len(summary.rows),
           summary.per_week or "", summary.streak if summary.per_week else "",
           adherence_text(summary), summary.pain_trend, len(summary.stopped_for_pain)])
    write([])
    write(["Weeks"])
    write(["week", "monday", "sessions", "planned", "met"])
    for week in summary.weeks:
        write([week.label, week.start.isoformat(), week.done, week.planned,
               "so far" if week.current and not week.met else "yes" if week.met else "no"])
    write([])
    write(["Sessions"])
    write(["date", "length_min", *summary.exercises, "felt", "pain", "pain_change", "ended",
           "stopped_in"])
    for row in summary.rows:
        write([row.when.strftime("%Y-%m-%d %H:%M"),
               "" if row.length_s is None else f"{row.length_s / 60:.1f}",
               *("" if row.levels[name] is None else row.levels[name] for name in summary.exercises),
               "" if row.felt == "unknown" else row.felt, "" if row.pain is None else row.pain,
               "" if row.pain_change is None else f"{row.pain_change:+d}", row.ended,
               row.stopped_in or ""])
    return out.getvalue()
