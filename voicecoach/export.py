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
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .errors import ExportError, InputError
from .timeline import Timeline
from .transcript import ffmetadata, id3_tag, transcript_format, transcript_text

FORMATS = {".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".opus": "opus", ".m4a": "m4a"}
NEEDS_FFMPEG = ("ogg", "opus", "m4a")
# MP3 for phone podcast players: constant 64 kbit/s (exact seeking, every player), mono at
# the voice's 22.05 kHz (MPEG-2 Layer III): about 29 MB an hour, clear for speech.
MP3_BITRATE_KBPS = 64
MP3_QUALITY = 7  # LAME's effort (0 best .. 9 fastest): 7 is 2.3x faster than 2 and measured no worse on speech
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
                      timeline_path: Path | None = None) -> None:
    """Refuse now, before any synthesis, an export that could not be written.

    Bad names, folders that do not exist or cannot be written raise ``InputError``
    (exit 2); a missing encoder raises ``ExportError``. Also removes the temporaries that
    killed exports left in those folders.
    """
    fmt = audio_format(output)
    if transcript is not None:
        transcript_format(transcript)
    named = [("-o", Path(output)), ("--transcript", transcript), ("--timeline", timeline_path)]
    named = [(option, Path(path)) for option, path in named if path is not None]
    seen: dict[Path, str] = {}
    for option, path in named:
        key = path.resolve()
        if key in seen:
            raise InputError(f"{option}: {str(path)!r} is also given to {seen[key]}; give each its own file")
        seen[key] = option
        _check_writable(option, path)
    if fmt in NEEDS_FFMPEG:
        _ffmpeg(fmt)


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
                   timeline_path: Path | None = None, progress: bool = False) -> Path:
    """Write ``session`` to ``output`` (format from its extension), and optionally its
    transcript (.srt/.vtt) and timeline JSON; all appear together, complete, or not at all.

    Raises ``InputError`` for bad names and ``ExportError`` when writing fails.
    """
    output = Path(output)
    check_destination(output, transcript, timeline_path)
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
            files.commit()
        except OSError as error:
            raise ExportError(_disk_error(error, output)) from None
    return output


def _write_audio(session, fmt: str, output: Path, chunks: Iterable[np.ndarray], files) -> None:
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

    def commit(self) -> None:
        for temporary, final in self.pending:
            if final is not None:
                with open(temporary, "rb+") as handle:
                    os.fsync(handle.fileno())  # a full disk can still show up here
        for temporary, final in self.pending:
            if final is not None:
                os.replace(temporary, final)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for temporary, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``KeyboardInterrupt``, so the clean-up above runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

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


def write_mp3(path: Path, chunks: Iterable[np.ndarray], timeline: Timeline) -> None:
    """CBR MP3 streamed through LAME (lameenc), after an ID3v2.3 tag with the chapters.

    The first frame is a LAME "Info" frame holding the frame count and the encoder's
    delay and padding, so players that honour it (ffmpeg, Apple's, most podcast apps)
    play exactly ``timeline.total`` samples and chapter times stay exact.
    """
    try:
        import lameenc  # the one place MP3 encoding happens: a pip wheel, no external tool
    except ImportError:
        raise ExportError("MP3 export needs the lameenc package: pip install lameenc") from None
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(timeline.sample_rate)
    encoder.set_out_sample_rate(timeline.sample_rate)  # LAME would otherwise pick its own
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    frames = _FrameCounter()
    with open(path, "wb") as out:
        out.write(id3_tag(timeline))
        info_at = out.tell()
        out.write(bytes(_info_frame_size(timeline.sample_rate)))  # filled in at the end
        for chunk in chunks:
            out.write(frames.feed(encoder.encode(chunk.astype("<i2").tobytes())))
        out.write(frames.feed(encoder.flush()))
        padding = frames.count * frames.samples_per_frame - LAME_DELAY - timeline.total
        out.seek(info_at)
        out.write(_info_frame(frames, out_bytes=frames.bytes, padding=padding))


# MPEG audio frame headers, enough to count the frames LAME writes (ISO 11172-3, 13818-3).
LAME_DELAY = 576  # samples LAME puts before the audio (decoders add their own 529)
_KBPS = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0),
         2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0)}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _frame_size(header: bytes) -> int:
    version = (header[1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or version not in _RATES:
        raise ExportError(f"the MP3 encoder wrote an unreadable frame header {header.hex()}")
    kbps = _KBPS[1 if version == 3 else 2][header[2] >> 4]
    rate = _RATES[version][(header[2] >> 2) & 3]
    return (144 if version == 3 else 72) * kbps * 1000 // rate + ((header[2] >> 1) & 1)


def _info_frame_size(sample_rate: int) -> int:
    return (144 if sample_rate >= 32000 else 72) * MP3_BITRATE_KBPS * 1000 // sample_rate


class _FrameCounter:
    """Counts the frames of an MP3 stream as it passes, whatever the pieces' boundaries."""

    def __init__(self):
        self.count, self.bytes, self.first_header = 0, 0, b""
        self._pending, self._skip = b"", 0

    @property
    def samples_per_frame(self) -> int:
        return 1152 if (self.first_header[1] >> 3) & 3 == 3 else 576

    def feed(self, data: bytes) -> bytes:
        self.bytes += len(data)
        buffer, position = self._pending + data, self._skip
        while position + 4 <= len(buffer):
            header = buffer[position:position + 4]
            self.first_header = self.first_header or header
            self.count += 1
            position += _frame_size(header)
        self._pending = buffer[position:] if position < len(buffer) else b""
        self._skip = max(0, position - len(buffer))
        return data


def _info_frame(frames: _FrameCounter, out_bytes: int, padding: int) -> bytes:
    """A silent frame carrying the Xing "Info" and LAME tags (CBR) for gapless playback."""
    first = frames.first_header
    header = bytes([first[0], first[1], first[2] & ~0x02, first[3]])  # no padding byte
    size = _frame_size(header)
    side_info = 17 if (first[1] >> 3) & 3 == 3 else 9  # mono
    stream_bytes = out_bytes + size
    toc = bytes(i * 256 // 100 for i in range(100))  # constant bitrate: a straight line
    xing = b"Info" + struct.pack(">III", 0x0F, frames.count, stream_bytes) + toc + bytes(4)
    lame = (b"LAME3.100" + bytes([0x01, 0]) + bytes(8) + bytes([0, min(MP3_BITRATE_KBPS, 255)])
            + (LAME_DELAY << 12 | max(0, min(padding, 4095))).to_bytes(3, "big")
            + bytes(4) + struct.pack(">I", stream_bytes) + bytes(2))
    body = header + bytes(side_info) + xing + lame
    body += struct.pack(">H", _crc16(body))
    return body + bytes(size - len(body))


def _crc16(data: bytes) -> int:
    """CRC-16/ARC (polynomial 0x8005, reflected), the LAME tag's checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def write_with_ffmpeg(path: Path, chunks: Iterable[np.ndarray], timeline: Timeline, fmt: str,
                      chapters_file: Path) -> None:
    """Pipe raw PCM into ffmpeg (an argument list, no shell); tags and chapters come from
    an ffmetadata file."""
    chapters_file.write_text(ffmetadata(timeline), encoding="utf-8")
    command = [_ffmpeg(fmt), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "s16le", "-ar", str(timeline.sample_rate), "-ac", "1", "-i", "pipe:0",
               "-f", "ffmetadata", "-i", str(chapters_file),
               "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
               *FFMPEG_CODECS[fmt], str(path)]
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg can never block on it
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=errors)
        try:
            _feed(process, chunks)
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.wait() != 0:
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
