"""A content-addressed cache of trimmed speech, on disk and (bounded) in memory.

Key: sha256 of the synthesizer's identity (engine, version, voice, rate) and the text.
Each entry stores the trimmed samples with their own sha256, so a corrupt or truncated
entry is detected on read and simply made again. Entries are written to a temporary file
and renamed into place, so two processes filling the same entry never see half of one.
Because ``plan``, ``play`` and ``export`` all read lengths from here, they agree exactly.
"""

from __future__ import annotations

import hashlib
import contextlib
import os
import struct
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..audio import Audio
from ..paths import cache_dir

_MAGIC = b"VCSPEECH1"
_HEADER = struct.Struct("<9sIQ32s")  # magic, sample rate, sample count, sha256 of samples
MEMORY_BUDGET_BYTES = 24 << 20  # recently used speech kept in memory; the rest is re-read


class SpeechCache:
    """``audio(text)``: the trimmed speech for ``text``; ``samples(text)``: its length."""

    def __init__(self, synthesizer, directory: Path | None = None):
        self.synthesizer = synthesizer
        self.sample_rate = synthesizer.sample_rate
        self.directory = Path(directory) if directory else cache_dir() / "speech"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lengths: dict[str, int] = {}
        self._memory: OrderedDict[str, Audio] = OrderedDict()
        self._memory_bytes = 0
        self.synthesized = 0  # how many texts this cache had to synthesize (for tests, bench)

    def path_for(self, text: str) -> Path:
        digest = hashlib.sha256(f"{self.synthesizer.identity}\0{text}".encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.pcm"

    def samples(self, text: str) -> int:
        if text not in self._lengths:
            self.audio(text)
        return self._lengths[text]

    def audio(self, text: str) -> Audio:
        if text in self._memory:
            self._memory.move_to_end(text)
            return self._memory[text]
        path = self.path_for(text)
        audio = _read_entry(path, self.sample_rate)
        if audio is None:
            audio = self._make(text, path)
        self._lengths[text] = len(audio)
        self._remember(text, audio)
        return audio

    def prefetch(self, texts: Iterable[str], progress: Callable[[int, int], None] | None = None) -> None:
        """Make sure every text is cached (and measured) before scheduling."""
        texts = list(texts)
        for done, text in enumerate(texts, 1):
            self.samples(text)
            if progress:
                progress(done, len(texts))

    def _make(self, text: str, path: Path) -> Audio:
        audio = self.synthesizer.synthesize(text)
        if audio.sample_rate != self.sample_rate:
            audio = audio.resampled(self.sample_rate)
        audio = audio.trimmed()
        _write_entry(path, audio)
        self.synthesized += 1
        return audio

    def _remember(self, text: str, audio: Audio) -> None:
        self._memory[text] = audio
        self._memory_bytes += audio.samples.nbytes
        while self._memory_bytes > MEMORY_BUDGET_BYTES and len(self._memory) > 1:
            _, dropped = self._memory.popitem(last=False)
            self._memory_bytes -= dropped.samples.nbytes


def _read_entry(path: Path, sample_rate: int) -> Audio | None:
    """The cached audio, or None when missing, truncated, corrupt or of another rate."""
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
    return Audio(np.frombuffer(payload, dtype="<i2"), rate)


def _write_entry(path: Path, audio: Audio) -> None:
    payload = audio.samples.astype("<i2").tobytes()
    header = _HEADER.pack(_MAGIC, audio.sample_rate, len(audio), hashlib.sha256(payload).digest())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pcm")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(header + payload)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise

