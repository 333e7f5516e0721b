"""What the coach remembers: where each session stopped (``places``), and every session
with its levels and how it felt (``store``, SQLite, with ``migrations``)."""
