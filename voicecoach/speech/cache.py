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
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import struct
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..audio import Audio
from ..errors import EngineError
from ..paths import cache_dir

_MAGIC = b"VCSPEECH1"
_HEADER = struct.Struct("<9sIQ32s")  # magic, sample rate, sample count, sha256 of samples
# Recently used speech kept in memory; the rest is re-read (and re-verified) from disk.
# 4 MiB holds every cue a chunk touches plus the short repeated ones (counts, releases),
# and keeps peak memory level however long the session (the benchmark measures it).
MEMORY_BUDGET_BYTES = 4 << 20
STALE_TEMPORARY_S = 600  # a temporary this old was left by a killed process
PRIVATE_DIR = 0o700


class SpeechCache:
    """``audio(text)``: the trimmed speech for ``text``; ``samples(text)``: its length."""

    def __init__(self, synthesizer, directory: Path | None = None):
        self.synthesizer = synthesizer
        self.sample_rate = synthesizer.sample_rate
        self.directory = Path(directory) if directory else cache_dir() / "speech"
        _private_dir(self.directory)
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
        if text in self._memory:
            self._memory.move_to_end(text)
            return self._memory[text]
        path = self.path_for(text)
        entry = _read_entry(path, self.sample_rate)
        if entry is None or (text in self._digests and entry[1] != self._digests[text]):
            entry = self._remake(text, path)
        audio, digest = entry
        self._digests.setdefault(text, digest)
        self._lengths.setdefault(text, len(audio))
        self._remember(text, audio)
        return audio

    def prefetch(self, texts: Iterable[str], progress: Callable[[int, int], None] | None = None) -> None:
        """Make sure every text is cached (and measured) before scheduling."""
        texts = list(texts)
        for done, text in enumerate(texts, 1):
            self.samples(text)
            if progress:
                progress(done, len(texts))

    def _remake(self, text: str, path: Path) -> tuple[Audio, bytes]:
        """Synthesize ``text`` and publish it, or adopt the version another process published."""
        if text in self._digests:
            # We planned with a version that is gone (the cache was cleared or damaged
            # mid-session); a new synthesis may differ by a few samples, so it must match.
            audio = self._synthesize(text)
            if _digest(audio) != self._digests[text]:
                raise EngineError(f"the cached speech for {text[:40]!r} changed during the session "
                                  f"({path}); run the command again")
            return audio, self._digests[text]
        _publish(path, self._synthesize(text))
        entry = _read_entry(path, self.sample_rate)
        if entry is None:
            raise EngineError(f"the speech cache entry {path} cannot be read back after writing it")
        return entry

    def _synthesize(self, text: str) -> Audio:
        audio = self.synthesizer.synthesize(text)
        if audio.sample_rate != self.sample_rate:
            audio = audio.resampled(self.sample_rate)
        self.synthesized += 1
        return audio.trimmed()

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
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < _HEADER.size:
        return None
    magic, rate, count, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if magic != _MAGIC or rate != sample_rate or len(payload) != 2 * count:
        return None
    if hashlib.sha256(payload).digest() != digest:
        return None
    return Audio(np.frombuffer(payload, dtype="<i2"), rate), digest


def _publish(path: Path, audio: Audio) -> None:
    """Write ``audio`` at ``path`` unless a valid entry is already there (first one wins).

    The entry is written whole to a private temporary first, so no reader ever sees half
    of one; a damaged entry in the way is replaced.
    """
    payload = audio.samples.astype("<i2").tobytes()
    header = _HEADER.pack(_MAGIC, audio.sample_rate, len(audio), hashlib.sha256(payload).digest())
    _private_dir(path.parent)
    _remove_stale_temporaries(path.parent)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pcm")  # 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(header + payload)
        try:
            os.link(temporary, path)  # atomic, and fails if another process got there first
        except FileExistsError:
            if _read_entry(path, audio.sample_rate) is None:
                os.replace(temporary, path)  # the entry in the way is damaged
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
