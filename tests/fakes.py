"""The fakes the unit tests share: a synthesizer, and a clock, keys, a sound device and a
screen for the live player. No sound card, no speech engine, no process.

A plain module next to ``conftest.py``, imported as ``from fakes import FakeClock``: the
tests folder is not a package, so pytest (in its default "prepend" import mode) puts this
folder first on ``sys.path`` before it loads ``conftest.py`` and the test modules; a
module here is then importable by its own name, as the test modules are, without
importing ``conftest`` (pytest's plugin) a second time or turning the folder into a
package (which would rename every test module and need the repository on ``sys.path``).
"""

from __future__ import annotations

import time

import numpy as np

from voicecoach.audio import SAMPLE_RATE, Audio
from voicecoach.errors import AudioDeviceError, EngineError
from voicecoach.plan.phrases import load_phrases

PAD_S = 0.4  # like espeak-ng, the fake pads its speech with silence that must be trimmed


class FakeSynthesizer:
    """Speech as a tone whose length depends on the text and the rate, and a log of calls.

    At ``rate`` words per minute a text lasts ``60 * words / rate`` seconds (at least 0.1 s),
    followed by ``PAD_S`` of silence, as espeak-ng's output is.
    """

    sample_rate = SAMPLE_RATE

    def __init__(self, rate: int = 140, fail_on: str | None = None):
        self.rate = rate
        self.identity = f"fake:{rate}"
        self.calls: list[str] = []
        self.fail_on = fail_on

    @staticmethod
    def spoken_samples(text: str, rate: int = 140) -> int:
        return round(max(0.1, 60 * len(text.split()) / rate) * SAMPLE_RATE)

    def synthesize(self, text: str) -> Audio:
        if self.fail_on and self.fail_on in text:
            raise EngineError(f"fake engine failed on {text!r}")
        self.calls.append(text)
        n = self.spoken_samples(text, self.rate)
        voice = (np.sin(np.arange(n) * 2 * np.pi * 220 / SAMPLE_RATE) * 8000).astype(np.int16)
        voice[0] = voice[-1] = 4000  # loud first and last samples: trimming must keep them
        return Audio(np.concatenate([voice, np.zeros(round(PAD_S * SAMPLE_RATE), np.int16)]))


# -- the live player's parts ------------------------------------------------------------

# What the player tests play: three exercises, with a release after the first.
ROUTINE = """
title: Player test
intro: Hello there.
outro: All done now.
exercises:
  - name: Reach
    cue: Reach up high.
    hold: 4s
    release: And relax.
  - name: Bend
    cue: Bend down slowly.
    hold: 3s
  - name: Twist
    cue: Twist to the side.
    hold: 2s
"""
COUNT_IN = load_phrases("en").say("count_in")


class FakeClock:
    """Monotonic seconds that move only when the player waits, and ``tick_s`` per look.

    Looking at the clock takes time by default, so a loop that spins on it always ends;
    ``tick_s=0`` stops time except where a test moves ``now`` itself.
    """

    def __init__(self, tick_s: float = 0.0002):
        self.now, self.tick_s = 100.0, tick_s

    def __call__(self) -> float:
        self.now += self.tick_s
        return self.now


class FakeKeys:
    """Keys pressed at given instants (seconds after the clock's start)."""

    interactive = True

    def __init__(self, clock: FakeClock, presses=()):
        self.clock, self.presses = clock, sorted(presses)
        self.start = clock.now

    def wait(self, timeout_s: float):
        time.sleep(0.0002)  # a real thread (preparing the session) gets a moment too
        if self.presses and self.start + self.presses[0][0] <= self.clock.now + timeout_s:
            at, command = self.presses.pop(0)
            self.clock.now = max(self.clock.now, self.start + at)
            return command
        self.clock.now += timeout_s
        return None

    def update(self, *args, **kwargs):
        pass  # what plays: published only by the media buttons

    def close(self):
        pass


class FakePlayback:
    def __init__(self, device, samples, rate):
        self.device, self.started = device, device.clock.now
        self.samples, self.ends = samples.copy(), device.clock.now + len(samples) / rate
        self.stopped_at = None

    def stop(self):
        if self.stopped_at is None:
            self.stopped_at = self.device.clock.now

    def is_playing(self):
        if self.device.dead_at is not None and self.device.clock.now >= self.device.dead_at:
            return False
        return self.stopped_at is None and self.device.clock.now < self.ends


class FakeDevice:
    def __init__(self, clock: FakeClock, dead_at: float | None = None, missing: bool = False):
        self.clock, self.dead_at, self.missing = clock, dead_at, missing
        self.played: list[FakePlayback] = []

    def play(self, samples, rate):
        if self.missing or (self.dead_at is not None and self.clock.now >= self.dead_at):
            raise AudioDeviceError("ALSA: connection refused")
        playback = FakePlayback(self, samples, rate)
        self.played.append(playback)
        return playback

    def heard(self, rate: int, origin: float, length: int) -> np.ndarray:
        """Everything played (cut where stopped), mixed on one track from ``origin``."""
        track = np.zeros(length, np.int32)
        for p in self.played:
            at = round((p.started - origin) * rate)
            audio = p.samples[: None if p.stopped_at is None else round((p.stopped_at - p.started) * rate)]
            end = min(length, at + len(audio))
            if end > at >= 0:
                track[at:end] += audio[: end - at]
        return track


class FakeScreen:
    def __init__(self):
        self.shown, self.notes, self.closed = [], [], False

    def show(self, status, paused=False):
        self.shown.append((status, paused))

    def note(self, text):
        self.notes.append(text)

    def heard(self, word):
        self.notes.append(f"heard {word}")

    def close(self):
        self.closed = True
