"""The secret in every URL of the server: made once, kept in the data folder, readable by
the user alone (mode 0600). 192 bits from ``secrets``: no one on the network guesses it,
and it is short enough for a QR code a phone reads at a glance."""

from __future__ import annotations

import os
import re
import secrets
import stat

from ..errors import UserDirUnavailable
from ..paths import data_dir

TOKEN_NAME = "feed-token"
TOKEN_BYTES = 24  # 192 bits; the issue asks for 128 at the least
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,}")  # 22 characters of URL-safe base64 hold 128 bits


def feed_token(new: bool = False, warn=None) -> str:
    """The server's token: the kept one, or (``new``, or none kept, or one not ours) a new
    one that replaces it. A kept file others could read is made private again, with a warning."""
    path = data_dir() / TOKEN_NAME
    if not new:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, encoding="ascii", errors="replace") as kept:
                if stat.S_IMODE(os.fstat(kept.fileno()).st_mode) & 0o077:
                    os.fchmod(kept.fileno(), 0o600)
                    if warn is not None:
                        warn(f"Warning: {path} was readable by others; it is private now "
                             "(use --new-token if someone may have seen it)")
                text = kept.read(200).strip()
            if _TOKEN.fullmatch(text):
                return text
        except FileNotFoundError:
            pass
        except OSError as error:
            raise UserDirUnavailable(f"cannot read the server's token {path}: {error.strerror}") from None
    return _write_new(path)


def _write_new(path) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    temporary = path.with_name(f".{TOKEN_NAME}-{secrets.token_hex(6)}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise UserDirUnavailable(f"cannot write the server's token {path}: {error.strerror}") from None
    return token
