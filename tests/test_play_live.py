"""``voicecoach play`` for real: real espeak-ng speech, a real PulseAudio server (private,
with a null sink) reached through ALSA, the sink's monitor recorded with parecord.

The recordings are compared with the renderer's output: every sound must be there, bit
for bit, at its planned time. Onsets are taken relative to the first one, so a constant
output latency cancels. Tolerance: ``ONSET_TOLERANCE_MS`` (25 ms). On an idle machine the
errors are a few milliseconds (see scripts/bench.py); the margin is for a loaded 2-core
CI machine, where a stream can start a little late, and it is still far below what a
listener could notice or what a drifting player would show after a few cues.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.session.prepare import prepare

from support import requires_espeak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pulse_server import TAP_LATENCY_MS, PulseServer, bursts, match_bursts, onset_errors_ms  # noqa: E402
from voicecoach.plan.phrases import load_phrases

COUNT_IN = load_phrases("en").say("count_in")

pytestmark = [requires_espeak, pytest.mark.real, pytest.mark.audio,
              pytest.mark.skipif(shutil.which("pulseaudio") is None and not os.environ.get("CI"),
                                 reason="PulseAudio is not installed (CI installs it)")]

ONSET_TOLERANCE_MS = 25.0
RATE = 22_050
ROUTINE = """
title: Live test
intro: Hello.
outro: Done.
exercises:
  - name: Reach
    cue: Reach up.
    hold: 3s
    release: Relax.
  - name: Bend
    cue: Bend down.
    hold: 2s
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The routine, and a speech cache shared by the module (speech made once)."""
    folder = tmp_path_factory.mktemp("live")
    (folder / "live.yaml").write_text(ROUTINE)
    return folder


@pytest.fixture(scope="module")
def reference(shared):
    """The renderer's output for the routine, and the count-in, from the shared cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOICECOACH_CACHE_DIR", str(shared / "cache"))
        session = prepare(str(shared / "live.yaml"), engine="espeak")
        count_in = session.speech.audio(COUNT_IN).samples
    return session, np.concatenate(list(session.chunks())), count_in


def _env(pulse, shared) -> dict:
    env = pulse.env()  # the per-test state folder comes from conftest's user_dirs
    env["VOICECOACH_CACHE_DIR"] = str(shared / "cache")
    env.pop("COLUMNS", None)
    return env


def _play(args, env, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "voicecoach", "play", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, **kwargs)


def test_every_cue_is_heard_exactly_and_on_time(pulse, shared, reference):
    session, rendered, _ = reference
    with pulse.record() as recording:
        process = _play([str(shared / "live.yaml"), "--lead-in", "0.3"], _env(pulse, shared))
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    # only the info lines: which voice speaks, and that media buttons are off (no session bus here)
    assert _errors(err) == []
    assert out.splitlines()[-1] == "Session complete: Live test."
    matched = match_bursts(recording.samples(), rendered)
    errors = onset_errors_ms(matched)
    print(f"\n{len(matched)} onsets: error median {np.median(np.abs(errors)):.2f} ms, "
          f"p95 {np.percentile(np.abs(errors), 95):.2f} ms, max {np.abs(errors).max():.2f} ms")
    assert len(matched) >= 14
    assert np.abs(errors).max() <= ONSET_TOLERANCE_MS, np.round(errors, 1).tolist()
    # Bit for bit the renderer's samples; only the monitor may miss a stream's first few
    # milliseconds (it had passed them on, at most one mixing block, before the sink
    # rewound to mix the new stream in from its first sample).
    assert [b.mismatched for b in matched] == [0] * len(matched)
    assert max(b.clipped for b in matched) <= (TAP_LATENCY_MS + 10) / 1000 * RATE


