"""The pyttsx3 adapter (espeak-ng on Linux). All of pyttsx3's quirks are handled here:

- ``runAndWait()`` may return before the WAV is written, and a failed write is swallowed:
  we check the file is a complete WAV and raise ``EngineError`` otherwise;
- two ``save_to_file`` calls before one ``runAndWait`` write only the second: one call each;
- ``getProperty('rate')`` can report a rate that was not applied: we never read it back,
  the rate we set is part of the cache identity;
- it prints "Audio saved to ..." on stdout: swallowed, so our output stays clean.
pyttsx3 is imported lazily so that planning with a cache or a fake never needs it.
"""

from __future__ import annotations

import difflib
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..audio import Audio
from ..errors import EngineError, InputError

DEFAULT_VOICE = "gmw/en-us"
SAMPLE_RATE = 22_050
INSTALL_HINT = "install it with: sudo apt-get install espeak-ng && pip install pyttsx3"
_LOCK = threading.Lock()  # espeak-ng is one global engine per process


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]


def _engine():
    try:
        import pyttsx3
    except ImportError:
        raise EngineError(f"the pyttsx3 speech engine is not installed; {INSTALL_HINT}") from None
    try:
        engine = pyttsx3.init("espeak")
    except (OSError, RuntimeError, ImportError) as error:
        raise EngineError(f"espeak-ng could not be started ({error}); {INSTALL_HINT}") from None
    # The driver prints "Audio saved to ..." from espeak's own thread, sometimes after
    # runAndWait() has returned, so redirecting sys.stdout around the call cannot catch it.
    # Shadowing print in that one module silences exactly that line and nothing else.
    import pyttsx3.drivers.espeak as driver
    driver.print = lambda *args, **kwargs: None
    return engine


def list_voices() -> list[VoiceInfo]:
    with _LOCK:
        voices = _engine().getProperty("voices")
    return sorted((VoiceInfo(v.id.lower(), v.name, tuple(_text(l) for l in v.languages or ()))
                   for v in voices), key=lambda v: v.id)


def _text(value) -> str:
    return value.decode("utf-8", "replace").lstrip("\x05") if isinstance(value, bytes) else str(value)


def check_voice(voice: str | None) -> str:
    """The voice id to use, or an ``InputError`` naming the closest matches."""
    if voice is None:
        return DEFAULT_VOICE
    voices = list_voices()
    wanted = voice.lower()
    for info in voices:
        if wanted in (info.id, info.name.lower()):
            return info.id
    names = [v.id for v in voices] + [v.name.lower() for v in voices]
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see 'voicecoach voices'"
    raise InputError(f"--voice: unknown voice {voice!r}{hint}")


class Pyttsx3Synthesizer:
    """``synthesize(text)``: untrimmed 22.05 kHz mono speech from espeak-ng via pyttsx3."""

    sample_rate = SAMPLE_RATE

    def __init__(self, voice: str | None = None, rate: int = 140):
        self.voice = check_voice(voice)
        self.rate = rate
        self.identity = f"pyttsx3-espeak:{_espeak_version()}:{self.voice}:{rate}"

    def synthesize(self, text: str) -> Audio:
        with _LOCK, tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as folder:
            target = Path(folder) / "cue.wav"
            engine = _engine()
            finished = threading.Event()
            token = engine.connect("finished-utterance", lambda **_: finished.set())
            try:
                engine.setProperty("voice", self.voice)
                engine.setProperty("rate", self.rate)
                engine.save_to_file(text, str(target))
                engine.runAndWait()
                finished.wait(timeout=10.0)  # runAndWait() can return before the file is written
            except (RuntimeError, ValueError, OSError) as error:
                raise EngineError(f"espeak-ng failed to speak {text[:40]!r}: {error}") from None
            finally:
                engine.disconnect(token)
            return _read_when_complete(target, text)


def _read_when_complete(path: Path, text: str, timeout_s: float = 10.0) -> Audio:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return Audio.from_wav_bytes(path.read_bytes())
        except (OSError, ValueError) as error:
            if time.monotonic() > deadline:
                raise EngineError(f"espeak-ng wrote no audio for {text[:40]!r}: {error}") from None
            time.sleep(0.005)


def _espeak_version() -> str:
    """Part of the cache key: a new espeak-ng may speak the same text differently."""
    for candidate in ("/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1", "/usr/lib/libespeak-ng.so.1"):
        if os.path.exists(candidate):
            return str(int(os.path.getmtime(os.path.realpath(candidate))))
    return "unknown"
