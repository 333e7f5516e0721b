"""The live session: wiring (``play``), the ``player`` on the sound device, the fast ``start``,
the ``playplan`` of segments, the ``screen``, the ``device`` and the ``controls``."""
