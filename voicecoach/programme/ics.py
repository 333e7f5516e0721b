"""A reminder as an iCalendar file (RFC 5545) for a phone's or a desktop's calendar: one
recurring event at the time and on the days of the reminder, with an alarm when it starts.
Written with the ``icalendar`` library (its folding and escaping, not ours).

The time is floating (no time zone): 08:00 stays 08:00 wherever the phone is.
"""

from __future__ import annotations

import datetime as dt

from .reminders import DAYS, Reminder, unit_name

EVENT_MINUTES = 20  # how long the event blocks in the calendar; a session is about that
BYDAY = {day: day[:2].upper() for day in DAYS}  # mon -> MO


def ics_text(reminder: Reminder, title: str, today: dt.date | None = None,
             now: dt.datetime | None = None) -> bytes:
    """The calendar: the event starts on the first of its days from ``today`` on."""
    import icalendar  # only for --ics
    today = today or dt.date.today()
    first = next(today + dt.timedelta(days=n) for n in range(7)
                 if DAYS[(today + dt.timedelta(days=n)).weekday()] in reminder.days)
    start = dt.datetime.combine(first, dt.time(reminder.hour, reminder.minute))
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//voicecoach//remind//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"{unit_name(reminder.routine)}@voicecoach")
    event.add("dtstamp", now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    event.add("summary", f"Exercise: {title}")
    event.add("description", f"Time for your exercises. Start them with: voicecoach play {reminder.routine}")
    event.add("dtstart", start)
    event.add("duration", dt.timedelta(minutes=EVENT_MINUTES))
    rule = {"freq": "daily"} if reminder.every_day else \
        {"freq": "weekly", "byday": [BYDAY[d] for d in reminder.days]}
    event.add("rrule", rule)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Exercise: {title}")
    alarm.add("trigger", dt.timedelta(0))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
