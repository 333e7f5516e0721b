"""``voicecoach play``: the wiring of a live session.

Start-up: the quiet lead-in starts playing first (it also proves there is a sound
device); the speech is prepared while it and the intro play (``start``). Then the
``Player`` plays the session, obeying the controls, until it is done or stopped; the
place reached is kept for ``--resume`` whatever ends it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, TextIO

import numpy as np

from ..defaults import DEFAULTS
from ..errors import AudioDeviceError, EngineError, RuntimeFailure
from ..history.journal import record_live
from ..history.places import Places
from ..history.store import utc_now
from ..plan.phrases import load_phrases
from ..plan.wording import intro_text
from ..session.request import SessionRequest, resolve
from ..signals import Terminated, stop_signals
from ..speech import Synthesizer
from ..speech.engines import voice_line
from .controls.keys import HELP as KEYS_HELP
from .checkin import check_in
from .commands import STOPS, Command, Outcome, PlayState, StopReason
from .controls.combined import Controls
from .controls.control import Control, Listening
from .controls.keys import Keys, is_terminal
from .device import SoundDevice
from .player import LEAD_IN_MARGIN_S, TICK_S, Player
from .screen import Screen
from .start import Start

if TYPE_CHECKING:
    from .controls.spoken import Spoken

DEFAULT_LEAD_IN_S = DEFAULTS["lead_in"]  # quiet before the first word: wireless headphones wake up
SPOKEN_HELP = "say pause, next or stop"
MEDIA_HELP = "media keys"


@dataclass(frozen=True)
class Parts:
    """What a live session plays with. None means the real one: the engine's synthesizer,
    the sound device, the terminal's keys, a screen on stdout. Tests pass their own, and
    ``background=False`` prepares the rest of the session before the intro, not beside it."""

    synthesizer: Synthesizer | None = None
    device: SoundDevice | None = None
    controls: Control | None = None
    screen: Screen | None = None
    stdin: TextIO | None = None
    stdout: TextIO | None = None
    clock: Callable[[], float] = time.monotonic
    background: bool = True


def play_routine(request: SessionRequest, *, lead_in_s: float = DEFAULT_LEAD_IN_S,
                 resume: bool = False, listen: bool = False, parts: Parts = Parts()) -> int:
    """``voicecoach play`` of ``request`` (its routine at today's levels, see ``resolve``).
    Returns the exit status: 0 when done or stopped with q, 130 for Ctrl-C, 128 + the
    signal for SIGTERM and SIGHUP. Failures raise ``VoicecoachError`` (the place reached is
    kept for ``--resume`` first). The session is recorded in the history at its end, however
    it ends. ``listen``: spoken commands too (see ``_controls``)."""
    try:
        with stop_signals():
            return _play_routine(request, lead_in_s, resume, listen, parts)
    except Terminated as signal:  # before the session started: nothing to keep
        return 128 + signal.signum


def _play_routine(request: SessionRequest, lead_in_s: float, resume: bool, listen: bool,
                  parts: Parts) -> int:
    stdout, clock, routine = parts.stdout or sys.stdout, parts.clock, request.routine
    today = resolve(request, synthesizer=parts.synthesizer, warn=_warn)
    loaded = today.routine
    journal = _Journal(routine, loaded, utc_now(), clock, clock())
    synth = today.synthesizer
    if parts.synthesizer is None:
        if is_terminal(sys.stderr):  # a status note: which voice speaks, before the first word
            _warn(voice_line(synth))
    device = parts.device or _open_device()
    export = export_command(request)
    lead_in, heard_at = _start_lead_in(device, export, lead_in_s, synth.sample_rate, clock)
    with _controls(parts, listen) as wired:
        keys = wired.controls
        screen = parts.screen or _screen(loaded.title, wired.help, stdout)
        try:
            if is_terminal(stdout):
                screen.note(f"{loaded.title}: getting ready...")
            places = Places(routine)
            start = Start(with_intro_sentences(loaded, wired.sentences), synth, places, routine, resume,
                          screen, parts.background)
        except BaseException:
            lead_in.stop()
            screen.close()
            raise
        player = Player(start.session, device, keys, screen, places, clock, spoken=wired.spoken)
        player.playing.append((lead_in, heard_at + LEAD_IN_MARGIN_S))
        return _run(player, routine, lambda: start.play(player, max(heard_at, clock())), stdout, start,
                    journal)


def _open_device():
    from .device import AlsaDevice  # libasound, loaded only to play; a stop is quiet at once
    return AlsaDevice()


def export_command(request: SessionRequest) -> str:
    """The ``voicecoach export`` command of the same session, shell-quoted: with the
    request's options (engine, voice, rate, language) that differ from the shipped defaults.
    Not ``--level``: a file exported another day is at that day's levels."""
    words = ["voicecoach", "export", request.routine, "-o", "session.mp3"]
    for field in dataclasses.fields(request):
        value = getattr(request, field.name)
        if field.name in ("routine", "level") or value is None or value == DEFAULTS.get(field.name):
            continue
        words += [f"--{field.name.replace('_', '-')}", str(value)]
    return shlex.join(words)


def _start_lead_in(device, export: str, lead_in_s: float, rate: int, clock) -> tuple[object, float]:
    """Start the quiet lead-in (silence, so wireless headphones wake up before the first
    word); returns it and the instant it ends. It also proves there is a sound device,
    before any time goes into speech; without one, the error says ``export``, the command
    that makes the same session a file."""
    try:
        playback = device.play(np.zeros(round((lead_in_s + LEAD_IN_MARGIN_S) * rate), np.int16), rate)
    except AudioDeviceError as error:
        raise AudioDeviceError(f"no sound device could be opened ({error}); to listen without one, "
                               f"export the session: {export}") from None
    return playback, clock() + lead_in_s


@dataclass(frozen=True)
class Wired:
    """The session's controls: what the player waits on, the spoken commands (None when not
    listening), the screen's line naming them, and the phrases the intro adds for them."""

    controls: Control
    spoken: Listening | None = None
    help: str = ""
    sentences: tuple[str, ...] = ()


@contextlib.contextmanager
def _controls(parts: Parts, listen: bool):
    """The terminal's keys, the media buttons (MPRIS, always; without a session bus one
    info line and the session plays on) and, with ``listen``, the spoken commands. Voice
    control that cannot start is a warning, printed and said in the intro, and the session
    plays on with keys and buttons: someone already lying on the floor is better served by
    a session than by an error to walk over to."""
    if parts.controls is not None:
        yield Wired(parts.controls, help=KEYS_HELP if parts.controls.interactive else "")
        return
    from .controls.mpris import MediaButtonsOff, connect_mpris
    with Keys(parts.stdin) as keys, contextlib.ExitStack() as stack:
        others, shown, said = [], [KEYS_HELP] if keys.interactive else [], []
        spoken = _start_listening(stack) if listen else None
        if spoken is not None:
            others.append(spoken)
            shown.append(SPOKEN_HELP)
            said.append("listening")
        elif listen:
            said.append("listening_off")
        media = connect_mpris()
        if isinstance(media, MediaButtonsOff):
            _warn(media.line)
        else:
            others.append(media)
            shown.append(MEDIA_HELP)
            said.append("media_buttons")
        controls = Controls(keys, *others)
        stack.callback(controls.close)
        yield Wired(controls, spoken, " · ".join(shown), tuple(said))


def _start_listening(stack: contextlib.ExitStack) -> Spoken | None:
    """The spoken commands, started; None (and one warning line) when they cannot be."""
    from .controls.spoken import SESSION_WORDS, Spoken
    try:  # started beside the session: the first word does not wait for the recognizer
        spoken = Spoken(SESSION_WORDS, warn=_warn).start_in_background()  # its failures: one line
        stack.callback(spoken.close)
        return spoken
    except (AudioDeviceError, RuntimeFailure) as error:
        _warn(f"Warning: voice control is off: {error}. The keys and media buttons still work.")
        return None


def with_intro_sentences(routine, sentences: tuple[str, ...]):
    """``routine`` whose intro ends with the pack's ``sentences`` (the live session's controls):
    planned as part of the intro, so the intro alone and the full session agree, and an
    export, which has no controls, never says them."""
    if not sentences:
        return routine
    phrases = load_phrases(routine.language)
    return dataclasses.replace(routine, intro=" ".join([intro_text(routine, phrases),
                                                        *(phrases.say(key) for key in sentences)]))


def _screen(title: str, controls_line: str, stdout):
    from .screen import LineScreen, TerminalScreen
    if is_terminal(stdout):
        return TerminalScreen(title, controls_line, stdout)
    return LineScreen(title, stdout)


def _run(player: Player, routine: str, play: Callable[[], Outcome], stdout, start, journal) -> int:
    again = f"voicecoach play {shlex.quote(routine)} --resume"
    felt, reason = "unknown", StopReason.QUIT
    try:
        outcome, code = play(), 0
        if outcome == Outcome.FINISHED:
            felt = _check_in(player, stdout)
        elif player.stopped_by == Command.PAIN:
            reason = StopReason.PAIN
            _stop_for_pain(player)
    except Terminated as signal:  # (a KeyboardInterrupt too: first)
        outcome, code, reason = Outcome.STOPPED, 128 + signal.signum, _interrupted(reason)
    except KeyboardInterrupt:
        outcome, code, reason = Outcome.STOPPED, 130, _interrupted(reason)
    except (AudioDeviceError, EngineError) as error:
        journal.record("stopped", StopReason.ERROR.value, player.keep_current_place())
        raise type(error)(f"{error}; your place is kept: {again}") from None
    finally:
        _close(player)
        start.close()
    _report(player, outcome, reason, felt, again, stdout, journal)
    return code


def _interrupted(reason: StopReason) -> StopReason:
    """A signal stops the session: as such, unless it came during the pain line (Ctrl-C
    to cut it short), when the stop was for pain all the same."""
    return StopReason.PAIN if reason == StopReason.PAIN else StopReason.SIGNAL


def _report(player: Player, outcome: Outcome, reason: StopReason, felt: str, again: str, stdout,
            journal) -> None:
    """The session's last line, and its row in the history."""
    if outcome == Outcome.FINISHED:
        _say(stdout, f"Session complete: {player.timeline.title}.")
        journal.record("completed", felt=felt)
        return
    title = player.keep_current_place()
    if reason == StopReason.PAIN:
        _say(stdout, f"Stopped for pain at {title}. To continue another time: {again}")
    else:
        _say(stdout, f"Stopped at {title}. To continue from there: {again}")
    journal.record("stopped", reason.value, title)


def _stop_for_pain(player: Player) -> None:
    """Say (and show) the pack's caring line after a stop for pain, and let it finish; q or
    h cuts it short. A voice or device failing here loses the line, not the stop's record."""
    text = player.session.phrases.say("pain_stop")
    player.screen.note(text)
    try:
        said_at, length_s = player.say(text)
    except (AudioDeviceError, EngineError):
        return
    ends = said_at + length_s
    while (left := ends - player.clock()) > 0:
        if player.keys.wait(min(TICK_S, left)) in STOPS:
            return


def _check_in(player: Player, stdout) -> str:
    """Ask how the back feels (keys 1, 2, 3, or said: better, same, worse); 'unknown'
    with neither a terminal nor spoken commands to answer with."""
    by_keys = is_terminal(stdout) and player.keys.interactive
    if not by_keys and player.spoken is None:
        return "unknown"
    phrases = player.session.phrases
    question = phrases.say("check_in")
    if player.spoken is not None:
        from .controls.spoken import CHECK_IN_WORDS
        question += " " + phrases.say("check_in_spoken")
        player.spoken.listen_for({**CHECK_IN_WORDS, "stop": Command.QUIT})

    def speak(text: str) -> float:
        return player.say(text)[1]  # muted while it is said: the question never answers itself
    return check_in(question, speak, player.keys.wait, player.screen.note, player.clock)


@dataclass(frozen=True)
class _Journal:
    """Records the session in the history at its end: one warning line if it cannot."""

    routine: str
    played: object  # the Routine at the levels played
    started_at: object
    clock: Callable[[], float]
    began: float  # on ``clock``

    def record(self, outcome: str, reason: str | None = None, where: str | None = None,
               felt: str = "unknown") -> None:
        names = {e.name for e in self.played.exercises}  # not "Introduction" or "Finish"
        warning = record_live(self.routine, self.played, started_at=self.started_at,
                              length_s=max(0.0, self.clock() - self.began), outcome=outcome,
                              stopped_at=where if where in names else None,
                              stop_reason=reason if outcome == "stopped" else None, felt=felt)
        if warning:
            _warn(warning)


def _warn(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


def _say(stdout, line: str) -> None:
    try:
        stdout.write(line + "\n")
        stdout.flush()
    except OSError:
        pass  # the terminal is gone (SIGHUP): the place is kept all the same


def _close(player: Player) -> None:
    player.stop_sound()
    player.publish(PlayState.STOPPED)
    player.screen.close()

