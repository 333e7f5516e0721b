"""``Audio``: the PCM value type. Test signals are built from known samples by code."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from voicecoach.audio import SAMPLE_RATE, SILENCE_THRESHOLD, Audio


def _wav(samples: np.ndarray, channels: int = 1, width: int = 2, rate: int = SAMPLE_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue()


def test_silence_has_the_length_asked_for_and_is_silent():
    audio = Audio.silence(1234)
    assert len(audio) == 1234 and not audio.samples.any()
    assert audio.duration_s == pytest.approx(1234 / SAMPLE_RATE)


def test_samples_are_read_only_int16():
    audio = Audio(np.array([1, 2, 3], dtype=np.int64))
    assert audio.samples.dtype == np.int16
    with pytest.raises(ValueError):
        audio.samples[0] = 5


def test_tone_has_its_length_and_starts_and_ends_without_a_click():
    tone = Audio.tone(440, 0.5, volume=0.5)
    assert len(tone) == round(0.5 * SAMPLE_RATE)
    assert abs(int(tone.samples[0])) < 50 and abs(int(tone.samples[-1])) < 50
    assert np.abs(tone.samples).max() == pytest.approx(0.5 * 32767, rel=0.01)


def test_wav_round_trip_keeps_every_sample():
    samples = np.array([0, 1, -1, 32767, -32768, 1000], dtype=np.int16)
    audio = Audio(samples, 16000)
    back = Audio.from_wav_bytes(audio.to_wav_bytes())
    assert back == audio and back.sample_rate == 16000


def test_stereo_wav_is_mixed_down_to_mono():
    frames = np.array([[100, 300], [-200, -400]], dtype="<i2")
    audio = Audio.from_wav_bytes(_wav(frames.reshape(-1), channels=2))
    assert audio.samples.tolist() == [200, -300]


@pytest.mark.parametrize("data, reason", [(b"not a wav", "not a readable WAV"),
                                          (_wav(np.zeros(4, np.uint8), width=1), "must be 16-bit")])
def test_unreadable_or_8_bit_wav_is_refused_with_the_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        Audio.from_wav_bytes(data)


def test_trimmed_keeps_exactly_the_loud_part():
    samples = np.zeros(100, np.int16)
    samples[10] = SILENCE_THRESHOLD + 1
    samples[50] = -(SILENCE_THRESHOLD + 1)
    samples[60] = SILENCE_THRESHOLD  # not louder than the threshold: silence
    trimmed = Audio(samples).trimmed()
    assert len(trimmed) == 41
    assert trimmed.samples[0] == SILENCE_THRESHOLD + 1 and trimmed.samples[-1] == -(SILENCE_THRESHOLD + 1)


def test_trimming_silence_leaves_nothing():
    assert len(Audio.silence(500).trimmed()) == 0


def test_resampled_changes_length_by_the_rate_ratio():
    audio = Audio.tone(200, 1.0, sample_rate=16000)
    resampled = audio.resampled(SAMPLE_RATE)
    assert resampled.sample_rate == SAMPLE_RATE and len(resampled) == SAMPLE_RATE
    assert audio.resampled(16000) == audio
