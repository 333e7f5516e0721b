"""Pause latency: from a playback's ``stop()`` to silence at the sound server.

A child process opens the sound device (as ``voicecoach play`` does, through ALSA's
``default`` device aimed at a private PulseAudio server), plays a loud tone, and calls
``stop()`` at instants it writes down. The null sink's monitor is recorded meanwhile, and
each recording sample is put on the same monotonic clock (CLOCK_MONOTONIC is shared by
every process) as min(t - n/rate) over observations of the sample count n at time t:
samples only ever arrive late, so the smallest value is the tightest bound. The last loud
sample of each tone then says when it went silent; the first one, when it was first heard.

    python3 scripts/bench_pause.py [DEVICE ...]     # e.g. voicecoach.live.device:SimpleaudioDevice
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from private_dirs import private_dirs  # noqa: E402
from pulse_server import SAMPLE_RATE, PulseServer, bursts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEVICES = ("voicecoach.live.device:SimpleaudioDevice", "voicecoach.live.device:AlsaDevice")
TONE_S = 2.0
LOUD = 100           # a sample above this is sound (the tone's peak is 12000)
HOLDS_S = (0.43, 0.61, 0.77, 0.52, 0.69, 0.88, 0.47, 0.73, 0.55, 0.64, 0.81, 0.45)  # stop this long after the start
GAP_S = 0.6          # between one stop and the next tone

# The child: plays a tone per hold, stops it, and prints when it called play() and stop().
CHILD = """
import importlib, json, sys, time
import numpy as np
module, name = sys.argv[1].split(":")
device = getattr(importlib.import_module(module), name)()
rate, holds, gap, tone_s = int(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
tone = (np.sin(np.arange(round(tone_s * rate)) * 2 * np.pi * 440 / rate) * 12000).astype("<i2")
device.play(np.zeros(rate // 2, "<i2"), rate)  # wakes the server's sink, as the lead-in does
time.sleep(0.6)
events = []
for hold in holds:
    started = time.monotonic()
    playback = device.play(tone, rate)
    time.sleep(hold)
    stopped = time.monotonic()
    playback.stop()
    events.append((started, stopped))
    time.sleep(gap)
print(json.dumps(events))
"""


@dataclass(frozen=True)
class PauseFigures:
    """One device's figures, in milliseconds, one per stop."""
    device: str
    latencies_ms: tuple[float, ...]   # stop() -> last loud sample at the sink
    onsets_ms: tuple[float, ...]      # play() -> first loud sample at the sink

    @property
    def median_ms(self) -> float:
        return float(np.median(self.latencies_ms))

    @property
    def max_ms(self) -> float:
        return float(np.max(self.latencies_ms))

    def line(self) -> str:
        return (f"{self.device.rsplit(':', 1)[-1]}: pause latency median {self.median_ms:.0f} ms, "
                f"max {self.max_ms:.0f} ms over {len(self.latencies_ms)} stops "
                f"(start latency median {np.median(self.onsets_ms):.0f} ms, "
                f"spread {np.ptp(self.onsets_ms):.0f} ms)")


def measure_pause_latency(device: str = DEVICES[-1], holds_s=HOLDS_S, server: PulseServer | None = None,
                          extra_path: str | None = None) -> PauseFigures:
    """Stop a loud tone ``len(holds_s)`` times on ``device`` ("module:Class" of a
    ``SoundDevice``) and measure each stop's silence. Uses ``server`` or starts its own."""
    if server is None:
        with PulseServer() as own:
            return measure_pause_latency(device, holds_s, own, extra_path)
    env = server.env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), extra_path, env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-c", CHILD, device, str(server.sample_rate), json.dumps(list(holds_s)),
               str(GAP_S), str(TONE_S)]
    with server.record() as recording:
        watch = _Watch(server.tap)
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        finally:
            watch.stop()
    if done.returncode != 0:
        raise RuntimeError(f"{device}: the player failed: {done.stderr.strip()[-500:]}")
    events = json.loads(done.stdout.strip().splitlines()[-1])
    return _figures(device, recording, watch.origin, events, server.sample_rate)


def _figures(device, recording, origin, events, rate) -> PauseFigures:
    """Each tone heard, against the play() and stop() instants the child wrote down."""
    heard = bursts(recording.samples(), min_gap=round(0.2 * rate), threshold=LOUD)
    if len(heard) != len(events):
        raise RuntimeError(f"{device}: heard {len(heard)} tones, played {len(events)}")
    at = lambda index: origin + (recording.first + index) / rate  # noqa: E731
    latencies = tuple(round((at(end) - stopped) * 1000, 1) for (_, end), (_, stopped) in zip(heard, events))
    onsets = tuple(round((at(start) - started) * 1000, 1) for (start, _), (started, _) in zip(heard, events))
    return PauseFigures(device, latencies, onsets)


class _Watch:
    """Polls the monitor's sample count, for the time of its sample 0 (see the docstring)."""

    def __init__(self, tap):
        self.tap, self.origin = tap, float("inf")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._done.is_set():
            now = time.monotonic()
            self.origin = min(self.origin, now - self.tap.size() / SAMPLE_RATE)
            time.sleep(0.0005)

    def stop(self):
        self._done.set()
        self._thread.join()


def measure_button_latency(presses: int = 40) -> tuple[float, ...]:
    """Milliseconds from a media button's D-Bus call being sent (PlayPause, from another
    connection and thread) to ``Controls.wait`` returning it, over a private bus, while the
    main thread waits as the player does (0.1 s ticks, the keys here not a terminal)."""
    import io
    from dbus_session import SessionBus
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from voicecoach.live.commands import PlayState
    from voicecoach.live.controls.combined import Controls
    from voicecoach.live.controls.keys import Keys
    from voicecoach.live.controls.mpris import BUS_NAME, OBJECT_PATH, PLAYER, Mpris, connect_mpris
    with SessionBus() as bus:
        media = connect_mpris(bus.address)
        if not isinstance(media, Mpris):
            raise RuntimeError(media.line)
        controls = Controls(Keys(io.StringIO()), media)
        player = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=PLAYER)
        sent: list[float] = []
        with media, open_dbus_connection(bus.address) as button:
            def press_all():
                for press in range(presses):
                    time.sleep(0.07 + 0.0113 * (press % 9))  # at varied points of the wait
                    sent.append(time.monotonic())
                    button.send(new_method_call(player, "PlayPause"))
            media.update(PlayState.PLAYING, "Benchmark", "Tone", 10.0)
            presser = threading.Thread(target=press_all)
            presser.start()
            arrived = []
            while len(arrived) < presses and (presser.is_alive() or len(arrived) < len(sent)):
                if controls.wait(0.1) is not None:
                    arrived.append(time.monotonic())
                    state = PlayState.PAUSED if len(arrived) % 2 else PlayState.PLAYING
                    media.update(state, "Benchmark", "Tone", 10.0)
            presser.join()
    if len(arrived) != presses:
        raise RuntimeError(f"{presses} PlayPause presses sent, {len(arrived)} arrived")
    return tuple(round((a - s) * 1000, 2) for a, s in zip(arrived, sent))


