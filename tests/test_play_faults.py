"""``voicecoach play`` stopped from outside, for real: a process signalled at small delays
after it starts, and a reader that goes away (``| head``). A private PulseAudio server (a
null sink) is the sound device."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import requires_espeak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pulse_server import PulseServer  # noqa: E402

pytestmark = [requires_espeak, pytest.mark.real, pytest.mark.audio,
              pytest.mark.skipif(shutil.which("pulseaudio") is None and not os.environ.get("CI"),
                                 reason="PulseAudio is not installed (CI installs it)")]

ROUTINE = """title: Faults
intro: Hello there.
exercises:
  - name: One
    cue: Lie still.
    hold: 30s
  - name: Two
    cue: Breathe in.
    hold: 30s
"""


@pytest.fixture(scope="module")
def pulse():
    with PulseServer() as server:
        yield server


@pytest.fixture
def routine(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text(ROUTINE)
    return path


def _env(pulse) -> dict:
    env = pulse.env()
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return env


def _play(routine, env, **streams) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "voicecoach", "play", str(routine), "--engine", "espeak",
                             "--lead-in", "0"], env=env, stdin=subprocess.DEVNULL, **streams)


def _startup_s() -> float:
    """How long the interpreter takes to start before any of our code runs (its site
    packages, the editable install's finder): a signal before that is Python's, not ours."""
    took = []
    for _ in range(3):
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        took.append(time.monotonic() - began)
    return 1.2 * max(took)  # with a margin: the machine's load varies from one start to the next


def test_ctrl_c_at_any_moment_of_the_start_is_stopped_and_130(pulse, routine):
    startup_s = _startup_s()
    for delay_s in (0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.5):
        process = _play(routine, _env(pulse), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(startup_s + delay_s)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay_s, err)
        assert process.returncode == 130, (delay_s, process.returncode, err)
        # before the session plays: "Stopped." on stderr; once it plays, where it stopped on stdout
        stopped = err.strip().splitlines()[-1] == "Stopped." if err.strip() else False
        assert stopped or out.strip().splitlines()[-1].startswith("Stopped at "), (delay_s, out, err)


def test_the_reader_going_away_stops_the_session_at_once_with_its_place_kept(pulse, routine, user_dirs):
    read, write = os.pipe()
    process = _play(routine, _env(pulse), stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    with os.fdopen(read) as lines:
        first = lines.readline()
        while "One: hold" not in lines.readline():  # into a 30 s hold: no line for 30 s
            pass
    gone = time.monotonic()  # as `head` exits
    try:
        process.wait(timeout=5)
    finally:
        process.kill()
    stopped_s = time.monotonic() - gone
    assert first.strip().endswith("Introduction: Hello there.")
    assert process.returncode == 141, process.stderr.read()  # as a shell shows SIGPIPE
    assert stopped_s < 1.0
    err = process.stderr.read()
    assert "Stopped" not in err and "Traceback" not in err and "Error" not in err, err  # quietly, as SIGPIPE
    places = json.loads((user_dirs / "state" / "places.json").read_text())
    assert "One" in json.dumps(places)
