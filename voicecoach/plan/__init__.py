"""Planning: the scheduler (``timeline``) that makes the session's ``model`` (a Timeline),
the coach's ``wording`` from the spoken ``phrases`` of each language, the ``table`` that
``plan`` prints, and the ``progression`` that picks each exercise's level from the history."""
