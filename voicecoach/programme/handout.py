"""``voicecoach report ROUTINE -o FILE``: the report for a physiotherapist, written whole or
not at all (a temporary beside it, renamed into place), as HTML (``.html``) or CSV (``.csv``).

Everything that can be refused is refused before a byte is written: an unknown extension,
a folder that is not there, a bad ``--from``/``--to``, a period with no sessions.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from ..errors import InputError
from ..export.destination import write_document

FORMATS = {".html": "html", ".htm": "html", ".csv": "csv"}


def report_format(output: Path) -> str:
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise InputError(f"-o: a report is .html or .csv, got {output.suffix or 'no extension'!r} "
                         f"in {str(output)!r}")
    return fmt


def write_report(source: str, output: Path | str, start: str | None = None, end: str | None = None,
                 tz: dt.tzinfo | None = None, today: dt.date | None = None) -> Path:
    """Write the report on ``source``'s sessions from ``start`` to ``end`` (ISO days, both
    included; default all) into ``output``; returns ``output``."""
    from ..history.journal import recorded_name
    from ..history.programme import per_week_of_name
    from ..history.store import History
    from .summary import parse_day, summarize
    output = Path(output)
    fmt = report_format(output)
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"-o: the folder {str(folder)!r} does not exist")
    name = recorded_name(source)
    with History.open(write=False) as history:
        sessions = history.sessions(name)
    summary = summarize(_shown(source), sessions, per_week_of_name(name), first, last, tz, today)
    if fmt == "html":
        from .html import to_html
        text = to_html(summary)
    else:
        from .table import to_csv
        text = to_csv(summary)
    write_document(output, text.encode("utf-8"))
    return output


def _shown(source: str) -> str:
    """A routine file by its name without the folder, as ``history`` shows it."""
    return Path(source).stem if os.sep in source or source.endswith((".yaml", ".yml")) else source
