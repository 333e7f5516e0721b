"""One episode: a routine at one day's levels, as the files a podcast app reads.

``<id>.mp3`` (from the one exporter, with its ID3 chapters), ``<id>.chapters.json``
(Podcasting 2.0 JSON chapters) and ``<id>.srt`` (the transcript), all made from the same
timeline shifted by a quiet lead-in, so the two sets of chapters agree to the millisecond.

The ``id`` is ``<day>-<routine>-<key>``: ``key`` is a digest of everything that changes
the audio (the routine's text, the levels, the voice and its rate, the language, the
lead-in), so the same day with the same inputs is the same episode, however often the feed
is made. The day is part of the id because levels often stay the same two days running,
and each day's session is checked in on its own; a day whose inputs match an earlier
episode's gets that episode's files as hard links, without speech or encoding.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .files import link_atomic, regular_size, remove, write_atomic
from .today import Today, prepare_today

FORMAT = "feed1"  # part of every key: change it when an episode's files change for the same inputs
LEAD_IN_S = 2.0   # quiet before the first word: a Bluetooth link wakes first (1.5 s at the least)
SUFFIXES = {"audio": ".mp3", "chapters": ".chapters.json", "transcript": ".srt"}
_SLUG_MAX = 40


@dataclass(frozen=True)
class Episode:
    """What the feed lists and the check-in records. ``levels`` are the reps of every
    exercise as played (name, reps), ``notes`` a line per exercise for the show notes,
    ``duration_s`` the timeline's length, ``audio_bytes`` the MP3's exact size;
    ``published_at`` is ISO 8601 in UTC, ``day`` the local date it is the session of."""

    id: str
    key: str
    day: str
    source: str
    routine_digest: str
    title: str
    levels: tuple[tuple[str, int], ...]
    notes: tuple[tuple[str, str], ...]
    duration_s: float
    audio_bytes: int
    published_at: str

    @property
    def guid(self) -> str:
        return f"urn:voicecoach:episode:{self.id}"

    def file(self, kind: str) -> str:
        """The file name of ``kind`` (audio, chapters, transcript)."""
        return self.id + SUFFIXES[kind]

    def files(self) -> tuple[str, ...]:
        return tuple(self.file(kind) for kind in SUFFIXES)

    def exercises(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.levels)

    def intact(self, folder: Path) -> bool:
        """Whether all its files are in ``folder``, the audio at its recorded size."""
        sizes = [regular_size(Path(folder) / name) for name in self.files()]
        return None not in sizes and sizes[0] == self.audio_bytes

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Episode":
        data = dict(data)
        data["levels"] = tuple((str(n), int(r)) for n, r in data["levels"])
        data["notes"] = tuple((str(n), str(t)) for n, t in data["notes"])
        return cls(**data)


def episode_key(today: Today, digest: str, lead_in_s: float = LEAD_IN_S) -> str:
    """The digest of everything that changes the episode's audio (see the module)."""
    inputs = [FORMAT, digest, [[e.name, e.reps] for e in today.routine.exercises],
              today.synthesizer.identity, today.routine.language, round(lead_in_s, 3)]
    return hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode()).hexdigest()


def episode_id(source: str, day: dt.date, key: str) -> str:
    return f"{day.isoformat()}-{slug(source)}-{key[:10]}"


def slug(source: str) -> str:
    """A routine's name for file names and URLs: lower-case letters, digits and dashes."""
    stem = Path(source).stem if source.endswith((".yaml", ".yml")) else Path(source).name
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:_SLUG_MAX] or "routine"


def make_episode(today: Today, folder: Path, day: dt.date, digest: str, *,
                 lead_in_s: float = LEAD_IN_S, like: Episode | None = None,
                 now: dt.datetime | None = None) -> Episode:
    """Write the files of today's episode into ``folder``: as links to ``like``'s (an
    intact episode with the same key), else made anew. Each file appears complete."""
    key = episode_key(today, digest, lead_in_s)
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    base = dict(id=episode_id(today.source, day, key), key=key, day=day.isoformat(),
                source=today.source, routine_digest=digest, title=today.routine.title,
                levels=tuple((e.name, e.reps) for e in today.routine.exercises),
                notes=tuple((e.name, describe(e)) for e in today.routine.exercises),
                published_at=now.isoformat())
    if like is not None and like.key == key and like.intact(folder):
        for old, new in zip(like.files(), Episode(**base, duration_s=0, audio_bytes=0).files()):
            link_atomic(Path(folder) / old, Path(folder) / new)
        return Episode(**base, duration_s=like.duration_s, audio_bytes=like.audio_bytes)
    return _render(today, Path(folder), base, lead_in_s)


def _render(today: Today, folder: Path, base: dict, lead_in_s: float) -> Episode:
    from ..export.exporter import export_session
    from ..plan.lead_in import with_lead_in
    session = prepare_today(today)
    session = dataclasses.replace(session, timeline=with_lead_in(session.timeline, lead_in_s))
    names = Episode(**base, duration_s=0, audio_bytes=0)
    write_atomic(folder / names.file("chapters"), chapters_json(session.timeline).encode())
    try:
        audio = export_session(session, folder / names.file("audio"),
                               transcript=folder / names.file("transcript"))
    except BaseException:  # the export left nothing: neither may its chapters stay
        remove(folder / names.file("chapters"))
        raise
    return Episode(**base, duration_s=session.timeline.seconds(session.timeline.total),
                   audio_bytes=regular_size(audio))


def chapters_json(timeline) -> str:
    """Podcasting 2.0 JSON chapters, each start in seconds rounded to the millisecond as
    the ID3 CHAP frames are (``export.tags``)."""
    from ..export.subtitles import millis
    chapters = [{"startTime": millis(c.start, timeline.sample_rate) / 1000, "title": c.title}
                for c in timeline.chapters]
    return json.dumps({"version": "1.2.0", "chapters": chapters}, indent=1, ensure_ascii=False) + "\n"


def describe(exercise) -> str:
    """The show notes' line for an exercise: "4 reps on each side", "2 sets (5, 4)"."""
    sizes = exercise.set_sizes()
    reps = f"{sizes[0]} rep{'s' if sizes[0] != 1 else ''}"
    if len(sizes) > 1:
        reps = (f"{len(sizes)} sets of {reps}" if len(set(sizes)) == 1
                else f"{len(sizes)} sets ({', '.join(map(str, sizes))} reps)")
    if exercise.sides:
        reps += " " + ("alternating sides" if exercise.alternate else "on each side")
    return reps
