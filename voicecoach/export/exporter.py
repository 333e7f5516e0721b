"""A session as an audio file: WAV, MP3 (lameenc), Ogg Opus or M4A (ffmpeg), with chapters.

Every file appears only when complete: it is written to a temporary beside it
(``.NAME.voicecoach-partial-PID``) and renamed into place, together with the transcript
and timeline, once all of them are written. An interrupt (Ctrl-C, SIGTERM, SIGHUP), a full
disk or a failing encoder removes the temporaries and leaves any existing file untouched;
temporaries of a process that was killed outright are removed by the next export.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import ExportError, InputError
from .mp3 import MP3_BITRATE_KBPS, MP3_QUALITY, write_mp3  # noqa: F401 (the bench reads the settings here)
from ..routine.load import Routine, builtin_names, load_routine
from ..plan.timeline import Timeline
from .tags import ffmetadata, transcript_format, transcript_text

FORMATS = {".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".opus": "opus", ".m4a": "m4a"}
NEEDS_FFMPEG = ("ogg", "opus", "m4a")
# ffmpeg 5.1 rounds an Ogg chapter's start up to the next whole second (1.6 s becomes 2 s),
# so for Ogg we map no chapters and write them as Vorbis comments ourselves, to the ms.
CHAPTERS_AS_COMMENTS = ("ogg", "opus")
# ffmpeg's encoders, tuned for speech and speed (the default AAC coder and Opus at full
# complexity run 8x and 5x slower for no audible gain here). Opus only runs at 48 kHz.
FFMPEG_CODECS = {
    "ogg": ["-c:a", "libopus", "-b:a", "32k", "-compression_level", "5", "-ar", "48000", "-f", "ogg"],
    "opus": ["-c:a", "libopus", "-b:a", "32k", "-compression_level", "5", "-ar", "48000", "-f", "opus"],
    "m4a": ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-movflags", "+faststart", "-f", "ipod"],
}
PARTIAL = ".voicecoach-partial-"
_PARTIAL_NAME = re.compile(r"^\..+" + re.escape(PARTIAL) + r"(\d+)(\.[a-z]+)?$")
FFMPEG_HINT = "install it with: sudo apt-get install ffmpeg (WAV and MP3 need nothing extra)"


# -- before synthesis: can the files be written at all? ---------------------------------

def audio_format(output: Path) -> str:
    """The format for ``output``'s extension, or an ``InputError`` naming the supported ones."""
    fmt = FORMATS.get(Path(output).suffix.lower())
    if fmt is None:
        suffix = Path(output).suffix or "(no extension)"
        raise InputError(f"-o: unknown audio format {suffix!r} in {str(output)!r}; "
                         f"use one of {', '.join(FORMATS)}")
    return fmt


def check_destination(output: Path, transcript: Path | None = None,
                      timeline_path: Path | None = None, routine=None) -> None:
    """Refuse now, before any synthesis, an export that could not be written.

    Bad names, an output that is the ``routine`` file or one of its sound files, folders
    that do not exist or cannot be written raise ``InputError`` (exit 2); a missing
    encoder raises ``ExportError``. Also removes the temporaries that killed exports left
    in those folders.
    """
    fmt = audio_format(output)
    if transcript is not None:
        transcript_format(transcript)
    if timeline_path is not None and Path(timeline_path).suffix.lower() != ".json":
        raise InputError(f"--timeline: the timeline is JSON, so its name must end in .json; "
                         f"got {str(timeline_path)!r}")
    named = [("-o", Path(output)), ("--transcript", transcript), ("--timeline", timeline_path)]
    named = [(option, Path(path)) for option, path in named if path is not None]
    inputs, seen = _inputs(routine), {}
    for option, path in named:
        key = path.resolve()
        if key in inputs:
            raise InputError(f"{option}: {str(path)!r} is {inputs[key]}; give another name")
        if key in seen:
            raise InputError(f"{option}: {str(path)!r} is also given to {seen[key]}; give each its own file")
        seen[key] = option
        _check_writable(option, path)
    if fmt in NEEDS_FFMPEG:
        _ffmpeg(fmt)


def _inputs(routine) -> dict[Path, str]:
    """The files the export reads, which it must not write: resolved path -> what it is.

    ``routine`` is a name or path as given (its file and sound files), a loaded
    ``Routine`` (its sound files) or None. A built-in routine has no file of its own.
    """
    inputs: dict[Path, str] = {}
    if isinstance(routine, Routine):
        loaded = routine
    elif routine is None or str(routine) in builtin_names() or not Path(routine).is_file():
        return inputs  # (a routine file that does not exist is named by the loader)
    else:
        inputs[Path(routine).resolve()] = "the routine being exported"
        loaded = load_routine(routine)
    for name, path in loaded.sounds:
        inputs[Path(path).resolve()] = f"the routine's sound file sounds.{name}"
    return inputs


