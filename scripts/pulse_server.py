"""A private PulseAudio server with a null sink, for the live-playback tests and the benchmark.

``PulseServer`` starts its own ``pulseaudio`` daemon in a temporary folder (its own socket,
config, runtime and state dirs: the user's sound setup is never touched), with one null
sink at the session's format (22050 Hz mono s16le, so nothing is resampled and what is
recorded is bit for bit what was played). It writes an ALSA config that points ALSA's
``default`` device at that server (the pulse plugin from libasound2-plugins); programs see
it through ``ALSA_CONFIG_PATH``, so nothing is written to /etc. ``record()`` captures the
sink's monitor with ``parecord`` (a null sink alone would swallow the audio unheard).

    with PulseServer() as server, server.record() as recording:
        subprocess.run(["voicecoach", "play", "routine.yaml"], env=server.env())
    samples = recording.samples()        # int16 numpy array at server.sample_rate

``match_bursts(recorded, rendered)`` then finds each sound of the renderer's output in
the recording (where it was heard, and whether every sample is the same), and
``onset_errors_ms`` gives each onset's error relative to the first one.

Run as a script for a quick check of the machine: ``python3 scripts/pulse_server.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.processes import stop_process

SAMPLE_RATE = 22_050
SINK = "voicecoach_null"
MICROPHONE, MICROPHONE_RATE = "voicecoach_mic", 16_000  # the optional second sink (see PulseServer)
START_TIMEOUT_S = 10.0
# The monitor is read in 20 ms fragments, which makes the null sink mix in 20 ms blocks.
# 20 ms is 441 frames at 22050 Hz, a whole number of microseconds: the null sink keeps
# time by adding up each block's length in whole microseconds, and with blocks of 5 ms
# (110.25 frames, rounded) its clock ran about 80 ppm fast of the system's, so a
# recording of a 3-minute session seemed to drift by 15 ms while the player did not.
TAP_LATENCY_MS = 20


class PulseServer:
    """A running private PulseAudio daemon; use as a context manager."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, microphone: bool = False):
        self.sample_rate = sample_rate
        # microphone=True adds a second null sink, MICROPHONE, whose monitor is made the
        # default source: what is played into it (paplay --device=voicecoach_mic) is what a
        # program recording from ALSA or Pulse 'default' hears. The output sink stays default.
        self.microphone = microphone
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None
        self.tap: MonitorTap | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "native"

    @property
    def alsa_config(self) -> Path:
        return self.folder / "asound.conf"

    def env(self, base: dict | None = None) -> dict:
        """``base`` (default: this process's environment) routed to this server only."""
        env = dict(os.environ if base is None else base)
        env.update(PULSE_SERVER=f"unix:{self.socket}", ALSA_CONFIG_PATH=str(self.alsa_config),
                   PULSE_RUNTIME_PATH=str(self.folder / "client"), PULSE_CLIENTCONFIG=str(self.folder / "client.conf"))
        return env

    def __enter__(self) -> "PulseServer":
        if not shutil.which("pulseaudio") or not shutil.which("parecord"):
            raise RuntimeError("pulseaudio and parecord are needed: apt-get install pulseaudio pulseaudio-utils")
        self.folder = Path(tempfile.mkdtemp(prefix="voicecoach-pulse-"))
        self._write_configs()
        try:
            self._start()
            self.tap = MonitorTap(self)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _write_configs(self) -> None:
        for name in ("home", "runtime", "state", "config", "client"):
            (self.folder / name).mkdir(mode=0o700)
        server = f"unix:{self.socket}"
        # ALSA reads only this file (no /usr/share/alsa/alsa.conf): 'default' is the pulse
        # plugin aimed at our socket, and nothing else exists, so nothing can leak elsewhere.
        self.alsa_config.write_text(f'pcm.!default {{\n type pulse\n server "{server}"\n}}\n'
                                    f'ctl.!default {{\n type pulse\n server "{server}"\n}}\n')
        # Clients must neither autospawn a daemon of their own nor fall back to another one.
        (self.folder / "client.conf").write_text(f"autospawn = no\ndefault-server = {server}\n")

    def _daemon_env(self) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PULSE_", "ALSA_"))}
        env.update(HOME=str(self.folder / "home"), XDG_RUNTIME_DIR=str(self.folder / "runtime"),
                   XDG_CONFIG_HOME=str(self.folder / "config"), XDG_STATE_HOME=str(self.folder / "state"),
                   PULSE_RUNTIME_PATH=str(self.folder / "runtime"), PULSE_STATE_PATH=str(self.folder / "state"))
        return env

    def _start(self) -> None:
        sink = (f"module-null-sink sink_name={SINK} rate={self.sample_rate} channels=1 format=s16le "
                f"sink_properties=device.description=voicecoach-test")
        command = ["pulseaudio", "-n", "--daemonize=no", "--use-pid-file=no", "--exit-idle-time=-1",
                   "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
                   f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
                   f"--load={sink}"]
        if self.microphone:
            command.append(f"--load=module-null-sink sink_name={MICROPHONE} rate={MICROPHONE_RATE} channels=1 "
                           f"format=s16le sink_properties=device.description=voicecoach-microphone")
        log = open(self.folder / "pulseaudio.log", "wb")
        with log:
            self.process = subprocess.Popen(command, env=self._daemon_env(), stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_until_ready()
        if self.microphone:
            self.pactl("set-default-sink", SINK)
            self.pactl("set-default-source", f"{MICROPHONE}.monitor")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited at start: {self.log()}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                return
            time.sleep(0.02)
        raise RuntimeError(f"pulseaudio did not start within {START_TIMEOUT_S} s: {self.log()}")

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "pulseaudio.log").read_text(errors="replace").strip()
        return ""

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env(), capture_output=True, text=True,
                              check=check, timeout=10)

    def kill(self) -> None:
        """Make the server die at once (SIGKILL), as a crashed audio server would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.tap:
            self.tap.stop()
        stop_process(self.process)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    @contextlib.contextmanager
    def record(self, settle_s: float = 0.15):
        """Yield a ``Recording`` of the monitor while the block runs.

        ``settle_s`` after the block is also kept: the last sound played reaches the
        monitor a few tens of milliseconds after the player returns.
        """
        recording = Recording(self.tap, self.sample_rate)
        try:
            yield recording
        finally:
            time.sleep(settle_s)
            recording.finish()


class MonitorTap:
    """One ``parecord`` of the sink's monitor for the server's whole life.

    Recording all along (rather than one parecord per test) keeps the null sink at low
    latency: with no client it renders 2 s blocks, and audio played into a block already
    rendered would reach the monitor late, which would look like a timing error.
    """

    def __init__(self, server: PulseServer):
        self.server = server
        self.path = server.folder / "monitor.raw"
        command = ["parecord", "--raw", f"--device={SINK}.monitor", "--format=s16le",
                   f"--rate={server.sample_rate}", "--channels=1", f"--latency-msec={TAP_LATENCY_MS}", str(self.path)]
        self.process = subprocess.Popen(command, env=server.env(), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_flowing()

    def _wait_until_flowing(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.pactl("list", "short", "source-outputs", check=False).stdout.strip():
            self._check_alive(deadline)
        # Suspending and resuming drops the 2 s block rendered before we connected, so the
        # sink restarts at the 20 ms latency we asked for.
        self.server.pactl("suspend-sink", SINK, "1")
        self.server.pactl("suspend-sink", SINK, "0")
        while self.size() == 0:
            self._check_alive(deadline)

    def _check_alive(self, deadline: float) -> None:
        if self.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"parecord is not recording the monitor: {self.server.log()}")
        time.sleep(0.01)

    def size(self) -> int:
        """Whole samples written so far."""
        try:
            return self.path.stat().st_size // 2
        except OSError:
            return 0

    def read(self, first: int, last: int) -> np.ndarray:
        with open(self.path, "rb") as handle:
            handle.seek(2 * first)
            data = handle.read(2 * (last - first))
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")

    def stop(self) -> None:
        stop_process(self.process)


class Recording:
    """The monitor's samples (int16, mono) from when it was made until ``finish()``."""

    def __init__(self, tap: MonitorTap, sample_rate: int):
        self.tap, self.sample_rate = tap, sample_rate
        self.first = tap.size()
        self._samples: np.ndarray | None = None

    def finish(self) -> None:
        self._samples = self.tap.read(self.first, self.tap.size())

    def samples(self) -> np.ndarray:
        """All samples once finished; those so far while recording."""
        if self._samples is not None:
            return self._samples
        return self.tap.read(self.first, self.tap.size())

