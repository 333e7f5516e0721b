"""``voicecoach serve``: the feed folder over HTTP, kept current, until Ctrl-C or SIGTERM.

The server library is waitress (the Pylons project's production WSGI server): pure
Python, so nothing to compile; threaded, so a slow phone download never holds up a
check-in; and it enforces the limits a home-network server needs before our code runs
(request bodies over 16 KiB answered 413, a bounded number of connections). Stopping:
a stop signal closes the listening socket, and every request already received is
finished and answered before the process exits (``run_until_stopped``); a check-in is
committed before its answer is sent.

Today's episode is made in a background thread when the feed is fetched on a new day or
after a check-in; the fetch that starts it waits for it briefly (``FEED_WAIT_S``: a warm
publish is quicker than that), and any other gets the feed as it is, which names complete
files only.
"""

from __future__ import annotations

import datetime as dt
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputError, VoicecoachError
from ..feed.publish import DEFAULT_KEEP, Links, publish, read_state, write_feed
from ..feed.rss import FEED_NAME
from ..session.request import SessionRequest
from ..signals import STOPPING
from .app import MAX_BODY_BYTES, FeedApp, Hooks

DEFAULT_PORT = 8765
FEED_WAIT_S = 3.0     # a fetch waits this long for today's episode before getting the feed as it is
RETRY_S = 60.0        # after a failed publish, the next fetch tries again no sooner than this
THREADS = 8           # waitress's workers: a phone or two, a few downloads at once
CONNECTION_LIMIT = 100
POLL_S = 0.2         # how soon the server sees a stop signal
DRAIN_S = 10.0       # after one, how long requests under way may take to finish
LOCAL, ANY = "127.0.0.1", "0.0.0.0"
DEFAULT_ROUTINE = "back-pain"


class Refresher:
    """Publishes in the background when the feed is due: on a new day, or after a check-in."""

    def __init__(self, build: Callable[[dt.date], object], today: Callable[[], dt.date] = dt.date.today,
                 log: Callable[[str], None] = print):
        self.build, self.today, self.log = build, today, log
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._built: dt.date | None = None
        self._dirty, self._failed_at = True, 0.0

    def checked_in(self) -> None:
        self._dirty = True

    def fetching(self, wait_s: float = FEED_WAIT_S) -> None:
        """Start a publish if one is due and none runs, and wait up to ``wait_s`` for the
        one started; a fetch while one runs gets the feed as it is, at once."""
        with self._lock:
            due = (self._dirty or self._built != self.today()) and time.monotonic() - self._failed_at >= RETRY_S
            if not due or (self._thread is not None and self._thread.is_alive()):
                return
            self._dirty = False  # a check-in from now on asks for one more
            self._thread = started = threading.Thread(target=self._run, name="publish", daemon=True)
            started.start()
        if wait_s > 0:
            started.join(wait_s)

    def _run(self) -> None:
        day = self.today()
        try:
            self.build(day)
            self._built, self._failed_at = day, 0.0
        except VoicecoachError as error:
            self._dirty, self._failed_at = True, time.monotonic()
            self.log(f"Error: today's episode was not made: {error}")


@dataclass(frozen=True)
class Options:
    """How to serve: the folder, the routines (none: those already in the feed), the session."""

    folder: Path
    routines: tuple[str, ...] = ()
    port: int = DEFAULT_PORT
    lan: bool = False
    new_token: bool = False
    keep: int = DEFAULT_KEEP
    # the session asked for each routine (its voice, rate, language): as on the command line
    request_of: Callable[[str], SessionRequest] = SessionRequest.from_settings