def _check_writable(option: str, path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{option}: {str(path)!r} is a folder; give a file name inside it")
    if path.exists() and not path.is_file():
        raise InputError(f"{option}: {str(path)!r} exists and is not a regular file; give another name")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"{option}: the folder {str(folder)!r} does not exist; create it first")
    remove_stale_partials(folder)
    probe = _partial_path(path, ".probe")
    try:  # os.access() says yes to root even on a read-only file system: really try
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as error:
        raise InputError(f"{option}: cannot write in {str(folder)!r}: {error.strerror}") from None


def _ffmpeg(fmt: str) -> str:
    found = shutil.which("ffmpeg")
    if not found:
        raise ExportError(f"exporting .{fmt} needs ffmpeg, which was not found; {FFMPEG_HINT}")
    return found


def _partial_path(final: Path, suffix: str = "") -> Path:
    return final.with_name(f".{final.name}{PARTIAL}{os.getpid()}{suffix}")


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove temporaries in ``folder`` whose export process is gone; return them."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _PARTIAL_NAME.match(entry.name)
            if match and entry.is_file(follow_symlinks=False) and not _alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours from an earlier process with the same id: we are not writing yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


# -- the export ---------------------------------------------------------------------------

def export_session(session, output: Path, *, transcript: Path | None = None,
                   timeline_path: Path | None = None, progress: bool = False,
                   routine: str | Path | None = None) -> Path:
    """Write ``session`` to ``output`` (format from its extension), and optionally its
    transcript (.srt/.vtt) and timeline JSON; all appear together, complete, or not at all.
    No output may be the ``routine`` file (as given) or one of the session's sound files.

    Raises ``InputError`` for bad names, ``ExportError`` when writing fails, and
    ``Terminated`` (a ``KeyboardInterrupt``) on SIGTERM or SIGHUP.
    """
    output = Path(output)
    check_destination(output, transcript, timeline_path, session.routine if routine is None else routine)
    fmt = audio_format(output)
    timeline = session.timeline
    files = _Temporaries()
    with _signals_as_interrupt(), files:
        try:
            if timeline_path is not None:
                text = json.dumps(timeline.to_dict(), indent=1, ensure_ascii=False) + "\n"
                files.new(Path(timeline_path)).write_text(text, encoding="utf-8")
            if transcript is not None:
                text = transcript_text(timeline, transcript_format(transcript))
                files.new(Path(transcript)).write_text(text, encoding="utf-8")
            with Progress(f"Writing {output.name}", progress, timeline.sample_rate) as bar:
                chunks = bar.count(session.chunks(), timeline.total)
                _write_audio(session, fmt, output, chunks, files)
            files.commit(last=output)
        except OSError as error:
            raise ExportError(_disk_error(error, output)) from None
    return output


def _write_audio(session, fmt: str, output: Path, chunks: Iterable[np.ndarray], files) -> None:
    """The audio into a temporary of ``files``, which is created last of all."""
    if fmt == "wav":
        write_wav(files.new(output), chunks, session.timeline)
    elif fmt == "mp3":
        write_mp3(files.new(output), chunks, session.timeline)
    else:
        chapters = files.new(output, ".chapters")
        write_with_ffmpeg(files.new(output), chunks, session.timeline, fmt, chapters)


def _disk_error(error: OSError, output: Path) -> str:
    reason = "the disk is full" if error.errno == 28 else error.strerror or str(error)
    return f"could not write {str(output)!r}: {reason}; nothing was written"


