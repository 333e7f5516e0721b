"""The ALSA device (ctypes on libasound) on a real private PulseAudio server: what it plays
is heard bit for bit, a stop is quiet at once (the buffer dropped, not played out), and a
dead server or a missing device is told, not hung on.

Each run is a child process: ALSA reads its configuration (``ALSA_CONFIG_PATH``, aimed at
the private server) once per process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pulse_server import PulseServer, bursts, match_bursts  # noqa: E402

pytestmark = [pytest.mark.audio,
              pytest.mark.skipif(shutil.which("pulseaudio") is None and not os.environ.get("CI"),
                                 reason="PulseAudio is not installed (CI installs it)")]

RATE = 22_050
ROOT = Path(__file__).resolve().parent.parent
# After stop() at most this much more is heard: the ~0.23 s simpleaudio plays out fails it.
STOP_TOLERANCE_S = 0.1

PRELUDE = """
import json, sys, time
import numpy as np
from voicecoach.live.device import AlsaDevice
device = AlsaDevice()
samples = np.frombuffer(sys.stdin.buffer.read(), "<i2")
"""


def tone(seconds: float, hz: float = 440.0, level: int = 8000) -> np.ndarray:
    n = round(seconds * RATE)
    return (np.sin(np.arange(n) * 2 * np.pi * hz / RATE) * level).astype("<i2")


def child(env: dict, code: str, samples: np.ndarray, timeout_s: float = 30) -> dict:
    env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", PRELUDE + code], input=samples.tobytes(), env=env,
                          capture_output=True, timeout=timeout_s)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_what_is_played_is_heard_bit_for_bit(pulse):
    gap = np.zeros(RATE // 3, "<i2")
    rendered = np.concatenate([tone(0.4, 330), gap, tone(0.25, 550), gap, tone(0.6, 440)])
    with pulse.record() as recording:
        report = child(pulse.env(), """
playback = device.play(samples, 22050)
playing = playback.is_playing()
playback.wait_done()
print(json.dumps({"playing": playing, "after": playback.is_playing(), "written": playback.written}))
""", rendered)
    assert report == {"playing": True, "after": False, "written": len(rendered)}
    matched = match_bursts(recording.samples(), rendered)
    assert len(matched) == 3
    assert sum(burst.mismatched for burst in matched) == 0


def test_a_stop_is_quiet_at_once(pulse):
    with pulse.record() as recording:
        report = child(pulse.env(), """
started = time.monotonic()
playback = device.play(samples, 22050)
time.sleep(0.6)
playback.stop()
stopped = time.monotonic()
while playback.is_playing() and time.monotonic() < stopped + 2:
    time.sleep(0.001)
ended = time.monotonic()
time.sleep(0.4)
print(json.dumps({"played_s": stopped - started, "ended_s": ended - stopped}))
""", tone(3.0))
    heard = bursts(recording.samples(), min_gap=RATE // 5, threshold=100)
    assert len(heard) == 1
    heard_s = (heard[0][1] - heard[0][0]) / RATE
    # Heard: what played until stop(), less the start's latency, plus what came after it.
    assert heard_s < report["played_s"] + STOP_TOLERANCE_S
    assert heard_s > 0.5
    assert report["ended_s"] < 0.2  # the stream is closed, not left draining


def test_a_stream_that_ends_plays_out_whole(pulse):
    with pulse.record() as recording:
        child(pulse.env(), """
device.play(samples, 22050).wait_done()
print(json.dumps({}))
""", tone(0.9))
    heard = bursts(recording.samples(), min_gap=RATE // 5, threshold=100)
    assert len(heard) == 1
    assert abs((heard[0][1] - heard[0][0]) - round(0.9 * RATE)) < RATE // 50  # the clipped start


def test_a_dead_server_ends_the_stream():
    with PulseServer() as doomed:
        env = doomed.env()
        process = subprocess.Popen(
            [sys.executable, "-c", PRELUDE + """
playback = device.play(samples, 22050)
print("playing", flush=True)
sys.stdin.close()
deadline = time.monotonic() + 20
while playback.is_playing() and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps({"playing": playback.is_playing()}))
"""], env={**env, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        process.stdin.write(tone(15.0).tobytes())
        process.stdin.close()
        assert process.stdout.readline().strip() == b"playing"
        time.sleep(0.3)
        doomed.kill()
        process.stdin = None  # written and closed above: communicate must not flush it
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode(errors="replace")
    assert json.loads(out.decode().strip().splitlines()[-1]) == {"playing": False}


def test_no_device_is_an_audio_device_error(tmp_path):
    config = tmp_path / "asound.conf"
    config.write_text("")  # ALSA with no device at all
    env = dict(os.environ, ALSA_CONFIG_PATH=str(config), PULSE_SERVER=f"unix:{tmp_path}/none")
    report = child(env, """
from voicecoach.errors import AudioDeviceError
try:
    device.play(samples, 22050)
    print(json.dumps({"error": None}))
except AudioDeviceError as error:
    print(json.dumps({"error": str(error)}))
""", tone(0.1))
    assert report == {"error": "ALSA: no such file or directory"}
