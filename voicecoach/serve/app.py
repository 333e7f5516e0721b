"""The WSGI application: the feed, the files of its published episodes, the check-in.

Every URL is ``/<token>/<name>``: ``feed.xml``, a file that a published episode names
(nothing else in the folder, and never a folder listing), or ``checkin/<episode id>``.
Anything else is 404 with a body that names nothing: a wrong or missing token, a path
with ``..``, any percent-encoding (our names never need it, so an encoded slash or dot
cannot slip through a decoder), a symbolic link. The raw request line is routed, not
the decoded path. Episode files answer ``Range`` (206, 416) as podcast apps resume and seek.
"""

from __future__ import annotations

import hmac
import os
import stat
import sys
import traceback
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qs, urlsplit

from ..errors import InputError, VoicecoachError
from ..feed import checkin
from ..feed.publish import find_episode, read_state
from ..feed.rss import FEED_NAME
from . import pages

MAX_BODY_BYTES = 16 * 1024  # a check-in is a few dozen bytes; waitress refuses more too
BLOCK_BYTES = 64 * 1024
TYPES = {".mp3": "audio/mpeg", ".json": "application/json", ".srt": "application/x-subrip; charset=utf-8",
         ".xml": "application/rss+xml; charset=utf-8"}
_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")]
CHECKIN = "checkin"


@dataclass
class Hooks:
    """What the app tells the server: the feed is being fetched (``fetching``: bring it up
    to date if due) and a check-in was recorded (``checked_in``)."""

    fetching: Callable[[], None] = lambda: None
    checked_in: Callable[[], None] = lambda: None


class FeedApp:
    """WSGI app serving ``folder`` under ``/<token>/``."""

    def __init__(self, folder: Path, token: str, hooks: Hooks | None = None):
        self.folder, self.token, self.hooks = Path(folder), token, hooks or Hooks()

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except Exception:  # a fault of ours: logged here, never shown to the client
            traceback.print_exc(file=sys.stderr)
            return _send(start_response, "500 Internal Server Error",
                         pages.message_page("Error", "Something went wrong; try again."))

    def _route(self, environ, start_response):
        parts = self._parts(environ.get("REQUEST_URI") or "")
        method = environ.get("REQUEST_METHOD", "GET")
        if parts is None:
            return _send(start_response, "404 Not Found", pages.not_found())
        if len(parts) == 2 and parts[0] == CHECKIN:
            return self._checkin(environ, start_response, method, parts[1])
        if len(parts) != 1 or not self._published(parts[0]):
            return _send(start_response, "404 Not Found", pages.not_found())
        if method not in ("GET", "HEAD"):
            return _send(start_response, "405 Method Not Allowed", b"", [("Allow", "GET, HEAD")])
        if parts[0] == FEED_NAME:
            self.hooks.fetching()
        return serve_file(environ, start_response, self.folder / parts[0])

    def _parts(self, uri: str) -> list[str] | None:
        """The path's parts after a right token, or None (404)."""
        path = urlsplit(uri).path if not uri.startswith("/") else uri.split("?", 1)[0]
        if "%" in path or "\\" in path or not path.startswith("/"):
            return None
        parts = path[1:].split("/")
        if len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
            return None
        if not hmac.compare_digest(parts[0].encode(), self.token.encode()):
            return None
        return parts[1:]

    def _published(self, name: str) -> bool:
        return name == FEED_NAME or any(name in e.files() for e in read_state(self.folder))

    def _checkin(self, environ, start_response, method: str, episode_id: str):
        episode = find_episode(self.folder, episode_id)
        if episode is None:  # never published, or pruned: nothing is recorded
            return _send(start_response, "404 Not Found", pages.not_found())
        action = f"/{self.token}/{CHECKIN}/{episode.id}"
        if method in ("GET", "HEAD"):
            done = checkin.recorded(episode)
            body = (pages.form_page(episode, action) if done is None
                    else pages.recorded_page(done, checkin.next_session(episode.source)))
            return _send(start_response, "200 OK", body, head=method == "HEAD")
        if method != "POST":
            return _send(start_response, "405 Method Not Allowed", b"", [("Allow", "GET, HEAD, POST")])
        form = _read_form(environ)
        if isinstance(form, tuple):
            return _send(start_response, form[0], pages.message_page("Not recorded", form[1]))
        try:
            answers = checkin.parse_answers(form, episode)
        except InputError as error:
            return _send(start_response, "400 Bad Request", pages.form_page(episode, action, str(error)))
        try:
            done = checkin.check_in(episode, answers)
        except VoicecoachError as error:
            print(f"Error: check-in of {episode.id} not recorded: {error}", file=sys.stderr, flush=True)
            return _send(start_response, "503 Service Unavailable",
                         pages.message_page("Not recorded", "The history could not be written; try again."))
        if done.first:
            self.hooks.checked_in()
        return _send(start_response, "200 OK", pages.recorded_page(done, checkin.next_session(episode.source)))