class _Temporaries:
    """The temporaries beside each destination, renamed into place together on ``commit``.

    Leaving the ``with`` block without a commit removes them all.
    """

    def __init__(self):
        self.pending: list[tuple[Path, Path | None]] = []

    def new(self, final: Path, scratch_suffix: str = "") -> Path:
        """Create (exclusively) the temporary for ``final``; a suffix makes a scratch file."""
        temporary = _partial_path(final, scratch_suffix)
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        self.pending.append((temporary, None if scratch_suffix else final))
        return temporary

    def commit(self, last: Path) -> None:
        """Rename every temporary into place, ``last`` (the audio) last: its presence
        says the export finished. Signals wait until all are renamed."""
        finals = [(temporary, final) for temporary, final in self.pending if final is not None]
        for temporary, _ in finals:
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())  # a full disk can still show up here
        finals.sort(key=lambda pair: pair[1] == last)  # stable: the others keep their order
        with _signals_held():
            for temporary, final in finals:
                os.replace(temporary, final)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for temporary, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop as on Ctrl-C, but let the caller tell them apart
    (a shell expects exit status 128 + ``signum``)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP: one arriving now is raised again on leaving,
    to the handler that was there before.

    Not ``pthread_sigmask``: it masks one thread, and espeak's threads would still take
    the signal and have Python run its handler in the main thread mid-way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread runs signal handlers
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in _STOPPING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if arrived:
            signal.raise_signal(arrived[0])


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Terminated``, so the clean-up above runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- writers --------------------------------------------------------------------------------

def write_wav(path: Path, chunks: Iterable[np.ndarray], timeline: Timeline) -> None:
    """16-bit mono PCM WAV; the header announces the exact length before the samples."""
    with open(path, "wb") as handle, wave.open(handle, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(timeline.sample_rate)
        writer.setnframes(timeline.total)
        for chunk in chunks:
            writer.writeframesraw(chunk.astype("<i2").tobytes())


def write_with_ffmpeg(path: Path, chunks: Iterable[np.ndarray], timeline: Timeline, fmt: str,
                      chapters_file: Path) -> None:
    """Pipe raw PCM into ffmpeg (an argument list, no shell); tags and chapters come from
    an ffmetadata file."""
    as_comments = fmt in CHAPTERS_AS_COMMENTS
    chapters_file.write_text(ffmetadata(timeline, chapters_as_comments=as_comments), encoding="utf-8")
    # "file:" because ffmpeg reads a name like ".a:b.ogg..." as protocol ".a"
    command = [_ffmpeg(fmt), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "s16le", "-ar", str(timeline.sample_rate), "-ac", "1", "-i", "pipe:0",
               "-f", "ffmetadata", "-i", f"file:{chapters_file}",
               "-map", "0:a", "-map_metadata", "1", "-map_chapters", "-1" if as_comments else "1",
               *FFMPEG_CODECS[fmt], f"file:{path}"]
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg can never block on it
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=errors)
        try:
            _feed(process, chunks)
            status = process.wait()  # interruptible too: then ffmpeg must not be left running
        except BaseException:
            process.kill()
            process.wait()
            raise
        if status != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            detail = message[-1] if message else "no message"
            raise ExportError(f"ffmpeg failed to encode .{fmt} (exit status {process.returncode}): "
                              f"{detail}")


def _feed(process: subprocess.Popen, chunks: Iterable[np.ndarray]) -> None:
    try:
        for chunk in chunks:
            process.stdin.write(chunk.astype("<i2").tobytes())
        process.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped reading: its exit status and message say why


# -- progress -------------------------------------------------------------------------------

class Progress:
    """A one-line bar on stderr, redrawn at most every ``interval_s`` and cleared at the
    end; silent when not ``enabled`` (the CLI enables it only on a terminal).

    ``update(done, total)`` fits ``SpeechCache.prefetch``'s progress callback; with a
    ``sample_rate`` the amounts are samples and shown as minutes.
    """

    def __init__(self, label: str, enabled: bool, sample_rate: int | None = None,
                 stream=None, interval_s: float = 0.1):
        self.label, self.enabled, self.sample_rate = label, enabled, sample_rate
        self.stream, self.interval_s = stream or sys.stderr, interval_s
        self.done, self.total, self._drawn_at, self._width = 0, 1, 0.0, 0

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, max(total, 1)
        now = time.monotonic()
        if self.enabled and (now - self._drawn_at >= self.interval_s or done >= total):
            self._drawn_at = now
            line = self.line()
            self._width = max(self._width, len(line))
            self.stream.write("\r" + line)
            self.stream.flush()

    def count(self, chunks: Iterable[np.ndarray], total: int) -> Iterator[np.ndarray]:
        """Pass ``chunks`` through, advancing the bar by their lengths."""
        done = 0
        for chunk in chunks:
            yield chunk
            done += len(chunk)
            self.update(done, total)

    def line(self, width: int = 30) -> str:
        fraction = min(1.0, self.done / self.total)
        filled = round(fraction * width)
        if self.sample_rate:
            amount = f"{_minutes(self.done / self.sample_rate)} of {_minutes(self.total / self.sample_rate)}"
        else:
            amount = f"{self.done} of {self.total}"
        return f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {amount}"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


def _minutes(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"
