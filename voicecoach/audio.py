"""``Audio``: an immutable mono 16-bit PCM value: silence, tones, WAV bytes, trimming and
resampling.

numpy holds the samples. Mixing is the renderer's (render.py): it adds whole slices of
these arrays into each chunk of a session, which keeps rendering hundreds of times faster
than real time.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 22_050  # espeak-ng's and Piper's native rate: no resampling in the common case
# A sample counts as voice when louder than this (about -50 dBFS): espeak-ng's padding is
# digital silence, and breath noise in neural voices stays below it.
SILENCE_THRESHOLD = 100


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono int16 samples at ``sample_rate`` Hz. The array is read-only."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self):
        array = np.ascontiguousarray(self.samples, dtype=np.int16)
        array.setflags(write=False)
        object.__setattr__(self, "samples", array)

    def __len__(self) -> int:
        return len(self.samples)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Audio) and self.sample_rate == other.sample_rate
                and np.array_equal(self.samples, other.samples))

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @classmethod
    def silence(cls, samples: int, sample_rate: int = SAMPLE_RATE) -> "Audio":
        return cls(np.zeros(samples, dtype=np.int16), sample_rate)

    @classmethod
    def tone(cls, frequency_hz: float, duration_s: float, sample_rate: int = SAMPLE_RATE,
             volume: float = 0.5) -> "Audio":
        """A sine tone with 5 ms fades, so it starts and stops without a click."""
        n = round(duration_s * sample_rate)
        t = np.arange(n) / sample_rate
        wave_ = np.sin(2 * np.pi * frequency_hz * t) * volume
        fade = min(n // 2, round(0.005 * sample_rate))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            wave_[:fade] *= ramp
            wave_[n - fade:] *= ramp[::-1]
        return cls(np.round(wave_ * 32767).astype(np.int16), sample_rate)

    @classmethod
    def from_wav_bytes(cls, data: bytes) -> "Audio":
        """Read 16-bit PCM WAV (mono or stereo, mixed down). Raises ``ValueError`` if not."""
        try:
            with wave.open(io.BytesIO(data)) as reader:
                width, channels = reader.getsampwidth(), reader.getnchannels()
                rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
        except (wave.Error, EOFError) as error:
            raise ValueError(f"not a readable WAV file: {error}") from None
        if width != 2:
            raise ValueError(f"WAV must be 16-bit PCM, got {8 * width}-bit")
        samples = np.frombuffer(frames, dtype="<i2")
        if channels > 1:
            samples = samples[: len(samples) // channels * channels].reshape(-1, channels)
            samples = samples.mean(axis=1).round().astype(np.int16)
        return cls(samples, rate)

    def to_wav_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(self.sample_rate)
            writer.writeframes(self.samples.astype("<i2").tobytes())
        return buffer.getvalue()

    def trimmed(self, threshold: int = SILENCE_THRESHOLD) -> "Audio":
        """Without leading and trailing silence: a cue's length is where its voice stops."""
        loud = np.flatnonzero(np.abs(self.samples.astype(np.int32)) > threshold)
        if not len(loud):
            return Audio.silence(0, self.sample_rate)
        return Audio(self.samples[loud[0]: loud[-1] + 1], self.sample_rate)

    def resampled(self, sample_rate: int) -> "Audio":
        """Linear-interpolation resampling (speech only; chimes are made at the session rate)."""
        if sample_rate == self.sample_rate or not len(self):
            return Audio(self.samples, sample_rate)
        n = round(len(self) * sample_rate / self.sample_rate)
        positions = np.linspace(0, len(self) - 1, n)
        values = np.interp(positions, np.arange(len(self)), self.samples.astype(np.float64))
        return Audio(np.round(values).astype(np.int16), sample_rate)