def serve(options: Options, out=None, ready: Callable[[str], None] | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM. Prints the subscribe URL and its QR code on ``out``."""
    from ..feed.today import resolvers
    from .secret import feed_token
    out = out or sys.stdout
    say = lambda line: print(line, file=out, flush=True)  # noqa: E731
    folder = _folder(options.folder)
    routines = options.routines or _routines_of(folder)
    todays = resolvers(map(options.request_of, routines), warn=say)
    token = feed_token(new=options.new_token, warn=say)
    app = FeedApp(folder, token)
    server = _server(app, options)
    host, port = (_lan_address() if options.lan else LOCAL), server.effective_port
    base = f"http://{host}:{port}/{token}/"
    links = Links(base, base + "checkin/")
    write_feed(folder, links)  # the links of this token and address, before anyone fetches
    refresher = Refresher(lambda day: publish(folder, todays, day=day, links=links, keep=options.keep),
                          log=say)
    app.hooks = Hooks(refresher.fetching, refresher.checked_in)
    _announce(say, out, base + FEED_NAME, options.lan, routines)
    refresher.fetching(wait_s=0)
    if ready is not None:
        ready(base + FEED_NAME)
    run_until_stopped(server)
    say("Stopped.")


def run_until_stopped(server) -> None:
    """Serve until Ctrl-C, SIGTERM or SIGHUP; then accept no new connection, let every
    request already received finish and its answer go out (for at most ``DRAIN_S``; a
    second signal cuts it short), and stop. Waitress's own ``run`` would cancel requests
    still queued for a worker: a check-in among them would be lost."""
    from waitress import wasyncore
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in STOPPING}
    try:
        while not arrived:
            wasyncore.loop(timeout=POLL_S, map=server._map, count=1)  # waitress's own loop, one turn
        wasyncore.dispatcher.close(server)  # the listening socket only
        deadline = time.monotonic() + DRAIN_S
        while _busy(server) and len(arrived) < 2 and time.monotonic() < deadline:
            wasyncore.loop(timeout=POLL_S / 4, map=server._map, count=1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(server._map)


def _busy(server) -> bool:
    """Whether a connection has a request coming in or being handled, or an answer not yet
    sent (waitress's channel attributes: ``request`` is one still being read)."""
    return any(getattr(channel, "request", None) or getattr(channel, "requests", None)
               or getattr(channel, "total_outbufs_len", 0)
               for channel in list(server._map.values()) if channel is not server)


def _server(app, options: Options):
    try:
        from waitress.server import create_server
    except ImportError:
        raise InputError("serve needs the waitress package: pip install waitress") from None
    try:
        return create_server(app, host=ANY if options.lan else LOCAL, port=options.port,
                             threads=THREADS, connection_limit=CONNECTION_LIMIT,
                             max_request_body_size=MAX_BODY_BYTES, ident="voicecoach",
                             clear_untrusted_proxy_headers=True, expose_tracebacks=False)
    except OSError as error:
        raise InputError(f"--port: cannot listen on port {options.port}: {error.strerror}; "
                         "give another with --port") from None


def _announce(say, out, url: str, lan: bool, routines) -> None:
    reach = "the home network (--lan)" if lan else "this computer only (--lan lets a phone reach it)"
    say(f"Serving {', '.join(routines)} to {reach}.")
    say(f"Subscribe in your podcast app: {url}")
    try:
        import segno
        segno.make(url, error="m").terminal(out=out, compact=True)
    except ImportError:
        say("(pip install segno to show it as a QR code)")
    say("Ctrl-C stops the server.")


def _folder(folder: Path) -> Path:
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise InputError(f"--out: cannot create the folder {str(folder)!r}: {error.strerror}") from None
    return folder


def _routines_of(folder: Path) -> tuple[str, ...]:
    """The routines already in the feed, else the built-in one."""
    known = tuple(dict.fromkeys(e.source for e in read_state(folder)))
    return known or (DEFAULT_ROUTINE,)


def _lan_address() -> str:
    """This machine's address on the home network: the one a route out would use. A UDP
    socket's connect sends nothing; 192.0.2.1 is a documentation address (RFC 5737)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostbyname(socket.gethostname())
