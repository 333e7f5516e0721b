"""The programme over weeks, handed on: the report for a physiotherapist (``summary``, then
``html`` or ``table``), and reminders (``reminders`` for the times, ``systemd`` and ``ics``
for where they go, ``notify`` for the notification a timer shows)."""