def _identify(recorded: np.ndarray, rendered: np.ndarray, count_in: np.ndarray) -> list[tuple]:
    """Each piece of sound heard as ``(source, position, heard_begin, heard_end)``: which
    reference it came from ("timeline" or "count-in") and the position there of its first
    sample heard; heard positions in samples of the recording.

    A piece is found by its loudest 200 samples, which must occur exactly in a reference;
    where they occur more than once (espeak says "Three" alike in the count-in and in a
    hold), the place matching most of the piece wins.
    """
    found = []
    for begin, end in bursts(recorded, round(0.05 * RATE), threshold=100):
        sound = recorded[begin:end]
        probe_at = max(0, min(int(np.argmax(np.abs(sound.astype(np.int32)))) - 100, len(sound) - 200))
        probe = sound[probe_at: probe_at + 200]
        options = [("count-in", count_in, at) for at in _find_all(count_in, probe)] + \
                  [("timeline", rendered, at) for at in _find_all(rendered, probe)]
        assert options, f"a sound at {begin / RATE:.2f} s is not in the renderer's output"
        source, reference, at = max(options, key=lambda o: _agreement(sound, probe_at, o[1], o[2]))
        found.append((source, at - probe_at, begin, end))
    return found


def _find_all(haystack: np.ndarray, probe: np.ndarray) -> list[int]:
    candidates = np.flatnonzero(haystack[: len(haystack) - len(probe) + 1] == probe[0])
    return [int(c) for c in candidates if np.array_equal(haystack[c: c + len(probe)], probe)]


def _agreement(sound: np.ndarray, probe_at: int, reference: np.ndarray, at: int) -> int:
    """How many samples of ``sound`` equal ``reference`` when its probe sits at ``at``."""
    offset = at - probe_at
    first, last = max(0, -offset), min(len(sound), len(reference) - offset)
    return int(np.count_nonzero(sound[first:last] == reference[first + offset: last + offset]))


def _errors(stderr: str) -> list[str]:
    """stderr less its info lines (which voice speaks; media buttons off without a bus)."""
    return [line for line in stderr.splitlines() if not line.startswith(("Voice: ", "Media buttons: "))]


def _chapter_start(session, title: str) -> int:
    return next(c.start for c in session.timeline.chapters if c.title == title)


def test_keys_in_a_terminal_pause_skip_stop_and_resume(pulse, shared, reference, user_dirs):
    pexpect = pytest.importorskip("pexpect")
    session, rendered, count_in = reference
    routine = str(shared / "live.yaml")
    env = _env(pulse, shared)
    with pulse.record() as recording:
        child = pexpect.spawn(sys.executable, ["-m", "voicecoach", "play", routine, "--lead-in", "0.3"],
                              env=env, dimensions=(30, 90), encoding="utf-8", timeout=30)
        child.expect("Hold")          # Reach's hold has begun (its cue has just been said)
        child.send(" ")
        child.expect("Paused")
        _idle(child, 1.2)
        child.send(" ")
        child.expect("Get ready")     # "Get ready. Three, two, one." is being said
        child.expect("Hold")          # and the hold goes on
        _idle(child, 1.0)
        child.send("n")               # on to Bend
        child.expect("BEND")
        _idle(child, 1.0)
        child.send("p")               # back to Reach
        child.expect("REACH")
        _idle(child, 1.0)
        child.send("q")
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0
    assert f"Stopped at Reach. To continue from there: voicecoach play {routine} --resume" in child.before
    heard = _identify(recording.samples(), rendered, count_in)
    reach, bend = _chapter_start(session, "Reach"), _chapter_start(session, "Bend")
    hold = next(e for e in session.timeline.events if e.kind == "hold")
    relax = next(e for e in session.timeline.events if e.text == "Relax.")
    near = (TAP_LATENCY_MS + 10) / 1000 * RATE  # the monitor may miss a stream's first milliseconds
    timeline = [(position, begin, end) for source, position, begin, end in heard if source == "timeline"]

    # Pause: what was heard last reaches the start of the hold (the cue ends where the hold
    # begins; a count word too close to it is left out) and stops within 0.45 s of it; a
    # silence of about the 1.2 s waited; the count-in; then the hold goes on where it was.
    counted = [i for i, piece in enumerate(heard) if piece[0] == "count-in"]
    assert counted and counted == list(range(counted[0], counted[-1] + 1))
    _, cut, cut_begin, cut_end = heard[counted[0] - 1]
    assert cut <= hold.start <= cut + (cut_end - cut_begin) < hold.start + 0.45 * RATE
    assert heard[counted[0]][2] - cut_end >= 0.8 * RATE
    source, resumed, begin, _ = heard[counted[-1] + 1]
    # paused in the hold's silence, it goes on where it was: the next sound is the hold's
    assert source == "timeline" and hold.start <= resumed < hold.end
    assert begin - heard[counted[-1]][3] >= 0.4 * RATE  # the count-in's 0.5 s pause
    # n: from inside Reach's hold straight to Bend ("Relax." is never heard);
    # p: from Bend back to the start of Reach.
    after = [position for position, begin, _ in timeline if begin > heard[counted[-1]][3]]
    to_bend = next(i for i, position in enumerate(after) if 0 <= position - bend <= near)
    assert all(position < hold.end for position in after[:to_bend])
    assert not any(p <= relax.start < p + (e - b) for p, b, e in timeline)
    assert any(0 <= position - reach <= near for position in after[to_bend + 1:])

    # --resume continues from the start of Reach; SIGTERM stops it and keeps the place.
    with pulse.record() as again:
        process = _play([routine, "--resume", "--lead-in", "0.2"], env)
        _wait_for_sound(again, timeout_s=15)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert (process.returncode, _errors(err)) == (128 + signal.SIGTERM, [])
    lines = out.splitlines()
    assert lines[0] == "Resuming at Reach."
    assert lines[-1] == f"Stopped at Reach. To continue from there: voicecoach play {routine} --resume"
    source, position, _, _ = _identify(again.samples(), rendered, count_in)[0]
    assert source == "timeline" and 0 <= position - reach <= near


