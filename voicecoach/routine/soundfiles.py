"""A routine's own chime files: a path inside the routine's folder, to a short WAV we can play.

Checked when the routine is loaded, so a bad sound is reported with its line like any other
field, not when the session starts. Every check raises ``ValueError`` with the reason only;
the routine loader adds the file, line and field.
"""

from __future__ import annotations

import difflib
import os
import wave

from ..text import clip
from pathlib import Path

MAX_SOUND_BYTES = 10_000_000
MAX_SOUND_S = 60.0
_PCM16 = "give a 16-bit PCM WAV file"


def check_sound_file(folder: Path, text: str) -> Path:
    """The resolved file named ``text`` (relative to ``folder``) if it is a usable chime."""
    path = confined_path(folder, text)
    problem = wav_problem(path)
    if problem:
        raise ValueError(f"sound file {clip(text)!r} {problem}")
    return path


def confined_path(folder: Path, text: str) -> Path:
    """``folder / text``, resolved, if it is an existing file inside ``folder`` (symlinks too)."""
    if Path(text).is_absolute():
        raise ValueError(f"must be a path relative to the routine's folder, got {clip(text)!r}")
    try:
        base = folder.resolve()
        candidate = (base / text).resolve()
        exists, other = candidate.is_file(), candidate.exists() and not candidate.is_file()
    except (OSError, RuntimeError, ValueError):  # too long, a symlink loop, a NUL byte
        raise ValueError(f"is not a usable file name, got {clip(text)!r}") from None
    if not candidate.is_relative_to(base):
        # Named inside the folder but resolving outside: a symlink (or ../ through one).
        linked = Path(os.path.normpath(base / text)).is_relative_to(base)
        how = "links to a file" if linked else "is"
        raise ValueError(f"must be a file inside the routine's folder; {clip(text)!r} {how} outside it")
    if other:  # a folder, a FIFO (which would block the reader), a device
        raise ValueError(f"sound file {clip(text)!r} is not a regular file ({_kind(candidate)}); "
                         "give a WAV file")
    if not exists:
        raise ValueError(f"sound file {clip(text)!r} does not exist in the routine's folder"
                         f"{_suggest_wav(base, Path(text).name)}")
    return candidate


def wav_problem(path: Path) -> str | None:
    """Why ``path`` is not a chime we can play (a short 16-bit PCM WAV), or None."""
    try:
        if path.stat().st_size > MAX_SOUND_BYTES:
            return f"is larger than {MAX_SOUND_BYTES // 1_000_000} MB; a chime is a short sound"
        with wave.open(str(path), "rb") as reader:
            width, channels, rate = reader.getsampwidth(), reader.getnchannels(), reader.getframerate()
            frames = len(reader.readframes(reader.getnframes())) // max(1, width * channels)
    except OSError as error:
        return f"cannot be read ({error.strerror}); {_PCM16}"
    except Exception as error:  # noqa: BLE001 - wave raises many kinds on a damaged header
        reason = " ".join(str(error).split()) or type(error).__name__
        return f"is not a readable WAV file ({clip(reason)}); {_PCM16}"
    if width != 2:
        return f"is {8 * width}-bit audio; {_PCM16}"
    if channels not in (1, 2) or not 8_000 <= rate <= 192_000:
        return f"has {channels} channels at {rate} Hz; give a mono or stereo WAV at 8000-192000 Hz"
    if not frames:
        return f"holds no audio; {_PCM16} with a sound in it"
    if frames / rate > MAX_SOUND_S:
        return f"lasts {frames / rate:.0f} s; a chime must be at most {MAX_SOUND_S:g} s"
    return None


def _kind(path: Path) -> str:
    if path.is_dir():
        return "a folder"
    if path.is_fifo():
        return "a named pipe"
    return "a socket" if path.is_socket() else "a device"


def _suggest_wav(folder: Path, name: str) -> str:
    try:
        wavs = [p.name for p in folder.iterdir() if p.suffix.lower() == ".wav"]
    except OSError:
        return ""
    match = difflib.get_close_matches(name, wavs, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""
