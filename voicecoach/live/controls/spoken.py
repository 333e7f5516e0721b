"""Spoken commands from the default recording device, offline: ``Spoken.wait(timeout_s)``.

Capture: a child process, ``parec`` (the PulseAudio or PipeWire default source, raw s16le
mono 16 kHz, ``--latency-msec=20``), or where no pulse server answers, ``arecord -D default``
(ALSA's default device). A child rather than PyAudio or sounddevice: no compiled module to
install, the same default device the user picked in the desktop's sound settings, and a
failure (no source, no server) is one line on the child's stderr that we can show.

Recognition (pocketsphinx 5 and its bundled US English model; nothing leaves the machine):
the stream is cut into utterances by pocketsphinx's ``Endpointer`` (voice activity, 0.3 s
window); an utterance longer than ``MAX_UTTERANCE_S`` is dropped unheard, because a command
is one word said on its own and running speech is not; a short one is decoded against a
JSGF grammar of the words listened for (``listen_for``: the session's, or the check-in's).
Measured on 99 words (3 voices, 3 speeds): decoding them with the bundled full language
model got 21 right, the grammar 84 to 99 depending on the voice; on 19 minutes of exercise
texts the grammar alone turned every utterance into a command, the 1.2 s length gate left 1
of 253 (and the self-voice muting below removes the coach's). Say the word alone, with a
short silence before and after.

The coach's own voice: the player knows what it plays and when, and tells us with
``mute_while(intervals)`` (monotonic seconds). An utterance whose voice (its voiced
frames, see ``voicing``; not the voice detector's padding) lies more than half within those
intervals, widened by ``ECHO_BEFORE_S`` before and ``ECHO_AFTER_S`` after (the
loudspeaker-to-microphone and buffering delays), is discarded however well it matched.
This is safe because the coach's own words lie wholly inside, whatever the routine's
texts contain; what it costs: a command said over the coach (or within 0.3 s after) is
ignored, and the user says it again after the cue, in the silence of a hold or a rest,
or between the hold's counted numbers. Utterances that are not a voice (noise) are never
decoded (``voicing``). Capture times come from the sample count: sample n was heard at
``t0 + n / 16000``, where ``t0`` is the smallest (read time - samples read so far / rate)
seen in the last ``CLOCK_WINDOW_S`` (a read is never early, only late), less the capture
latency.
"""

from __future__ import annotations

import collections
import importlib.util
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from ...errors import AudioDeviceError, RuntimeFailure
from ..commands import Command, PlayState
from .recorder import LATENCY_MS, RATE, RECORDER_HINT, Recorder, recorder_commands
from .voicing import voiced_span

MAX_UTTERANCE_S = 1.2   # the slowest command measured lasted 0.99 s as an utterance
ECHO_BEFORE_S, ECHO_AFTER_S = 0.1, 0.3
# A word is the coach's when more than this share of its voice is within the coach's sound
# (widened as above). Not "any overlap": a hold counts "Three", "Two", "One" a second
# apart, and with the margins a word said between two of them always touched one, so
# "next" said in a hold was never taken (0 of 3). The coach's own word lies wholly inside.
MAX_OVERLAP_SHARE = 0.5
CLOCK_WINDOW_S = 20.0
TAKEN_S = 2.0           # a word returned longer ago than this is not acknowledged any more
MAX_RESTARTS = 5        # a recorder that keeps dying is given up on after this many restarts
INSTALL_HINT = "install pocketsphinx with: pip install pocketsphinx"

SESSION_WORDS = {"pause": Command.PAUSE, "continue": Command.CONTINUE, "resume": Command.CONTINUE,
                 "next": Command.NEXT, "back": Command.PREVIOUS, "previous": Command.PREVIOUS,
                 "repeat": Command.REPEAT, "stop": Command.QUIT}
CHECK_IN_WORDS = {"better": Command.FELT_BETTER, "same": Command.FELT_SAME, "worse": Command.FELT_WORSE}
WORDS = {**SESSION_WORDS, **CHECK_IN_WORDS}


