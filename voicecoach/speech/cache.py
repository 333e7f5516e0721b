"""A content-addressed cache of trimmed speech, on disk and (bounded) in memory.

Key: sha256 of the synthesizer's identity (engine, version, voice, rate) and the text.
Each entry stores the trimmed samples with their own sha256, so a corrupt or truncated
entry is detected on read and simply made again. Because ``plan``, ``play`` and
``export`` all read lengths from here, they agree exactly.

espeak-ng carries a little state from one utterance to the next, so the same text can come
out a few samples longer or shorter depending on what was spoken before it. Two processes
filling the same entry at once could therefore make two different versions. So the first
version published wins (a hard link, which fails if the entry exists), a process that
loses adopts the winner's, and every process pins the digest of the version it measured:
the audio it renders later is exactly what it planned with, or a clear error.
Entries are 0600 in 0700 folders: they are the user's own words.

A cache that cannot be used (a full disk, a read-only folder, no cache folder at all) never
stops speech: one warning line, and the speech it could not store is kept in memory for the
session instead. A damaged entry (truncated, a folder, a named pipe) is skipped and replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import struct
import sys
import tempfile
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..audio import Audio
from ..errors import EngineError, InputError
from ..paths import cache_dir
from ..text import clip
from . import workers_of

_MAGIC = b"VCSPEECH1"
_HEADER = struct.Struct("<9sIQ32s")  # magic, sample rate, sample count, sha256 of samples
# Recently used speech kept in memory; the rest is re-read (and re-verified) from disk.
# 4 MiB holds every cue a chunk touches plus the short repeated ones (counts, releases),
# and keeps peak memory level however long the session (the benchmark measures it).
MEMORY_BUDGET_BYTES = 4 << 20
STALE_TEMPORARY_S = 600  # a temporary this old was left by a killed process
PRIVATE_DIR = 0o700
_WARNED: set[str] = set()  # caches already warned about in this process


class SpeechCache:
    """``audio(text)``: the trimmed speech for ``text``; ``samples(text)``: its length."""

    def __init__(self, synthesizer, directory: Path | None = None):
        self.synthesizer = synthesizer
        self.sample_rate = synthesizer.sample_rate
        self.directory: Path | None = None  # None: no cache on disk at all
        try:
            self.directory = Path(directory) if directory else cache_dir() / "speech"
            _private_dir(self.directory)
        except OSError as error:  # also UserDirUnavailable
            self._cannot_cache(self.directory or "folder", error)
            self.directory = None
        # Speech the disk could not take, held for the session (unbounded, only then), so
        # what is rendered is what was measured.
        self._unsaved: dict[str, tuple[Audio, bytes]] = {}
        self._digests: dict[str, bytes] = {}  # text -> sha256 of the version measured
        self._lengths: dict[str, int] = {}
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._memory_bytes = 0
        self.synthesized = 0  # how many texts this cache had to synthesize (for tests, bench)

    def path_for(self, text: str) -> Path:
        digest = hashlib.sha256(f"{self.synthesizer.identity}\0{text}".encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.pcm"

    def samples(self, text: str) -> int:
        """The trimmed length of ``text``'s speech, in samples."""
        if text not in self._lengths:
            self.audio(text)
        return self._lengths[text]

    def audio(self, text: str) -> Audio:
        found = self._known(text)
        if found is not None:
            return found
        audio, _ = self._keep(text, self._remake(text, self._path(text)))
        return audio

    def _path(self, text: str) -> Path | None:
        return self.path_for(text) if self.directory is not None else None

    def _known(self, text: str) -> Audio | None:
        """``text``'s audio from memory or disk (the version measured, if one was), else None."""
        if text in self._memory:
            self._memory.move_to_end(text)
            return self._memory[text]
        path = self._path(text)
        entry = self._unsaved.get(text) or (_read_entry(path, self.sample_rate) if path else None)
        if entry is None or (text in self._digests and entry[1] != self._digests[text]):
            return None
        return self._keep(text, entry)[0]

    def _keep(self, text: str, entry: tuple[Audio, bytes]) -> tuple[Audio, bytes]:
        audio, digest = entry
        self._digests.setdefault(text, digest)
        self._lengths.setdefault(text, len(audio))
        self._remember(text, audio)
        return entry

    def prefetch(self, texts: Iterable[str], progress: Callable[[int, int], None] | None = None) -> None:
        """Make sure every text is cached (and measured) before scheduling.

        A synthesizer that speaks several texts at once (``Concurrent``) is given the
        missing ones on that many threads; they are stored in order, here, so the cache and
        every sample are what one at a time would have made."""
        texts = list(texts)
        workers = workers_of(self.synthesizer)
        with ThreadPoolExecutor(workers, thread_name_prefix="voicecoach-synth") if workers > 1 \
                else contextlib.nullcontext() as pool:
            pending = self._start_missing(texts, pool) if pool else {}
            try:
                for done, text in enumerate(texts, 1):
                    if text in pending:  # popped: no audio is held here once stored
                        self.synthesized += 1
                        self._keep(text, self._stored(text, self._path(text), pending.pop(text).result()))
                    self.samples(text)
                    if progress:
                        progress(done, len(texts))
            finally:  # a cancelled prepare stops after the texts being spoken
                for future in pending.values():
                    future.cancel()

    def _start_missing(self, texts: list[str], pool: ThreadPoolExecutor) -> dict[str, Future]:
        """Synthesis started on ``pool`` for each text neither in memory nor on disk."""
        return {text: pool.submit(self._spoken, text) for text in dict.fromkeys(texts)
                if text not in self._lengths and self._known(text) is None}

    def _remake(self, text: str, path: Path | None) -> tuple[Audio, bytes]:
        """Synthesize ``text`` and publish it, or adopt the version another process published."""
        if text in self._digests:
            # We planned with a version that is gone (the cache was cleared or damaged
            # mid-session); a new synthesis may differ by a few samples, so it must match.
            audio = self._synthesize(text)
            if _digest(audio) != self._digests[text]:
                raise EngineError(f"the cached speech for {text[:40]!r} changed during the session "
                                  f"({path}); run the command again")
            return audio, self._digests[text]
        return self._stored(text, path, self._synthesize(text))

    def _stored(self, text: str, path: Path | None, audio: Audio) -> tuple[Audio, bytes]:
        """``audio`` published at ``path`` (or the version another process published first)."""
        if path is not None:
            try:
                _publish(path, audio)
                entry = _read_entry(path, self.sample_rate)
                if entry is not None:
                    return entry
                problem: object = "an entry cannot be read back after writing it"
            except OSError as error:  # a full disk, a read-only folder
                problem = error
            self._cannot_cache(self.directory, problem)
        entry = (audio, _digest(audio))
        self._unsaved[text] = entry
        return entry

    @staticmethod
    def _cannot_cache(directory, problem: object) -> None:
        """One warning line per cache folder and process; speech goes on without it."""
        if str(directory) in _WARNED:
            return
        _WARNED.add(str(directory))
        if isinstance(problem, OSError) and problem.strerror and not str(problem).startswith("cannot"):
            problem = problem.strerror
        with contextlib.suppress(OSError, ValueError):
            print(f"Warning: the speech cache {directory} cannot be used ({problem}); "
                  "going on without it", file=sys.stderr, flush=True)

    def _synthesize(self, text: str) -> Audio:
        self.synthesized += 1
        return self._spoken(text)

    def _spoken(self, text: str) -> Audio:
        """The trimmed speech of ``text``; touches no state, so prefetch's threads call it."""
        audio = self.synthesizer.synthesize(text)
        if audio.sample_rate != self.sample_rate:
            audio = audio.resampled(self.sample_rate)
        trimmed = audio.trimmed()
        if not len(trimmed):  # a 0-second cue: an invisible chapter, an empty subtitle
            raise InputError(f"the voice says nothing aloud for {clip(text)!r}; write words it can say")
        return trimmed

    def _remember(self, text: str, audio: Audio) -> None:
        self._memory[text] = audio
        self._memory_bytes += audio.samples.nbytes
        while self._memory_bytes > MEMORY_BUDGET_BYTES and len(self._memory) > 1:
            _, dropped = self._memory.popitem(last=False)
            self._memory_bytes -= dropped.samples.nbytes


