"""A feed folder brought up to date: today's episode of each routine made if it is not
there, episodes beyond ``keep`` removed with their files, ``feed.xml`` written; nothing
rewritten when nothing changed.

The folder's state, ``.voicecoach-feed.json``, lists the published episodes: it is what
the feed and the server read, so only files it names are ever served or removed (nothing
else in the folder is touched). Order makes every step safe to interrupt: an episode's
files are complete before the state names them, and a pruned episode leaves the state and
``feed.xml`` before its files go. One ``publish`` at a time per folder (``flock``): the
``feed`` command and a server may share one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError
from .episode import LEAD_IN_S, Episode, make_episode
from .files import remove, write_atomic
from .rss import FEED_NAME, feed_xml
from .today import Today

STATE_NAME = ".voicecoach-feed.json"
LOCK_NAME = ".voicecoach-feed.lock"
DEFAULT_KEEP = 7
STATE_VERSION = 1


@dataclass(frozen=True)
class Links:
    """Where the feed's files are fetched from (``base_url``, ending in /) and where each
    episode's check-in page is (``checkin_url`` + the episode's id; None: no check-in)."""

    base_url: str = ""
    checkin_url: str | None = None


@dataclass
class Published:
    """What one ``publish`` did: episodes ``made`` (rendered), ``linked`` (the files of an
    earlier day with the same inputs), ``removed`` (beyond keep), and whether ``feed.xml``
    was ``written``."""

    made: list[Episode] = field(default_factory=list)
    linked: list[Episode] = field(default_factory=list)
    removed: list[Episode] = field(default_factory=list)
    written: bool = False
    episodes: list[Episode] = field(default_factory=list)


def publish(folder: Path, todays: list[Callable[[], Today]], *, day: dt.date | None = None,
            links: Links = Links(), keep: int = DEFAULT_KEEP, lead_in_s: float = LEAD_IN_S) -> Published:
    """Make today's episode of each routine (``todays``: one callable each, which resolves
    it) in ``folder``, prune to the ``keep`` newest, write ``feed.xml`` if it changed."""
    if keep < 1:
        raise InputError(f"--keep: must be 1 or more episodes, got {keep}")
    folder = Path(folder)
    day = day or dt.date.today()
    result = Published()
    with folder_lock(folder):
        episodes = read_state(folder)
        for resolve in todays:
            _add_today(folder, episodes, resolve(), day, lead_in_s, result)
        kept, dropped = _newest(episodes, keep)
        _write_state(folder, kept)
        result.written = write_atomic(folder / FEED_NAME, feed_xml(kept, base_url=links.base_url,
                                                                   checkin_url=links.checkin_url))
        for episode in dropped:  # after the feed stopped naming them
            for name in _only_theirs(episode, kept):
                remove(folder / name)
        result.removed, result.episodes = dropped, kept
    return result


def _add_today(folder: Path, episodes: list[Episode], today: Today, day: dt.date, lead_in_s: float,
               result: Published) -> None:
    from ..history.journal import routine_identity
    from .episode import episode_id, episode_key
    _, digest = routine_identity(today.source)
    key = episode_key(today, digest, lead_in_s)
    wanted = episode_id(today.source, day, key)
    if any(e.id == wanted and e.intact(folder) for e in episodes):
        return
    like = next((e for e in reversed(episodes) if e.key == key and e.intact(folder)), None)
    episode = make_episode(today, folder, day, digest, lead_in_s=lead_in_s, like=like)
    episodes[:] = [e for e in episodes if e.id != wanted] + [episode]
    (result.linked if like is not None else result.made).append(episode)


def _newest(episodes: list[Episode], keep: int) -> tuple[list[Episode], list[Episode]]:
    ordered = sorted(episodes, key=lambda e: (e.published_at, e.id), reverse=True)
    return ordered[:keep], ordered[keep:]


def _only_theirs(episode: Episode, kept: list[Episode]) -> list[str]:
    """``episode``'s files that no kept episode names (ids are unique; this is a guard)."""
    named = {name for e in kept for name in e.files()}
    return [name for name in episode.files() if name not in named]


def write_feed(folder: Path, links: Links) -> bool:
    """Rewrite ``feed.xml`` from the state alone (new links: a new token); True if changed."""
    with folder_lock(Path(folder)):
        episodes = read_state(Path(folder))
        return write_atomic(Path(folder) / FEED_NAME, feed_xml(episodes, base_url=links.base_url,
                                                               checkin_url=links.checkin_url))


def read_state(folder: Path) -> list[Episode]:
    """The published episodes of ``folder`` (none for a new folder). A state we cannot
    read is an error naming the file: guessing would remove or serve the wrong files."""
    path = Path(folder) / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a voicecoach feed state ({error}); move it aside to "
                         "start the feed again") from None
    try:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        return [Episode.from_dict(item) for item in data["episodes"]]
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise InputError(f"{path}: not a voicecoach feed state ({error}); move it aside to "
                         "start the feed again") from None


def find_episode(folder: Path, episode_id: str) -> Episode | None:
    """The published episode ``episode_id`` of ``folder``, or None."""
    return next((e for e in read_state(folder) if e.id == episode_id), None)


def _write_state(folder: Path, episodes: list[Episode]) -> bool:
    text = json.dumps({"version": STATE_VERSION, "episodes": [e.to_dict() for e in episodes]},
                      indent=1, ensure_ascii=False) + "\n"
    return write_atomic(folder / STATE_NAME, text.encode())


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock (waiting for another ``publish``); checks the folder first."""
    if not folder.is_dir():
        raise InputError(f"--out: the folder {str(folder)!r} does not exist; create it first")
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise InputError(f"--out: cannot write in {str(folder)!r}: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def static_links(base_url: str | None) -> Links:
    """``--base-url``: an http(s) address the folder will be served at (a / is added)."""
    if not base_url:
        return Links()
    from urllib.parse import urlsplit
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"--base-url: must be an http:// or https:// address of a folder, got {base_url!r}")
    return Links(base_url if base_url.endswith("/") else base_url + "/")