def _idle(child, seconds: float) -> None:
    """Wait while reading the screen, as a terminal does (an unread pty would fill up)."""
    import pexpect
    child.expect(pexpect.TIMEOUT, timeout=seconds)


def _wait_for_sound(recording, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if np.abs(recording.samples().astype(np.int32)).max(initial=0) > 100:
            return
        time.sleep(0.05)
    raise AssertionError("nothing was heard")


def test_no_sound_device_is_one_clear_line(tmp_path, shared):
    config = tmp_path / "asound.conf"
    config.write_text("")  # ALSA with no device at all, and no PulseAudio server to find
    env = dict(os.environ, ALSA_CONFIG_PATH=str(config), PULSE_SERVER=f"unix:{tmp_path}/none")
    process = _play(["back-pain"], env)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1 and out == ""
    assert err == ("Error: no sound device could be opened (ALSA: no such file or directory); to listen "
                   "without one, export the session: voicecoach export back-pain -o session.mp3 "
                   "--engine espeak\n")  # the tests' settings say engine: espeak; the default is auto


def test_the_audio_server_dying_mid_session_keeps_the_place(shared, user_dirs):
    routine = str(shared / "live.yaml")
    with PulseServer() as doomed:
        env = _env(doomed, shared)
        with doomed.record() as recording:
            process = _play([routine, "--lead-in", "0.2"], env)
            _wait_for_sound(recording, timeout_s=15)
            time.sleep(1.5)  # into Reach's announcement
            doomed.kill()
            out, err = process.communicate(timeout=15)
    assert process.returncode == 1
    errors = _errors(err)
    assert len(errors) == 1  # one line, after the info lines
    assert errors[0].startswith("Error: the audio server stopped during the session")
    assert errors[0].endswith(f"; your place is kept: voicecoach play {routine} --resume")
    state = (user_dirs / "state" / "places.json").read_text()
    assert '"title": "Reach"' in state


def test_missing_speech_engine_names_the_install_command(pulse, tmp_path):
    # pyttsx3 made unimportable, exactly as when it is not installed.
    code = ("import sys, importlib.abc\n"
            "class Missing(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.split('.')[0] == 'pyttsx3': raise ModuleNotFoundError(f'No module named {name!r}')\n"
            "sys.meta_path.insert(0, Missing())\n"
            "sys.argv = ['voicecoach', 'play', 'back-pain']\n"
            "from voicecoach.cli import main; main()\n")
    env = pulse.env()
    env["VOICECOACH_CACHE_DIR"] = str(tmp_path / "empty-cache")  # nothing cached: speech is needed
    process = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert process.returncode == 1 and process.stdout == ""
    assert process.stderr.startswith("Error: ") and process.stderr.count("\n") == 1
    assert process.stderr.endswith("; install it with: sudo apt-get install espeak-ng && pip install pyttsx3\n")
