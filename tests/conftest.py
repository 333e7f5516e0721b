"""Shared fixtures. Unit tests use ``FakeSynthesizer``: no sound card, no TTS engine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import SAMPLE_RATE, Audio

pytest_plugins = ["home_guard"]  # a private HOME for every test, and a check that it held

PAD_S = 0.4  # like espeak-ng, the fake pads its speech with silence that must be trimmed


class FakeSynthesizer:
    """Speech as a tone whose length depends on the text and the rate, and a log of calls.

    At ``rate`` words per minute a text lasts ``60 * words / rate`` seconds (at least 0.1 s),
    followed by ``PAD_S`` of silence, as espeak-ng's output is.
    """

    sample_rate = SAMPLE_RATE

    def __init__(self, rate: int = 140, fail_on: str | None = None):
        self.rate = rate
        self.identity = f"fake:{rate}"
        self.calls: list[str] = []
        self.fail_on = fail_on

    @staticmethod
    def spoken_samples(text: str, rate: int = 140) -> int:
        return round(max(0.1, 60 * len(text.split()) / rate) * SAMPLE_RATE)

    def synthesize(self, text: str) -> Audio:
        from voicecoach.errors import EngineError
        if self.fail_on and self.fail_on in text:
            raise EngineError(f"fake engine failed on {text!r}")
        self.calls.append(text)
        n = self.spoken_samples(text, self.rate)
        voice = (np.sin(np.arange(n) * 2 * np.pi * 220 / SAMPLE_RATE) * 8000).astype(np.int16)
        voice[0] = voice[-1] = 4000  # loud first and last samples: trimming must keep them
        return Audio(np.concatenate([voice, np.zeros(round(PAD_S * SAMPLE_RATE), np.int16)]))


REPO = Path(__file__).resolve().parent.parent


TEST_DATA = REPO / "tests" / "data"  # what each file is and where it comes from: its README.md
# Real exercise texts: name and instructions of free-exercise-db's 873 exercises (public domain).
EXERCISE_TEXTS = TEST_DATA / "free-exercise-db-texts.json"


@pytest.fixture(scope="session")
def espeak_settings(tmp_path_factory):
    """A settings folder saying ``engine: espeak`` (outside every test's own tmp_path)."""
    folder = tmp_path_factory.mktemp("settings")
    (folder / "config.yaml").write_text("engine: espeak\n")
    return folder


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch, espeak_settings):
    """Every test gets its own empty cache, state and data folders."""
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VOICECOACH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    # The default engine is auto (Piper where installed, as in CI). Tests speak with espeak-ng,
    # the fast engine every install has, unless they ask for another; tests/test_config.py
    # points this at a folder of its own.
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(espeak_settings))
    return tmp_path


@pytest.fixture
def fake_synth():
    return FakeSynthesizer()


# Real-engine tests skip on a developer machine without espeak-ng, but never in CI, where
# scripts/install.sh installs it: there a missing engine must fail, not quietly skip.
requires_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None and not os.environ.get("CI"),
                                     reason="espeak-ng is not installed (CI installs it)")


# ffmpeg-backed tests (Ogg/Opus, M4A) skip without it, except in CI, which installs it.
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None and not os.environ.get("CI"),
                                  reason="ffmpeg is not installed (CI installs it)")


def cli_runner():
    """A CliRunner that keeps stdout and stderr apart, on every click version."""
    from click.testing import CliRunner
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps them apart anyway
        return CliRunner()
