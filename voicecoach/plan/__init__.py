"""Planning: the scheduler (``timeline``), the spoken ``phrases`` of each language, and the
``progression`` that picks each exercise's level from the history."""
