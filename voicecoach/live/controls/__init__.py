"""Ways to command a live session, each behind ``wait(timeout_s) -> command | None``:
terminal ``keys`` (and, where enabled, spoken commands and MPRIS media buttons)."""
