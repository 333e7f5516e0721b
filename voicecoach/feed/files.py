"""Files of a feed folder, written the way the exporter writes its own: to a temporary
beside the destination, renamed into place, so a reader (a podcast app, a web server)
sees the old file or the new one, never a part of either."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from ..export.destination import partial_path


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True if written."""
    path = Path(path)
    with contextlib.suppress(OSError):
        if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
            return False
    temporary = partial_path(path)
    try:
        with open(temporary, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return True


def link_atomic(existing: Path, path: Path) -> None:
    """``path`` as a second name of ``existing`` (a hard link: no copy, no new disk space),
    or a copy where the file system has no hard links; it appears complete or not at all."""
    temporary = partial_path(Path(path))
    try:
        try:
            os.link(existing, temporary, follow_symlinks=False)
        except OSError:
            shutil.copyfile(existing, temporary, follow_symlinks=False)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def regular_size(path: Path) -> int | None:
    """The size of ``path`` if it is a regular file (not a link), else None."""
    try:
        found = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return found.st_size if stat.S_ISREG(found.st_mode) else None


def remove(path: Path) -> bool:
    """Remove ``path`` if it is there; True if it was."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True
