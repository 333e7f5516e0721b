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
``mute_while(intervals)`` (monotonic seconds). An utterance whose audio overlaps one of
those intervals, widened by ``ECHO_BEFORE_S`` before and ``ECHO_AFTER_S`` after (the
loudspeaker-to-microphone and buffering delays), is discarded however well it matched.
This is safe because nothing the coach says can then become a command, whatever the
routine's texts contain; what it costs: a command said while the coach speaks (or within
0.3 s after) is ignored, and the user says it again after the cue, in the silence of a
hold or a rest. Capture times come from the sample count: sample n was heard at
``t0 + n / 16000``, where ``t0`` is the smallest (read time - samples read so far / rate)
seen in the last ``CLOCK_WINDOW_S`` (a read is never early, only late), less the capture
latency.
"""

from __future__ import annotations

import collections
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from ...errors import AudioDeviceError, RuntimeFailure
from ...processes import stop_process
from ..commands import Command, PlayState

RATE = 16_000
LATENCY_MS = 20
MAX_UTTERANCE_S = 1.2   # the slowest command measured lasted 0.99 s as an utterance
ECHO_BEFORE_S, ECHO_AFTER_S = 0.1, 0.3
CLOCK_WINDOW_S = 20.0
START_TIMEOUT_S = 3.0
INSTALL_HINT = "install pocketsphinx with: pip install pocketsphinx"
RECORDER_HINT = "install one with: apt-get install pulseaudio-utils (parec) or alsa-utils (arecord)"

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


def recorder_commands(rate: int = RATE) -> list[list[str]]:
    """The capture commands to try, in order, that are installed."""
    candidates = [["parec", "--raw", "--format=s16le", f"--rate={rate}", "--channels=1",
                   f"--latency-msec={LATENCY_MS}"],
                  ["arecord", "-q", "-D", "default", "-f", "S16_LE", "-r", str(rate), "-c", "1",
                   "-t", "raw", f"--period-time={LATENCY_MS * 1000}"]]
    return [c for c in candidates if shutil.which(c[0])]


def overlaps(start_s: float, end_s: float, intervals: Iterable[tuple[float, float]],
             before_s: float = ECHO_BEFORE_S, after_s: float = ECHO_AFTER_S) -> bool:
    """Whether [start_s, end_s] touches any interval widened by the echo margins."""
    return any(start_s <= b + after_s and end_s >= a - before_s for a, b in intervals)


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
                 env: dict | None = None, recorders: list[list[str]] | None = None):
        self.words = dict(words)
        self._wanted = self.words
        self.clock, self.env = clock, env
        self.recorders = recorder_commands() if recorders is None else recorders
        self.heard: list[Heard] = []
        self._commands: queue.Queue[Heard] = queue.Queue()
        self._mutes: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._offsets: collections.deque = collections.deque()
        self._process: subprocess.Popen | None = None
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
                return self._commands.get_nowait()
            return self._commands.get(timeout=timeout_s)
        except queue.Empty:
            return None

    # -- starting and stopping --------------------------------------------------------
    def __enter__(self) -> "Spoken":
        recognizer = Recognizer(self.words)
        self._start_recorder()
        self._thread = threading.Thread(target=self._listen, args=(recognizer,), daemon=True,
                                        name="voicecoach-spoken")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        stop_process(self._process, grace_s=2)
        if self._thread:
            self._thread.join(timeout=2)

    def _start_recorder(self) -> None:
        if not self.recorders:
            raise AudioDeviceError(f"spoken commands need parec or arecord; {RECORDER_HINT}")
        failures = []
        for command in self.recorders:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=self.env)
            first = _first_bytes(process, START_TIMEOUT_S)
            if first:
                self._process, self.recorder, self._first = process, command[0], first
                now = self.clock()
                self._offsets.append((now, now - len(first) // 2 / RATE))
                return
            process.kill()
            process.wait()
            message = process.stderr.read().decode(errors="replace").strip().splitlines()
            failures.append(f"{command[0]}: {message[-1] if message else 'no sound arrived'}")
        raise AudioDeviceError("cannot record from the default microphone ("
                               + "; ".join(failures) + "); check that a microphone is connected "
                               "and chosen as the default input")

    # -- the listening thread ---------------------------------------------------------
    def _listen(self, recognizer: Recognizer) -> None:
        endpointer = recognizer.endpointer()
        frame = endpointer.frame_bytes
        buffer, samples, frames, start = self._first, 0, [], None
        stream = self._process.stdout
        while not self._closed:
            while len(buffer) < frame:
                data = stream.read1(65536)
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
                    self._decide(recognizer.word(b"".join(frames)), start, endpointer.speech_end)
                start = None

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
            muted = overlaps(start_s, end_s, self._mutes)
        heard = Heard(word, self.words[word], start_s, end_s, self.clock(), muted)
        self.heard.append(heard)
        if not muted:
            self._commands.put(heard)


def _first_bytes(process: subprocess.Popen, timeout_s: float) -> bytes:
    """The recorder's first output, or b'' if it exited or stayed silent that long."""
    import select
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    if not ready:
        return b""
    return process.stdout.read1(65536)
