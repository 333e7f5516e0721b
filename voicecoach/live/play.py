"""``voicecoach play``: the wiring of a live session.

Start-up: the quiet lead-in starts playing first (it also proves there is a sound
device); the speech is prepared while it and the intro play (``start``). Then the
``Player`` plays the session, obeying the controls, until it is done or stopped; the
place reached is kept for ``--resume`` whatever ends it.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..config import DEFAULTS
from ..errors import AudioDeviceError, EngineError
from ..history.places import Places
from ..plan.phrases import load_phrases
from ..routine import load_routine
from ..session.prepare import make_voice, with_language
from ..signals import Terminated, stop_signals
from ..speech.engines import DEFAULT_ENGINE
from .controls.keys import HELP as KEYS_HELP
from .controls.keys import Keys, is_terminal
from .player import LEAD_IN_MARGIN_S, Player
from .playplan import FINISHED, QUIT_PRESSED
from .start import Start

DEFAULT_LEAD_IN_S = DEFAULTS["lead_in"]  # quiet before the first word: wireless headphones wake up


@dataclass(frozen=True)
class Parts:
    """What a live session plays with. None means the real one: the engine's synthesizer,
    the sound device, the terminal's keys, a screen on stdout. Tests pass their own, and
    ``background=False`` prepares the rest of the session before the intro, not beside it."""

    synthesizer: object = None
    device: object = None
    controls: object = None
    screen: object = None
    stdin: object = None
    stdout: object = None
    clock: Callable[[], float] = time.monotonic
    background: bool = True


def play_routine(routine: str, *, engine: str = DEFAULT_ENGINE, voice: str | None = None,
                 rate: int | None = None, language: str | None = None, lead_in_s: float = DEFAULT_LEAD_IN_S,
                 resume: bool = False, parts: Parts = Parts()) -> int:
    """``voicecoach play``. Returns the exit status: 0 when done or stopped with q, 130
    for Ctrl-C, 128 + the signal for SIGTERM and SIGHUP. Failures raise ``VoicecoachError``
    (the place reached is kept for ``--resume`` first)."""
    try:
        with stop_signals():
            return _play_routine(routine, engine, voice, rate, language, lead_in_s, resume, parts)
    except Terminated as signal:  # before the session started: nothing to keep
        return 128 + signal.signum


def _play_routine(routine, engine, voice, rate, language, lead_in_s, resume, parts: Parts) -> int:
    stdout, clock = parts.stdout or sys.stdout, parts.clock
    loaded = with_language(load_routine(routine), language)
    synth = parts.synthesizer or make_voice(engine, voice, rate, load_phrases(loaded.language))
    device = parts.device or _open_device()
    lead_in, heard_at = _start_lead_in(device, routine, lead_in_s, synth.sample_rate, clock)
    with _controls(parts) as keys:
        screen = parts.screen or _screen(loaded.title, keys, stdout)
        try:
            if is_terminal(stdout):
                screen.note(f"{loaded.title}: getting ready...")
            places = Places(routine)
            start = Start(loaded, synth, places, routine, resume, screen, parts.background)
        except BaseException:
            lead_in.stop()
            screen.close()
            raise
        player = Player(start.session, device, keys, screen, places, clock)
        player.playing.append((lead_in, heard_at + LEAD_IN_MARGIN_S))
        return _run(player, routine, lambda: start.play(player, max(heard_at, clock())), stdout, start)


def _open_device():
    from .device import AlsaDevice  # libasound, loaded only to play; a stop is quiet at once
    return AlsaDevice()


def _start_lead_in(device, routine: str, lead_in_s: float, rate: int, clock) -> tuple[object, float]:
    """Start the quiet lead-in (silence, so wireless headphones wake up before the first
    word); returns it and the instant it ends. It also proves there is a sound device,
    before any time goes into speech."""
    try:
        playback = device.play(np.zeros(round((lead_in_s + LEAD_IN_MARGIN_S) * rate), np.int16), rate)
    except AudioDeviceError as error:
        raise AudioDeviceError(f"no sound device could be opened ({error}); to listen without one, "
                               f"export the session: voicecoach export {shlex.quote(routine)} "
                               "-o session.mp3") from None
    return playback, clock() + lead_in_s


@contextlib.contextmanager
def _controls(parts: Parts):
    if parts.controls is not None:
        yield parts.controls
        return
    with Keys(parts.stdin) as keys:
        yield keys


def _screen(title: str, keys, stdout):
    from .screen import LineScreen, TerminalScreen
    if is_terminal(stdout):
        return TerminalScreen(title, KEYS_HELP if getattr(keys, "interactive", False) else "", stdout)
    return LineScreen(title, stdout)


def _run(player: Player, routine: str, play: Callable[[], str], stdout, start) -> int:
    again = f"voicecoach play {shlex.quote(routine)} --resume"
    try:
        outcome, code = play(), 0
    except Terminated as signal:  # (a KeyboardInterrupt too: first)
        outcome, code = QUIT_PRESSED, 128 + signal.signum
    except KeyboardInterrupt:
        outcome, code = QUIT_PRESSED, 130
    except (AudioDeviceError, EngineError) as error:
        player.keep_current_place()
        raise type(error)(f"{error}; your place is kept: {again}") from None
    finally:
        _close(player)
        start.close()
    if outcome == FINISHED:
        _say(stdout, f"Session complete: {player.timeline.title}.")
    else:
        title = player.keep_current_place()
        _say(stdout, f"Stopped at {title}. To continue from there: {again}")
    return code


def _say(stdout, line: str) -> None:
    try:
        stdout.write(line + "\n")
        stdout.flush()
    except OSError:
        pass  # the terminal is gone (SIGHUP): the place is kept all the same


def _close(player: Player) -> None:
    player.stop_sound()
    player.screen.close()

