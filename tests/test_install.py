"""A real, non-editable install ships the chimes: exporting from it, outside the source
tree, works and uses its own copies of the sounds. scripts/install.sh, run again, is quick
and changes nothing (scripts/fresh-debian.sh checks it on a fresh Debian)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from support import requires_espeak

ROOT = Path(__file__).resolve().parent.parent
ROUTINE = "title: Installed\nexercises:\n  - name: Reach\n    cue: Reach up.\n    hold: 1s\n"


def _copy_of_the_source(folder: Path) -> Path:
    """Only what a build needs, so the build never writes into the working tree."""
    folder.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, folder / name)
    for package in ("voicecoach", "sounds"):
        shutil.copytree(ROOT / package, folder / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return folder


@requires_espeak
def test_a_non_editable_install_exports_with_its_own_chimes(tmp_path):
    source, target = _copy_of_the_source(tmp_path / "source"), tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(source)], check=True, capture_output=True, timeout=300)
    installed_sounds = target / "voicecoach" / "sounds"
    assert sorted(p.name for p in installed_sounds.glob("*.wav")) == ["end.wav", "hold_end.wav", "next.wav", "start.wav"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "r.yaml").write_text(ROUTINE)
    env = {**os.environ, "PYTHONPATH": str(target), "VOICECOACH_CACHE_DIR": str(tmp_path / "cache")}
    where = subprocess.run([sys.executable, "-c", "import voicecoach, voicecoach.session.chimes as c; "
                            "print(voicecoach.__file__); print(c.shipped_sound_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert where == [str(target / "voicecoach" / "__init__.py"), str(installed_sounds)]
    result = subprocess.run([str(target / "bin" / "voicecoach"), "export", "r.yaml", "-o", "r.wav"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Wrote r.wav (0:")
    with wave.open(str(elsewhere / "r.wav")) as reader:
        assert reader.getnframes() > 3 * 22050


@pytest.mark.skipif(Path(sys.prefix) != ROOT / ".venv" and not os.environ.get("CI"),
                    reason="run from the clone's .venv (the README's test command) only")
def test_installing_again_changes_nothing_and_calls_no_package_manager(tmp_path):
    """The README's commands run scripts/install.sh every time: once it has run (it made the
    .venv these tests run in), it must neither call apt-get nor reinstall, and print nothing."""
    assert Path(sys.prefix) == ROOT / ".venv", "the tests run from the clone's .venv (see the README)"
    fake = tmp_path / "bin"
    fake.mkdir()
    for tool in ("apt-get", "sudo"):
        (fake / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >>"{tmp_path / "called"}"\nexit 1\n')
        (fake / tool).chmod(0o755)
    before = sorted(p.name for p in (ROOT / ".venv").iterdir())
    done = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh")], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not (tmp_path / "called").exists(), (tmp_path / "called").read_text()
    assert sorted(p.name for p in (ROOT / ".venv").iterdir()) == before


def test_the_shipped_chimes_are_exactly_what_the_script_makes(tmp_path):
    made = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sounds.py"), str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert made.stdout.count("wrote ") == 4
    for name in ("start", "hold_end", "next", "end"):
        assert (tmp_path / f"{name}.wav").read_bytes() == (ROOT / "sounds" / f"{name}.wav").read_bytes(), name


def test_the_four_chimes_are_distinct_short_and_gentle():
    """Each has its own contour: start rises C5-G5, next falls G5-C5, hold_end is one A5,
    end climbs to C6. Told apart by the pitch they start and end on."""
    import numpy as np
    from voicecoach.audio import Audio

    def pitch_hz(samples):
        window = samples.astype(float) * np.hanning(len(samples))
        return round(np.argmax(np.abs(np.fft.rfft(window))) * 22050 / len(samples), -1)

    contours = {}
    for name in ("start", "hold_end", "next", "end"):
        chime = Audio.from_wav_bytes((ROOT / "sounds" / f"{name}.wav").read_bytes())
        assert chime.sample_rate == 22050 and 0.3 < chime.duration_s < 1.0, name
        assert 0.2 * 32767 < np.abs(chime.samples).max() < 0.5 * 32767, name  # under the voice
        contours[name] = (pitch_hz(chime.samples[:3000]), pitch_hz(chime.samples[-6000:]))
    assert contours == {"start": (520, 780), "hold_end": (880, 880), "next": (790, 520), "end": (520, 1050)}
