"""Hands-free live sessions, for real: ``voicecoach play --listen`` in a subprocess on a
private PulseAudio server whose default source is the monitor of a second null sink (the
"microphone"). Commands spoken by another voice (espeak-ng's en-us+f1; the coach is
en-us) are played into it with paplay while the session's output is recorded; the coach
looped back into the microphone never commands it; media buttons through a private
dbus-daemon with playerctl."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import bench_spoken as bench  # noqa: E402
from pulse_server import MICROPHONE, SAMPLE_RATE, SINK, bursts  # noqa: E402

from voicecoach.plan.phrases import load_phrases
from voicecoach.session.prepare import prepare

pytestmark = pytest.mark.skipif(not (shutil.which("pulseaudio") and shutil.which("parec")
                                     and shutil.which("paplay") and shutil.which("espeak-ng")),
                                reason="needs pulseaudio, parec, paplay and espeak-ng")
pytest.importorskip("pocketsphinx")

ROUTINE = """title: Voice test
intro: Hello.
exercises:
  - name: One
    cue: Lie still.
    hold: 8s
  - name: Two
    cue: Breathe in.
    hold: 8s
"""
# Every line the coach says is a command word, or holds one.
COMMAND_WORDS = """title: Words
intro: If anything hurts, stop.
outro: Stop.
exercises:
  - name: Next
    cue: Next. Pause.
    hold: 1s
    release: Back. Continue.
