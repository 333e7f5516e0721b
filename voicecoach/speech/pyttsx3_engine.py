"""The pyttsx3 adapter (espeak-ng on Linux). All of pyttsx3's quirks are handled here:

- ``runAndWait()`` may return before the WAV is written, and a failed write is swallowed:
  we check the file is a complete WAV and raise ``EngineError`` otherwise;
- two ``save_to_file`` calls before one ``runAndWait`` write only the second: one call each;
- ``getProperty('rate')`` can report a rate that was not applied, and
  ``setProperty('rate')`` is itself often ignored after the first utterance: the rate
  goes inside the text as an espeak-ng command, and is part of the cache identity;
- it prints "Audio saved to ..." on stdout: swallowed, so our output stays clean.
pyttsx3 is imported lazily so that planning with a cache or a fake never needs it.
"""

from __future__ import annotations

import atexit
import difflib
import io
import os
import threading
import time
import unicodedata
import wave
from pathlib import Path

from ..audio import Audio
from ..errors import EngineError, InputError
from . import VoiceInfo
from .cache import scratch_folder

DEFAULT_VOICE = "gmw/en-us"
SAMPLE_RATE = 22_050
# How long to wait for espeak-ng before calling it hung: its time grows with the text.
# The longest cue allowed (5,000 characters) at 80 WPM, 8 minutes of speech, took 3.1 s
# on an idle 2-core machine and about 5 s loaded; this allows it 60 s, a short cue 10 s.
TIMEOUT_S = 10.0
TIMEOUT_PER_CHAR_S = 0.01
INSTALL_HINT = "install it with: sudo apt-get install espeak-ng && pip install pyttsx3"
# A lone count word is spoken at its own speed, whatever the session's rate. Judged by
# Whisper base (scripts/intelligibility.py) with 0.3 s of silence around each word, the
# en-us voice's "One" is heard as "Wow" at 160 WPM and below, and its "Three" as "Free" from
# 130 WPM up; at these rates each was heard right every time (100-210 WPM tried).
COUNT_WORD_RATES = {"one": 190, "two": 140, "three": 110}
COUNT_RATES_ID = "counts1"  # in the cache identity: change it when the table changes
_LOCK = threading.Lock()  # espeak-ng is one global engine per process


_ENGINE = None
_DATA_FILES = ("phontab", "phonindex", "phondata", "intonations")  # what espeak-ng loads first


def _engine():
    """The process's one pyttsx3 engine, made on first use (call with ``_LOCK`` held).

    It is kept for the life of the process: a dropped engine unregisters espeak's synth
    callback, which espeak's thread may still be running at that moment.
    """
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    try:
        import pyttsx3
        import pyttsx3.drivers.espeak as driver
        _check_data()
        _ENGINE = pyttsx3.init("espeak")
    except ImportError:
        raise EngineError(f"the pyttsx3 speech engine is not installed; {INSTALL_HINT}") from None
    except (OSError, RuntimeError) as error:
        raise EngineError(f"espeak-ng could not be started ({error}); {INSTALL_HINT}") from None
    # The driver prints "Audio saved to ..." from espeak's own thread, sometimes after
    # runAndWait() has returned, so redirecting sys.stdout around the call cannot catch it.
    # Shadowing print in that one module silences exactly that line and nothing else.
    driver.print = lambda *args, **kwargs: None
    atexit.register(_drop_engine)
    return _ENGINE


def _check_data() -> None:
    """Make sure espeak-ng's data is where the library will look for it: when it is
    missing, ``espeak_Initialize`` prints its own line and ends the whole process."""
    import ctypes
    from pyttsx3.drivers import _espeak
    try:
        initialize_path, info = _espeak.dll.espeak_ng_InitializePath, _espeak.dll.espeak_Info
    except AttributeError:  # a library without these (before 1.49): nothing to ask it
        return
    initialize_path.argtypes, initialize_path.restype = [ctypes.c_char_p], None
    info.argtypes, info.restype = [ctypes.POINTER(ctypes.c_char_p)], ctypes.c_char_p
    initialize_path(None)  # the library's own choice: $ESPEAK_DATA_PATH, else its built-in folder
    where = ctypes.c_char_p()
    info(ctypes.byref(where))
    folder = Path(os.fsdecode(where.value or b"."))
    missing = next((name for name in _DATA_FILES if not (folder / name).is_file()), None)
    if missing:
        moved = " (from ESPEAK_DATA_PATH)" if os.environ.get("ESPEAK_DATA_PATH") else ""
        raise EngineError(f"espeak-ng's data is missing: no {missing} in {folder}{moved}; {INSTALL_HINT}")


def _drop_engine() -> None:
    """Let pyttsx3 unregister its callback while Python still runs: left to interpreter
    shutdown, its clean-up fails and prints a traceback on stderr."""
    global _ENGINE
    with _LOCK:
        _ENGINE = None


def list_voices() -> list[VoiceInfo]:
    with _LOCK:
        voices = _engine().getProperty("voices")
    return sorted((VoiceInfo(v.id.lower(), v.name, tuple(_text(l) for l in v.languages or ()))
                   for v in voices), key=lambda v: v.id)


def _text(value) -> str:
    return value.decode("utf-8", "replace").lstrip("\x05") if isinstance(value, bytes) else str(value)