def _read_form(environ) -> dict[str, list[str]] | tuple[str, str]:
    """The posted form, or (status, why) when it cannot be one."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", "The request was not a form."
    if length > MAX_BODY_BYTES:
        return "413 Content Too Large", "The form was too large."
    kind = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return "415 Unsupported Media Type", "The request was not a form."
    body = environ["wsgi.input"].read(length)
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return "400 Bad Request", "The request was not a form."


def _send(start_response, status: str, body: bytes, extra=(), head: bool = False):
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
               ("Cache-Control", "no-store"), *_HEADERS, *extra]
    start_response(status, headers)
    return [] if head else [body]


def serve_file(environ, start_response, path: Path):
    """``path`` (a regular file, not a link) whole, or the one byte range asked for."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return _send(start_response, "404 Not Found", pages.not_found())
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return _send(start_response, "404 Not Found", pages.not_found())
    size, etag = info.st_size, f'"{info.st_size:x}-{info.st_mtime_ns:x}"'
    headers = [("Content-Type", TYPES.get(path.suffix, "application/octet-stream")),
               ("Accept-Ranges", "bytes"), ("ETag", etag), ("Cache-Control", "no-cache"),
               ("Last-Modified", formatdate(info.st_mtime, usegmt=True)), *_HEADERS]
    wanted = byte_range(environ.get("HTTP_RANGE"), size)
    if environ.get("HTTP_IF_RANGE") not in (None, etag):
        wanted = None  # the file changed since the client's part of it: all of it again
    if wanted == "unsatisfiable":
        os.close(fd)
        start_response("416 Range Not Satisfiable", headers + [("Content-Range", f"bytes */{size}"),
                                                               ("Content-Length", "0")])
        return []
    start, end = (0, size) if wanted is None else wanted
    status = "200 OK" if wanted is None else "206 Partial Content"
    if wanted is not None:
        headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
    start_response(status, headers + [("Content-Length", str(end - start))])
    if environ.get("REQUEST_METHOD") == "HEAD":
        os.close(fd)
        return []
    return _FileRange(fd, start, end)


def byte_range(header: str | None, size: int):
    """``Range: bytes=a-b`` as (start, end) with ``end`` exclusive; None to send it all
    (no header, not bytes, several ranges: RFC 9110 lets a server ignore those);
    "unsatisfiable" for a range that starts past the end."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, dash, last = header[6:].strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) \
            or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        count = int(last)
        return "unsatisfiable" if count == 0 or size == 0 else (max(0, size - count), size)
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    if start >= size:
        return "unsatisfiable"
    return None if end <= start else (start, end)


class _FileRange:
    """The bytes ``[start, end)`` of an open file, in blocks; closed by the server at the
    end of the response, also when the client went away."""

    def __init__(self, fd: int, start: int, end: int):
        self.fd, self.position, self.end = fd, start, end

    def __iter__(self):
        while self.position < self.end:
            block = os.pread(self.fd, min(BLOCK_BYTES, self.end - self.position), self.position)
            if not block:
                return
            self.position += len(block)
            yield block

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