@dataclass(frozen=True)
class Heard:
    """One recognized word: its command, and when (monotonic s) it was said and arrived."""

    word: str
    command: Command
    start_s: float
    end_s: float
    arrived_s: float
    muted: bool      # it overlapped the coach's own sound: never returned by ``wait``


def overlap_share(start_s: float, end_s: float, intervals: Iterable[tuple[float, float]],
                  before_s: float = ECHO_BEFORE_S, after_s: float = ECHO_AFTER_S) -> float:
    """How much of the voice [start_s, end_s] lies in the intervals widened by the echo
    margins (0 to 1; intervals assumed apart, as the coach's sounds are)."""
    inside = sum(max(0.0, min(end_s, b + after_s) - max(start_s, a - before_s)) for a, b in intervals)
    return min(1.0, inside / max(end_s - start_s, 1e-6))


class Recognizer:
    """pocketsphinx behind one method: ``word(utterance bytes) -> word | None``."""

    def __init__(self, words: Iterable[str] = SESSION_WORDS):
        try:  # imported here: the player without --listen never needs it
            import pocketsphinx
        except ImportError:
            raise RuntimeFailure(f"spoken commands need pocketsphinx; {INSTALL_HINT}") from None
        self.pocketsphinx = pocketsphinx
        self._searches: set[str] = set()  # the grammars already given to the decoder
        # dither: a virtual or muted source gives exact zeros, which the features handle badly
        self.decoder = pocketsphinx.Decoder(samprate=RATE, loglevel="FATAL", dither=True)
        self.listen_for(words)

    def listen_for(self, words: Iterable[str]) -> None:
        """Only these words from now on: fewer words, fewer confusions (measured: "next"
        was heard as "better" while the check-in words were in the session's grammar)."""
        self.words = sorted(words)
        name = "_".join(self.words)
        if name not in self._searches:
            grammar = ("#JSGF V1.0;\ngrammar commands;\npublic <command> = "
                       + " | ".join(self.words) + ";\n")
            self.decoder.add_jsgf_string(name, grammar)
            self._searches.add(name)
        self.decoder.activate_search(name)

    def endpointer(self):
        return self.pocketsphinx.Endpointer(window=0.3, ratio=0.9, sample_rate=RATE)

    def word(self, audio: bytes) -> str | None:
        self.decoder.start_utt()
        self.decoder.process_raw(audio, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        return text if text in self.words else None


class Spoken:
    """Spoken commands, as a ``Control`` (``wait(timeout_s) -> Command | None``) that is
    also ``Listening``.

    ``with Spoken() as spoken:`` starts the recorder and the listening thread (raises
    ``AudioDeviceError`` or ``RuntimeFailure`` with a hint when it cannot). ``wait(0)``
    never blocks. ``mute_while`` tells it when the coach sounds; ``heard`` lists every
    recognized word, muted or not (for tests and the benchmark).
    """

    interactive = False  # no keys to show help for

    def __init__(self, words: dict[str, Command] = SESSION_WORDS, clock: Callable[[], float] = time.monotonic,
                 env: dict | None = None, recorders: list[list[str]] | None = None,
                 warn: Callable[[str], None] | None = None):
        self.words = dict(words)
        self._wanted = self.words
        self.clock, self.env = clock, env
        self.recorders = recorder_commands() if recorders is None else recorders
        self._recorder = Recorder(self.recorders, env)
        self.warn = warn or _to_stderr  # what happens to the recorder mid-session, said once
        self.restarts = 0
        self._taken: Heard | None = None
        self._sounding = threading.Event()
        self.utterances = 0  # short utterances cut from the sound, voices or not (for the benchmark)
        self.heard: list[Heard] = []
        self._commands: queue.Queue[Heard] = queue.Queue()
        self._mutes: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._offsets: collections.deque = collections.deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.recorder: str | None = None

    # -- the player's side ------------------------------------------------------------
    def mute_while(self, intervals: Iterable[tuple[float, float]], now_s: float | None = None) -> None:
        """From now on the coach sounds during ``intervals`` (monotonic ``(start_s, end_s)``).

        Replaces what was announced before for the future: sounds already started are cut
        at ``now_s`` (a pause or a skip stopped them), later ones are dropped, and the
        recent past is kept for utterances still being decided.
        """
        now_s = self.clock() if now_s is None else now_s
        self._sounding.set()  # the coach sounds: a recognizer started in the background may load now
        with self._lock:
            kept = [(a, min(b, now_s)) for a, b in self._mutes if a <= now_s and b > now_s - 30]
            self._mutes = kept + [(float(a), float(b)) for a, b in intervals]

    def listen_for(self, words: dict[str, Command]) -> None:
        """Listen for these words (spoken word -> command) from the next utterance on:
        ``CHECK_IN_WORDS`` (with "stop") for the check-in, ``SESSION_WORDS`` during a session."""
        self._wanted = dict(words)

    def update(self, status: PlayState, title: str, exercise: str, length_s: float,
               position_s: float = 0.0, track: int | None = None) -> None:
        """Nothing: what the coach plays reaches us as ``mute_while``."""

    def wait(self, timeout_s: float) -> Command | None:
        heard = self.wait_heard(timeout_s)
        return heard.command if heard else None

    def wait_heard(self, timeout_s: float) -> Heard | None:
        try:
            if timeout_s <= 0:
                heard = self._commands.get_nowait()
            else:
                heard = self._commands.get(timeout=timeout_s)
        except queue.Empty:
            return None
        self._taken = heard
        return heard

    def taken(self) -> Heard | None:
        """The word ``wait`` last returned, once, if it came within ``TAKEN_S`` (the player
        acknowledges it as it obeys; an older one was for something else, the check-in)."""
        heard, self._taken = self._taken, None
        if heard is None or self.clock() - heard.arrived_s > TAKEN_S:
            return None
        return heard

    # -- starting and stopping --------------------------------------------------------
    def __enter__(self) -> "Spoken":
        """Start listening: the recognizer (its model takes a second or more to load) and
        the recorder, then the listening thread. Raises when either cannot start."""
        recognizer = Recognizer(self.words)
        self._start_recorder()
        self._thread = threading.Thread(target=self._listen, args=(recognizer,), daemon=True,
                                        name="voicecoach-spoken")
        self._thread.start()
        return self

    def start_in_background(self) -> "Spoken":
        """As ``__enter__``, but loading the recognizer and starting the recorder happen on
        the listening thread once the coach's first sound has started (the first
        ``mute_while``), so the session's first word need not wait for them: loading the
        model holds Python's lock for a second or so, and the first word came that much
        later. What can be checked at once is (pocketsphinx and a recorder installed:
        raises as ``__enter__``); a failure after that is one warning line, and the keys
        and buttons go on."""
        if importlib.util.find_spec("pocketsphinx") is None:
            raise RuntimeFailure(f"spoken commands need pocketsphinx; {INSTALL_HINT}")
        if not self.recorders:
            raise AudioDeviceError(f"spoken commands need parec or arecord; {RECORDER_HINT}")
        self._thread = threading.Thread(target=self._start_and_listen, daemon=True, name="voicecoach-spoken")
        self._thread.start()
        return self

    def _start_and_listen(self) -> None:
        self._sounding.wait()
        if self._closed:
            return
        try:
            recognizer = Recognizer(self.words)
            self._start_recorder()
        except (AudioDeviceError, RuntimeFailure) as error:
            self.warn(f"Warning: voice control is off: {error}. The keys and media buttons still work.")
            return
        if self._closed:
            self._recorder.stop()
            return
        self._listen(recognizer)

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._sounding.set()  # a background start still waiting ends
        self._recorder.stop()
        if self._thread:
            self._thread.join(timeout=2)

    @property
    def _process(self):
        """The recorder child now (None before it starts and after it stops)."""
        return self._recorder.process

    def _start_recorder(self) -> None:
        self._first = self._recorder.start()
        self.recorder = self._recorder.name
        now = self.clock()
        self._offsets.clear()  # a new recorder: its sample 0 is heard now
        self._offsets.append((now, now - len(self._first) // 2 / RATE))

    def _restart(self) -> bool:
        """The recorder's output ended while listening: reap it, start it again, and say so
        once; if it cannot be started (or keeps dying), say that voice control is off."""
        name = self.recorder
        status = self._recorder.reap()
        self.restarts += 1
        try:
            if self.restarts > MAX_RESTARTS:
                raise AudioDeviceError(f"it stopped {MAX_RESTARTS + 1} times")
            self._start_recorder()
        except AudioDeviceError as error:
            self.warn(f"Warning: voice control is off: the recorder ({name}) stopped and could not be "
                      f"started again ({error}). The keys and media buttons still work.")
            return False
        if self._closed:  # closed while it was starting
            self._recorder.stop()
            return False
        if self.restarts == 1:
            self.warn(f"Voice control: the recorder ({name}) stopped (exit status {status}); "
                      f"it was started again and listens on.")
        return True

    # -- the listening thread ---------------------------------------------------------
    def _listen(self, recognizer: Recognizer) -> None:
        """Listen until closed, through recorders that die and are started again."""
        while not self._closed:
            self._hear(recognizer, self._recorder.stream)
            if self._closed or not self._restart():
                return

    def _hear(self, recognizer: Recognizer, stream) -> None:
        """Utterances from one recorder's output until it ends (or we are closed)."""
        endpointer = recognizer.endpointer()
        frame = endpointer.frame_bytes
        buffer, samples, frames, start = self._first, 0, [], None
        while not self._closed:
            while len(buffer) < frame:
                data = _read(stream)
                if not data:
                    return
                buffer += data
                self._note_clock(samples + len(buffer) // 2)
            chunk, buffer = buffer[:frame], buffer[frame:]
            samples += frame // 2
            speech = endpointer.process(chunk)
            if speech is None:
                continue
            if start is None:
                start, frames = endpointer.speech_start, []
            if len(frames) * endpointer.frame_length <= MAX_UTTERANCE_S + 1:
                frames.append(speech)  # running speech is not kept beyond that
            if not endpointer.in_speech:
                if self._wanted is not self.words:
                    self.words = self._wanted
                    recognizer.listen_for(self.words)
                if endpointer.speech_end - start <= MAX_UTTERANCE_S:
                    self._utterance(recognizer, b"".join(frames), start, endpointer.speech_end)
                start = None

    def _utterance(self, recognizer: Recognizer, audio: bytes, start: float, end: float) -> None:
        """A short utterance: decoded only if it is a voice (noise never becomes a command),
        and placed in time where the voice is, not where the voice detector padded it."""
        self.utterances += 1
        span = voiced_span(audio)
        if span is not None:
            self._decide(recognizer.word(audio), start + span[0], min(end, start + span[1]))

    def _note_clock(self, samples_read: int) -> None:
        now = self.clock()
        self._offsets.append((now, now - samples_read / RATE))
        while self._offsets and self._offsets[0][0] < now - CLOCK_WINDOW_S:
            self._offsets.popleft()

    def stream_time(self, stream_s: float) -> float:
        """The monotonic instant of ``stream_s`` seconds into the capture."""
        return min(offset for _, offset in self._offsets) - LATENCY_MS / 1000 + stream_s

    def _decide(self, word: str | None, start: float, end: float) -> None:
        if word is None:
            return
        start_s, end_s = self.stream_time(start), self.stream_time(end)
        with self._lock:
            muted = overlap_share(start_s, end_s, self._mutes) > MAX_OVERLAP_SHARE
        heard = Heard(word, self.words[word], start_s, end_s, self.clock(), muted)
        self.heard.append(heard)
        if not muted:
            self._commands.put(heard)


def _read(stream) -> bytes:
    """What the recorder wrote since the last read; b'' once it has gone."""
    try:
        return stream.read1(65536)
    except (OSError, ValueError):  # closed under us by ``close``
        return b""


def _to_stderr(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass
