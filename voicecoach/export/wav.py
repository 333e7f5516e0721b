"""WAV writing: 16-bit mono PCM, the exact length announced in the header up front."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Iterable

import numpy as np

from ..plan.model import Timeline


def write_wav(path: Path, chunks: Iterable[np.ndarray], timeline: Timeline) -> None:
    """16-bit mono PCM WAV; the header announces the exact length before the samples."""
    with open(path, "wb") as handle, wave.open(handle, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(timeline.sample_rate)
        writer.setnframes(timeline.total)
        for chunk in chunks:
            writer.writeframesraw(chunk.astype("<i2").tobytes())