"""
PHRASES = load_phrases("en")
COUNT_IN = PHRASES.say("count_in")
QUESTION = PHRASES.say("check_in") + " " + PHRASES.say("check_in_spoken")
QUIET = 200  # |sample| below this is silence in the recording


@pytest.fixture(scope="module")
def pulse(microphone_pulse):
    """Here the server is the one with a microphone (conftest)."""
    return microphone_pulse


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The routines and one speech cache (speech made once), with the count-in's length."""
    folder = tmp_path_factory.mktemp("spoken")
    (folder / "voice.yaml").write_text(ROUTINE)
    (folder / "words.yaml").write_text(COMMAND_WORDS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOICECOACH_CACHE_DIR", str(folder / "cache"))
        session = prepare(str(folder / "voice.yaml"), engine="espeak")
        count_in_s = len(session.speech.audio(COUNT_IN)) / session.sample_rate
        question_s = len(session.speech.audio(QUESTION)) / session.sample_rate
    return folder, count_in_s, question_s


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    """The commands as WAVs, in a voice other than the coach's."""
    folder = tmp_path_factory.mktemp("words")
    return {word: bench.write_wav(folder / f"{word}.wav",
                                  np.concatenate([bench.say(word, "en-us+f1"), np.zeros(4000, "<i2")]))
            for word in ("pause", "continue", "next", "stop", "better")}


class Live:
    """A ``voicecoach play`` subprocess whose output lines are read as they come."""

    def __init__(self, args, env):
        self.process = subprocess.Popen([sys.executable, "-m", "voicecoach", "play", *args, "--engine", "espeak"],
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put((time.monotonic(), None))

    def wait_line(self, pattern: str, timeout_s: float = 15.0) -> float:
        """When a line matching ``pattern`` appeared (waiting for it)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; seen: {self.seen}") from None
            if line is None:
                raise AssertionError(f"ended before {pattern!r}; seen: {self.seen}; "
                                     f"stderr: {self.process.stderr.read()}")
            self.seen.append((at, line))
            if re.search(pattern, line):
                return at

    def finish(self, timeout_s: float = 30.0) -> tuple[int, str]:
        self.process.wait(timeout=timeout_s)
        while (item := self.lines.get(timeout=5))[1] is not None:
            self.seen.append(item)
        return self.process.returncode, self.process.stderr.read()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _env(pulse, shared, bus=None) -> dict:
    env = pulse.env() if bus is None else bus.env(pulse.env())
    env["VOICECOACH_CACHE_DIR"] = str(shared[0] / "cache")
    if bus is None:
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return env


def _loud_after(samples: np.ndarray, t0: float, after_s: float) -> float | None:
    """The first loud instant at or after ``after_s`` in a recording started at ``t0``."""
    first = max(0, round((after_s - t0) * SAMPLE_RATE))
    loud = np.flatnonzero(np.abs(samples[first:].astype(np.int32)) > QUIET)
    return t0 + (first + loud[0]) / SAMPLE_RATE if loud.size else None


def test_pause_continue_next_and_stop_said_into_the_microphone(pulse, shared, words, tmp_path):
    live = Live([str(shared[0] / "voice.yaml"), "--listen", "--lead-in", "0.3"], _env(pulse, shared))
    try:
        with pulse.record() as recording:
            t0 = time.monotonic()
            live.wait_line(r"Introduction: Hello\.")
            bench.wake_microphone(pulse)  # the session's recorder listens: low latency from now
            live.wait_line(r"One: hold")  # 5 s of silence before the counting
            time.sleep(0.5)
            _, said_pause = bench.play(pulse, words["pause"])
            live.wait_line(r'^Heard "pause"\.$', 3.0)  # what was heard, then what it did
            paused_at = live.wait_line(r"One: paused", 3.0)
            time.sleep(2.0)
            _, said_continue = bench.play(pulse, words["continue"])
            live.wait_line(r"One: hold", 4.0)  # after the count-in, the hold goes on
            time.sleep(0.8)
            _, said_next = bench.play(pulse, words["next"])
            live.wait_line(r'^Heard "next"\.$', 3.0)
            live.wait_line(r"Two: Next exercise: Two", 3.0)
            live.wait_line(r"Two: hold", 8.0)
            time.sleep(0.5)
            bench.play(pulse, words["stop"])
            code, err = live.finish(10.0)
    finally:
        live.kill()
    assert code == 0, err
    assert live.seen[-1][1].startswith("Stopped at Two. To continue from there: voicecoach play ")
    assert "Voice control is off" not in err and "Warning" not in err
    samples = recording.samples()
    # pause: quiet from the word on (a second of margin for the hold's own silence), the
    # count-in only after "continue", and as long as the count-in is
    assert paused_at - said_pause < 1.5
    start = round((said_pause + 0.2 - t0) * SAMPLE_RATE)
    resumed = _loud_after(samples, t0, said_pause + 0.2)
    assert resumed is not None and said_continue - 0.5 < resumed < said_continue + 1.5, (resumed, said_continue)
    assert np.abs(samples[start: round((said_continue - 0.6 - t0) * SAMPLE_RATE)]).max() < QUIET
    after = bursts(samples[round((resumed - t0 - 0.05) * SAMPLE_RATE):], round(0.45 * SAMPLE_RATE), QUIET)
    # the count-in's own pauses may pass 0.45 s; the cue it leads into is 0.5 s after its end
    count_in = [b for b in after if b[0] < (shared[1] + 0.25) * SAMPLE_RATE]
    assert (count_in[-1][1] - count_in[0][0]) / SAMPLE_RATE == pytest.approx(shared[1], abs=0.15)
    # next: the next exercise's announcement within a second or so of the word
    announced = _loud_after(samples, t0, said_next + 0.1)
    assert announced is not None and announced - said_next < 1.8


def test_the_coach_saying_command_words_through_the_microphone_never_commands_it(pulse, shared, words, tmp_path):
    """Its own output looped back into the microphone: the session plays to its end, its
    check-in question ("Or say better, same, or worse.") too; then "better", said, answers it."""
    routine = str(shared[0] / "words.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOICECOACH_CACHE_DIR", str(shared[0] / "cache"))
        total_s = prepare(routine, engine="espeak").timeline.total_s
    module = pulse.pactl("load-module", "module-loopback", f"source={SINK}.monitor", f"sink={MICROPHONE}",
                         "latency_msec=30").stdout.strip()
    env = _env(pulse, shared)
    heard = tmp_path / "microphone.raw"  # what the microphone got: the loop must carry the coach
    microphone = subprocess.Popen(["parec", "--raw", f"--device={MICROPHONE}.monitor", "--format=s16le",
                                   f"--rate={SAMPLE_RATE}", "--channels=1", str(heard)], env=pulse.env())
    live = Live([routine, "--listen", "--lead-in", "0.3"], env)
    try:
        started = live.wait_line(r"Introduction: If anything hurts, stop\.")
        bench.wake_microphone(pulse)
        asked = live.wait_line(r"How does your back feel", total_s + 10)
        finished = time.monotonic()
        time.sleep(max(0.0, asked + shared[2] + 1.2 - time.monotonic()))  # its words are muted
        bench.play(pulse, words["better"])
        ended = live.wait_line(r"^Session complete: Words\.$", 4.0)
        code, err = live.finish(10.0)
    finally:
        live.kill()
        pulse.pactl("unload-module", module)
        microphone.terminate()
        microphone.wait()
    assert code == 0, err
    said = [line for _, line in live.seen]
    assert not any("paused" in line for line in said), said
    shown = [line.split("  ", 1)[1].split(":")[0] for line in said if re.match(r"\s*\d+:\d\d  ", line)]
    chapters = [c for i, c in enumerate(shown) if i == 0 or c != shown[i - 1]]
    assert chapters == ["Introduction", "Next", "Finish"], said  # never skipped, nor back
    assert finished - started > total_s - 0.5  # the whole session
    recorded = np.fromfile(heard, "<i2")
    assert len(recorded) > total_s * SAMPLE_RATE * 0.8 and np.abs(recorded).max() > 5000  # the coach, loud
    history = subprocess.run([sys.executable, "-m", "voicecoach", "history", routine, "--json"], env=env,
                             capture_output=True, text=True, timeout=30)
    (session,) = json.loads(history.stdout)
    assert (session["outcome"], session["felt"]) == ("completed", "better")


@pytest.mark.skipif(not (shutil.which("dbus-daemon") and shutil.which("playerctl")),
                    reason="needs dbus-daemon and playerctl")
def test_media_buttons_pause_resume_skip_and_stop_a_running_session(pulse, shared):
    from dbus_session import SessionBus
    with SessionBus() as bus:
        env = _env(pulse, shared, bus)

        def playerctl(*args: str) -> str:
            return subprocess.run(["playerctl", "-p", "voicecoach", *args], env=env, capture_output=True,
                                  text=True, timeout=10, check=True).stdout.strip()
        live = Live([str(shared[0] / "voice.yaml"), "--lead-in", "0.3"], env)
        try:
            with pulse.record() as recording:
                t0 = time.monotonic()
                live.wait_line(r"One: hold")
                assert playerctl("status") == "Playing"
                assert playerctl("metadata", "--format", "{{xesam:title}}|{{xesam:album}}") == "One|Voice test"
                pressed = time.monotonic()
                playerctl("pause")
                live.wait_line(r"One: paused", 2.0)
                assert playerctl("status") == "Paused"
                time.sleep(1.0)
                resumed = time.monotonic()
                playerctl("play")
                live.wait_line(r"One: hold", 5.0)
                assert playerctl("status") == "Playing"
                playerctl("next")
                live.wait_line(r"Two: Next exercise: Two", 2.0)
                time.sleep(0.3)
                assert playerctl("metadata", "--format", "{{xesam:title}}") == "Two"
                playerctl("stop")
                code, err = live.finish(10.0)
        finally:
            live.kill()
    assert code == 0, err
    assert "Media buttons" not in err  # they were on, and the intro said so
    intro = [line for _, line in live.seen if "Introduction: " in line]  # a line per sentence
    assert intro[0].endswith("Introduction: Hello.")
    assert intro[1].endswith("Introduction: Media keys and headset buttons pause and skip.")
    assert live.seen[-1][1].startswith("Stopped at Two. To continue from there: ")
    samples = recording.samples()
    quiet = samples[round((pressed + 0.3 - t0) * SAMPLE_RATE): round((resumed - t0) * SAMPLE_RATE)]
    assert len(quiet) > 0.5 * SAMPLE_RATE and np.abs(quiet).max() < QUIET  # paused: silence
    count_in = _loud_after(samples, t0, resumed)
    assert count_in is not None and count_in - resumed < 0.5  # Play: the count-in at once


def test_without_a_session_bus_one_line_says_the_buttons_are_off(pulse, shared):
    live = Live([str(shared[0] / "voice.yaml"), "--lead-in", "0"], _env(pulse, shared))
    try:
        live.wait_line(r"Introduction")
        live.process.terminate()
        code, err = live.finish(10.0)
    finally:
        live.kill()
    assert code == 128 + 15
    assert [line for line in err.splitlines() if line.startswith("Media")] == \
        ["Media buttons: no D-Bus session bus, so they are off."]
    assert live.seen[0][1].endswith("Introduction: Hello.")  # nor does the intro promise them