def check_voice(voice: str | None) -> str:
    """The voice id to use, or an ``InputError`` naming the closest matches.

    A voice may be named by its id (``gmw/en-us``), the id's last part (``en-us``), its
    name (``English (America)``) or its language (``en-us``), in any letter case.
    """
    if voice is None:
        return DEFAULT_VOICE
    voices = list_voices()
    aliases = _aliases(voices)
    matches = aliases.get(voice.strip().lower(), set())
    if len(matches) == 1:
        return next(iter(matches))
    if matches:
        raise InputError(f"--voice: {voice!r} names several voices ({', '.join(sorted(matches))}); "
                         "give one of those ids")
    close = difflib.get_close_matches(voice.strip().lower(), list(aliases), n=10, cutoff=0.6)
    ids = list(dict.fromkeys(id_ for alias in close for id_ in sorted(aliases[alias])))[:3]
    names = {info.id: info.name for info in voices}
    hint = f"; closest: {', '.join(f'{id_} ({names[id_]})' for id_ in ids)}" if ids else ""
    raise InputError(f"--voice: unknown voice {voice!r}{hint} (see 'voicecoach voices')")


def _aliases(voices: list[VoiceInfo]) -> dict[str, set[str]]:
    """Every lower-case name a voice can be called by -> the ids it may mean."""
    aliases: dict[str, set[str]] = {}
    for info in voices:
        for alias in (info.id, info.id.rsplit("/", 1)[-1], info.name.lower(), *info.languages):
            aliases.setdefault(alias.lower(), set()).add(info.id)
    return aliases


def synthesis_timeout_s(text: str) -> float:
    """Seconds to wait for espeak-ng to finish speaking ``text`` into a file."""
    return TIMEOUT_S + TIMEOUT_PER_CHAR_S * len(text)


class Pyttsx3Synthesizer:
    """``synthesize(text)``: untrimmed 22.05 kHz mono speech from espeak-ng via pyttsx3."""

    sample_rate = SAMPLE_RATE

    def __init__(self, voice: str | None = None, rate: int = 140):
        self.voice = check_voice(voice)
        self.rate = rate
        self.identity = f"pyttsx3-espeak:{_engine_version()}:{self.voice}:{rate}:{COUNT_RATES_ID}"

    def synthesize(self, text: str) -> Audio:
        """One ``save_to_file`` per ``runAndWait``: queueing two writes only the second."""
        with _LOCK, scratch_folder() as folder:  # in the cache folder: a killed run's is cleared
            target = folder / "cue.wav"
            engine = _engine()
            finished, errors = threading.Event(), []
            tokens = [engine.connect("finished-utterance", lambda **_: finished.set()),
                      engine.connect("error", lambda exception=None, **_: errors.append(exception))]
            try:
                engine.setProperty("voice", self.voice)
                engine.save_to_file(_with_rate(text, spoken_rate(text, self.rate)), str(target))
                engine.runAndWait()
                # runAndWait() can return as soon as the text is queued: espeak's own thread
                # writes the file, then signals "finished-utterance" (so we listen until then).
                finished.wait(synthesis_timeout_s(text))
            except (RuntimeError, ValueError, OSError) as error:
                raise EngineError(f"espeak-ng failed to speak {text[:40]!r}: {error}") from None
            finally:
                for token in tokens:
                    engine.disconnect(token)
            if errors:  # pyttsx3 reports a failed command (e.g. a voice it cannot set) only here
                raise EngineError(f"espeak-ng failed to speak {text[:40]!r}: {errors[0]}")
            return _read_when_complete(target, text)


def spoken_rate(text: str, rate: int) -> int:
    """The rate ``text`` is spoken at: its own for a lone count word ("Three"), else ``rate``."""
    return COUNT_WORD_RATES.get(text.strip().rstrip(".!").lower(), rate)


def _with_rate(text: str, rate: int) -> str:
    """``text`` spoken at ``rate`` WPM, by an espeak-ng embedded command (Ctrl-A, "140S").

    ``setProperty('rate')`` is not reliable: once a first utterance has run, espeak-ng
    often ignores the new rate (it reaches espeak's command queue, which pyttsx3 then
    cancels). A command inside the text itself always applies. Control characters in
    the text are dropped, so a routine cannot smuggle in commands of its own.
    """
    clean = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return f"\x01{rate}S{clean}"


def _read_when_complete(path: Path, text: str) -> Audio:
    """The WAV at ``path`` once it holds every frame its header announces.

    Normally complete at once (the driver signals after closing the file); the polling
    covers a driver that signals early, or a signal that never came.
    """
    timeout_s = synthesis_timeout_s(text)
    deadline = time.monotonic() + timeout_s
    while True:
        data = _complete_wav(path)
        if data is not None:
            return Audio.from_wav_bytes(data)
        if time.monotonic() > deadline:
            raise EngineError(f"espeak-ng wrote no complete audio for {text[:40]!r} in {timeout_s:g} s")
        time.sleep(0.005)


def _complete_wav(path: Path) -> bytes | None:
    """The file's bytes if it is a WAV holding every frame its header announces."""
    try:
        data = path.read_bytes()
        with wave.open(io.BytesIO(data)) as reader:
            expected = reader.getnframes() * reader.getsampwidth() * reader.getnchannels()
            present = len(reader.readframes(reader.getnframes()))
    except (OSError, EOFError, wave.Error):
        return None
    return data if present == expected else None


def _engine_version() -> str:
    """Part of the cache key: another espeak-ng or pyttsx3 may speak the text differently."""
    from importlib.metadata import version
    try:
        from pyttsx3.drivers import _espeak  # loads libespeak-ng, or raises RuntimeError
    except (ImportError, RuntimeError, OSError) as error:
        raise EngineError(f"espeak-ng cannot be used ({error}); {INSTALL_HINT}") from None
    return f"{(_espeak.Info(None) or b'?').decode()}+pyttsx3-{version('pyttsx3')}"