# -- measuring what was heard ---------------------------------------------------------

@dataclass(frozen=True)
class Burst:
    """One sound after a silence: where it is in the reference and in the recording."""

    expected: int   # sample position in the rendered stream
    heard: int      # sample position in the recording where the same sample was played
    length: int     # samples compared
    clipped: int    # leading samples the monitor showed as silence (see ``match_bursts``)
    mismatched: int  # samples after those that differ from the reference


def bursts(samples: np.ndarray, min_gap: int, threshold: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` of each stretch louder than ``threshold`` after ``min_gap`` quiet samples."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if not len(loud):
        return []
    breaks = np.flatnonzero(np.diff(loud) > min_gap)
    starts = np.concatenate([[loud[0]], loud[breaks + 1]])
    ends = np.concatenate([loud[breaks], [loud[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist()))


def match_bursts(recorded: np.ndarray, rendered: np.ndarray, sample_rate: int = SAMPLE_RATE,
                 min_gap_s: float = 0.2, compare_s: float = 0.5) -> list[Burst]:
    """Find each burst of ``rendered`` (the renderer's exact output) in ``recorded``.

    A playback stream that starts while the null sink has already rendered ahead is mixed
    in from its first sample, but the monitor has by then passed on a few milliseconds of
    silence: so the first samples of a burst can be missing from the recording while the
    rest sits exactly where the stream played it. Each burst is therefore located by
    matching its samples (not by a loudness threshold): ``heard`` is where its first
    sample was played, ``clipped`` how many leading samples the monitor missed.
    """
    gap = round(min_gap_s * sample_rate)
    expected = bursts(rendered, gap)
    heard = bursts(recorded, gap, threshold=100)
    if len(heard) != len(expected):
        raise AssertionError(f"heard {len(heard)} sounds, the timeline has {len(expected)}")
    return [_locate(recorded, rendered, e, h, round(compare_s * sample_rate), gap)
            for e, h in zip(expected, heard)]


def _locate(recorded, rendered, expected, heard, compare, max_clip) -> Burst:
    length = min(expected[1] - expected[0], compare)
    reference = rendered[expected[0]: expected[0] + length].astype(np.int32)
    probe = min(200, length // 2)
    window = recorded[heard[0]: heard[0] + probe].astype(np.int32)
    candidates = np.lib.stride_tricks.sliding_window_view(reference, probe)[: max_clip]
    clipped = int(np.argmin(np.abs(candidates - window).sum(axis=1)))
    start = heard[0] - clipped
    played = recorded[start + clipped: start + length].astype(np.int32)
    mismatched = int(np.count_nonzero(played != reference[clipped: clipped + len(played)]))
    mismatched += length - clipped - len(played)
    return Burst(expected[0], start, length, clipped, mismatched)


def onset_errors_ms(matched: list[Burst], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Each burst's onset error, relative to the first one's (a constant latency cancels)."""
    heard = np.array([b.heard for b in matched])
    expected = np.array([b.expected for b in matched])
    return ((heard - heard[0]) - (expected - expected[0])) * 1000 / sample_rate


def main() -> None:
    """Play two tones 0.5 s apart through ALSA's default device and report what was heard."""
    tone = (np.sin(np.arange(SAMPLE_RATE // 5) * 2 * np.pi * 440 / SAMPLE_RATE) * 8000).astype("<i2")
    gap = np.zeros(SAMPLE_RATE * 3 // 10, "<i2")
    rendered = np.concatenate([tone, gap, tone])
    code = ("import sys, simpleaudio; d = sys.stdin.buffer.read(); "
            "simpleaudio.play_buffer(d, 1, 2, 22050).wait_done()")
    with PulseServer() as server, server.record() as recording:
        subprocess.run([sys.executable, "-c", code], input=rendered.tobytes(), env=server.env(), check=True)
    matched = match_bursts(recording.samples(), rendered)
    print(f"heard {len(matched)} tones; second one {onset_errors_ms(matched)[1]:+.2f} ms from plan; "
          f"{sum(b.mismatched for b in matched)} samples differ")


if __name__ == "__main__":
    main()