def _digest(audio: Audio) -> bytes:
    return hashlib.sha256(audio.samples.astype("<i2").tobytes()).digest()


def _read_entry(path: Path, sample_rate: int) -> tuple[Audio, bytes] | None:
    """The cached audio and its digest, or None when missing, truncated, corrupt or of another rate."""
    try:
        data = _read_regular(path)
    except OSError:
        return None
    if data is None or len(data) < _HEADER.size:
        return None
    magic, rate, count, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if magic != _MAGIC or rate != sample_rate or not count or len(payload) != 2 * count:
        return None
    if hashlib.sha256(payload).digest() != digest:
        return None
    return Audio(np.frombuffer(payload, dtype="<i2"), rate), digest


def _read_regular(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file, else None. Opened without blocking
    and checked before reading, so a named pipe in the cache cannot hang the reader."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(handle, "rb") as reader:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        return reader.read()


def _publish(path: Path, audio: Audio) -> None:
    """Write ``audio`` at ``path`` unless a valid entry is already there (first one wins).

    The entry is written whole to a private temporary first, so no reader ever sees half
    of one; a damaged entry in the way is replaced.
    """
    payload = audio.samples.astype("<i2").tobytes()
    header = _HEADER.pack(_MAGIC, audio.sample_rate, len(audio), hashlib.sha256(payload).digest())
    try:
        _private_dir(path.parent)
    except FileExistsError:  # a file where the shard's folder belongs: damaged, replaced
        path.parent.unlink()
        _private_dir(path.parent)
    _remove_stale_temporaries(path.parent)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pcm")  # 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(header + payload)
        try:
            os.link(temporary, path)  # atomic, and fails if another process got there first
        except FileExistsError:
            if _read_entry(path, audio.sample_rate) is None:  # the entry in the way is damaged
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)  # (a file cannot replace a folder)
                os.replace(temporary, path)
        except OSError:
            os.replace(temporary, path)  # a file system without hard links
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700; tighten it if we own it and it is not."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    info = path.stat()
    if stat.S_IMODE(info.st_mode) != PRIVATE_DIR and info.st_uid == os.getuid():
        os.chmod(path, PRIVATE_DIR)


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporaries left by a process killed mid-write (live ones are seconds old)."""
    cutoff = time.time() - STALE_TEMPORARY_S
    for leftover in folder.glob(".tmp-*.pcm"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


# -- engines' temporary files ---------------------------------------------------------

SCRATCH_PREFIX = "voicecoach-tts-"
_SCRATCH: dict[str, Path | None] = {}  # the process's scratch base, found once


@contextlib.contextmanager
def scratch_folder():
    """A private temporary folder for an engine's files, removed on leaving (Ctrl-C and
    SIGTERM included). It lives in the cache folder (``tmp``), locked while in use, so one
    left by a killed process (SIGKILL) is found and removed by the next run; without a
    usable cache folder it is in the system's temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=_scratch_base()))
    lock = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when the process dies
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)


def _scratch_base() -> Path | None:
    if "base" not in _SCRATCH:
        try:
            base = cache_dir() / "tmp"
            _private_dir(base)
            _remove_abandoned(base)
        except OSError:
            base = None
        _SCRATCH["base"] = base
    return _SCRATCH["base"]


def _remove_abandoned(base: Path) -> None:
    """Remove scratch folders no live process holds locked. A folder is locked just after
    it is made, so one only seconds old may be about to be: it is left for the next run."""
    cutoff = time.time() - 10
    for folder in base.glob(SCRATCH_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_mtime > cutoff:
                continue
            handle = os.open(folder, os.O_RDONLY)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: in use
                shutil.rmtree(folder)
            finally:
                os.close(handle)
