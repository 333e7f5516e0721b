"""Ogg Opus and M4A through ffmpeg, the one place it is called: raw PCM into its standard
input (an argument list, no shell), tags and chapters from an ffmetadata file."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import ExportError
from ..plan.model import Timeline
from .tags import ffmetadata

FFMPEG_FORMATS = ("ogg", "opus", "m4a")
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
FFMPEG_HINT = "install it with: sudo apt-get install ffmpeg (WAV and MP3 need nothing extra)"
# ffmpeg encodes speech at 100x real time and more (scripts/bench); one that takes longer
# than this has hung (stopped reading, or never exits) and is stopped.
DEADLINE_BASE_S = 60.0
DEADLINE_PER_SESSION_S = 0.5  # seconds allowed per second of the session: at least 2x real time
# What each container's file starts with: a file without it was not written by the encoder.
MAGIC = {"ogg": (0, b"OggS"), "opus": (0, b"OggS"), "m4a": (4, b"ftyp")}


def find_ffmpeg(fmt: str) -> str:
    """The ffmpeg program, or an ``ExportError`` with the install hint."""
    found = shutil.which("ffmpeg")
    if not found:
        raise ExportError(f"exporting .{fmt} needs ffmpeg, which was not found; {FFMPEG_HINT}")
    return found


def write_with_ffmpeg(path: Path, chunks: Iterable[np.ndarray], timeline: Timeline, fmt: str,
                      chapters_file: Path) -> None:
    """Pipe raw PCM into ffmpeg (an argument list, no shell); tags and chapters come from
    an ffmetadata file."""
    as_comments = fmt in CHAPTERS_AS_COMMENTS
    chapters_file.write_text(ffmetadata(timeline, chapters_as_comments=as_comments), encoding="utf-8")
    # "file:" because ffmpeg reads a name like ".a:b.ogg..." as protocol ".a"
    command = [find_ffmpeg(fmt), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "s16le", "-ar", str(timeline.sample_rate), "-ac", "1", "-i", "pipe:0",
               "-f", "ffmetadata", "-i", f"file:{chapters_file}",
               "-map", "0:a", "-map_metadata", "1", "-map_chapters", "-1" if as_comments else "1",
               *FFMPEG_CODECS[fmt], f"file:{path}"]
    deadline_s = DEADLINE_BASE_S + DEADLINE_PER_SESSION_S * timeline.total_s
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg can never block on it
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=errors)
        stopped = threading.Event()

        def stop() -> None:  # then the pipe breaks and the feeding ends
            stopped.set()
            process.kill()
        watchdog = threading.Timer(deadline_s, stop)
        watchdog.daemon = True
        watchdog.start()
        try:
            _feed(process, chunks)
            status = process.wait()  # interruptible too: then ffmpeg must not be left running
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            watchdog.cancel()
        if stopped.is_set() and status != 0:
            raise ExportError(f"ffmpeg did not finish encoding .{fmt} within {deadline_s:.0f} s "
                              "(it stopped reading or never exited), so it was stopped")
        if status != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            detail = message[-1] if message else "no message"
            raise ExportError(f"ffmpeg failed to encode .{fmt} (exit status {process.returncode}): "
                              f"{detail}")
    _check_written(path, fmt)


def _check_written(path: Path, fmt: str) -> None:
    """ffmpeg said it succeeded: check it wrote the container, not nothing."""
    offset, magic = MAGIC[fmt]
    with open(path, "rb") as handle:
        head = handle.read(offset + len(magic))
    if head[offset:] != magic:
        what = "an empty file" if not head else "a file that is not ." + fmt
        raise ExportError(f"ffmpeg reported success but wrote {what}; nothing was written")


def _feed(process: subprocess.Popen, chunks: Iterable[np.ndarray]) -> None:
    try:
        for chunk in chunks:
            process.stdin.write(chunk.astype("<i2").tobytes())
        process.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped reading: its exit status and message say why