@dataclass(frozen=True)
class StormFigures:
    """What a storm of PlayPause presses cost the player (see ``measure_press_storm``)."""
    presses: int
    obeyed: int            # toggles the player carried out
    settle_s: float        # from the last press being answered to the player's final state
    final: str             # PlaybackStatus at the end


def measure_press_storm(presses: int = 4000, clients: int = 20, toggle_s: float = 0.004) -> StormFigures:
    """``presses`` PlayPause calls, sent at once by ``clients`` connections of their own,
    against a player that takes ``toggle_s`` per toggle (the real one stops or starts a
    stream and says the count-in). Settle time: from the moment every press has been
    answered on the bus (a Ping after them, in order on each connection) to the player
    having read the last command and reached the state the presses' parity gives."""
    from dbus_session import SessionBus
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from voicecoach.live.commands import PlayState
    from voicecoach.live.controls.mpris import BUS_NAME, OBJECT_PATH, PLAYER, Mpris, connect_mpris
    player = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=PLAYER)
    peer = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface="org.freedesktop.DBus.Peer")
    state, obeyed, answered = [PlayState.PLAYING], [0], threading.Barrier(clients + 1)

    def client(count: int) -> None:
        with open_dbus_connection(bus.address) as connection:
            for _ in range(count):  # no reply wanted: the bus would refuse more than 128 pending
                connection.send(_no_reply(new_method_call(player, "PlayPause")))
            connection.send_and_get_reply(new_method_call(peer, "Ping"), timeout=60)
        answered.wait()

    with SessionBus() as bus:
        media = connect_mpris(bus.address)
        if not isinstance(media, Mpris):
            raise RuntimeError(media.line)
        with media:
            media.update(PlayState.PLAYING, "Benchmark", "Tone", 10.0)
            shares = [presses // clients + (n < presses % clients) for n in range(clients)]
            threads = [threading.Thread(target=client, args=(n,)) for n in shares]
            for thread in threads:
                thread.start()
            done_at = _play_through(media, state, obeyed, answered, toggle_s)
            settled_at = time.monotonic()
            for thread in threads:
                thread.join()
    return StormFigures(presses, obeyed[0], round(settled_at - done_at, 3), state[0].value)


def _no_reply(message):
    from jeepney.low_level import MessageFlag
    message.header.flags |= MessageFlag.no_reply_expected
    return message


def _play_through(media, state, obeyed, answered, toggle_s) -> float:
    """The player's side of the storm: obey toggles until every press is answered and none
    waits; returns when the presses were all answered."""
    from voicecoach.live.commands import PlayState
    done_at = None
    while done_at is None or not media.commands.empty():
        if done_at is None and answered.n_waiting == answered.parties - 1:
            answered.wait()
            done_at = time.monotonic()
        if media.wait(0.01) is not None:
            time.sleep(toggle_s)
            obeyed[0] += 1
            state[0] = PlayState.PAUSED if state[0] == PlayState.PLAYING else PlayState.PLAYING
            media.update(state[0], "Benchmark", "Tone", 10.0)
    return done_at


def main(argv: list[str]) -> None:
    devices = argv or list(DEVICES)
    with PulseServer() as server:
        for device in devices:
            figures = measure_pause_latency(device, server=server)
            print(figures.line())
            print(f"  each stop: {', '.join(f'{ms:.0f}' for ms in figures.latencies_ms)} ms")
    buttons = measure_button_latency()
    print(f"media button to player: median {np.median(buttons):.1f} ms, max {max(buttons):.1f} ms "
          f"over {len(buttons)} presses")
    storm = measure_press_storm()
    print(f"{storm.presses} PlayPause presses from 20 clients: {storm.obeyed} toggles obeyed, "
          f"settled {storm.settle_s * 1000:.0f} ms after the last, {storm.final}")


if __name__ == "__main__":
    with private_dirs():
        main(sys.argv[1:])
