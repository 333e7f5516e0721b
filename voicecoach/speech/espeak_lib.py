"""libespeak-ng through pyttsx3, in the process that speaks: the one engine, the check
that its data is there, and speaking one text into a WAV file. Imports nothing heavy
(no numpy): it is what the child process of ``espeak_worker`` runs, and it should start fast.

Its quirks, handled here:

- ``runAndWait()`` may return before the WAV is written, and a failed write is swallowed:
  we check the file is a complete WAV and raise ``EngineError`` otherwise;
- two ``save_to_file`` calls before one ``runAndWait`` write only the second: one call each;
- it prints "Audio saved to ..." on stdout: swallowed, so our output stays clean.
"""

from __future__ import annotations

import atexit
import io
import os
import threading
import time
import wave
from pathlib import Path

from ..errors import EngineError

# How long to wait for espeak-ng before calling it hung: its time grows with the text.
# The longest cue allowed (5,000 characters) at 80 WPM, 8 minutes of speech, took 3.1 s
# on an idle 2-core machine and about 5 s loaded; this allows it 60 s, a short cue 10 s.
TIMEOUT_S = 10.0
TIMEOUT_PER_CHAR_S = 0.01
INSTALL_HINT = "install it with: sudo apt-get install espeak-ng && pip install pyttsx3"
LOCK = threading.Lock()  # espeak-ng is one global engine per process
_ENGINE = None
_DATA_FILES = ("phontab", "phonindex", "phondata", "intonations")  # what espeak-ng loads first


def shared_engine():
    """The process's one pyttsx3 engine, made on first use (call with ``LOCK`` held).

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
    with LOCK:
        _ENGINE = None


def synthesis_timeout_s(text: str) -> float:
    """Seconds to wait for espeak-ng to finish speaking ``text`` into a file."""
    return TIMEOUT_S + TIMEOUT_PER_CHAR_S * len(text)


def speak_to_wav(voice: str, text: str, target: str, shown: str) -> bytes:
    """The WAV of ``text`` (with its rate command) in ``voice``, written at ``target``: the
    child's work; ``shown`` is the cue as errors name it.

    Spoken again once when the WAV has no frames: pyttsx3's driver writes the file when
    espeak-ng says the text is done, before adding the samples of that same callback, so
    now and then (seen under load) a short cue comes out empty."""
    data = _speak_once(voice, text, target, shown)
    return data if _frames(data) else _speak_once(voice, text, target, shown)


def _frames(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as reader:
        return reader.getnframes()


def _speak_once(voice: str, text: str, target: str, shown: str) -> bytes:
    """One ``save_to_file`` per ``runAndWait``: queueing two writes only the second."""
    with LOCK:
        engine = shared_engine()
        finished, errors = threading.Event(), []
        tokens = [engine.connect("finished-utterance", lambda **_: finished.set()),
                  engine.connect("error", lambda exception=None, **_: errors.append(exception))]
        try:
            engine.setProperty("voice", voice)
            engine.save_to_file(text, target)
            engine.runAndWait()
            # runAndWait() can return as soon as the text is queued: espeak's own thread
            # writes the file, then signals "finished-utterance" (so we listen until then).
            finished.wait(synthesis_timeout_s(text))
        except (RuntimeError, ValueError, OSError) as error:
            raise EngineError(f"espeak-ng failed to speak {shown}: {error}") from None
        finally:
            for token in tokens:
                engine.disconnect(token)
        if errors:  # pyttsx3 reports a failed command (e.g. a voice it cannot set) only here
            raise EngineError(f"espeak-ng failed to speak {shown}: {errors[0]}")
        return _read_when_complete(Path(target), text, shown)


def _read_when_complete(path: Path, text: str, shown: str) -> bytes:
    """The WAV at ``path`` once it holds every frame its header announces.

    Normally complete at once (the driver signals after closing the file); the polling
    covers a driver that signals early, or a signal that never came.
    """
    timeout_s = synthesis_timeout_s(text)
    deadline = time.monotonic() + timeout_s
    while True:
        data = _complete_wav(path)
        if data is not None:
            return data
        if time.monotonic() > deadline:
            raise EngineError(f"espeak-ng wrote no complete audio for {shown} in {timeout_s:g} s")
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


