"""A real live session (espeak-ng, a private PulseAudio server, a terminal) that ends with
the check-in: the key pressed is in ``voicecoach history --json`` afterwards, and the
question was heard after the session's last sound."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import requires_espeak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pulse_server import bursts  # noqa: E402

pytestmark = [requires_espeak, pytest.mark.real, pytest.mark.audio,
              pytest.mark.skipif(shutil.which("pulseaudio") is None and not os.environ.get("CI"),
                                 reason="PulseAudio is not installed (CI installs it)")]

RATE = 22_050
ROUTINE = """
title: Check-in test
intro: Hello.
outro: Done.
exercises:
  - name: Reach
    cue: Reach up.
    reps: {start: 1, max: 3}
"""


def test_a_live_session_ends_with_a_check_in_key_that_is_recorded(tmp_path, user_dirs, recorded_session):
    pexpect = pytest.importorskip("pexpect")
    routine = tmp_path / "checkin.yaml"
    routine.write_text(ROUTINE)
    with recorded_session(routine) as (child, env, recording):
        child.expect("How does your back feel")
        child.expect(pexpect.TIMEOUT, timeout=1.0)  # the question is being said
        child.send("1")
        child.expect(pexpect.EOF)
        child.close()
    heard = bursts(recording.samples(), round(0.05 * RATE), threshold=100)
    assert child.exitstatus == 0, child.before
    assert "Session complete: Check-in test." in child.before
    listed = json.loads(subprocess.run([sys.executable, "-m", "voicecoach", "history", "--json"],
                                       env=env, capture_output=True, text=True, check=True).stdout)
    assert len(listed) == 1
    session = listed[0]
    assert (session["outcome"], session["felt"], session["source"]) == ("completed", "better", "live")
    assert session["routine"] == str(routine.resolve())
    assert session["levels"] == {"Reach": 1}
    assert 1.0 < session["length_s"] < 30.0
    # The question is heard after the session: the sound goes on past the session's end
    # (the first sound heard is the intro, at the timeline's start).
    from voicecoach.session.prepare import prepare
    total_s = prepare(str(routine), engine="espeak").timeline.total_s
    span_s = (heard[-1][1] - heard[0][0]) / RATE
    assert span_s > total_s + 0.8, (span_s, total_s)  # the answer (after 1 s) stops the question
