"""A session as an audio file: WAV, MP3 (lameenc), Ogg Opus or M4A (ffmpeg), with chapters,
and optionally its subtitles and timeline JSON.

All the files appear together, complete, or not at all (``destination.Temporaries``): an
interrupt (Ctrl-C, SIGTERM, SIGHUP), a full disk or a failing encoder removes the
temporaries and leaves any existing file untouched.
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..errors import ExportError
from ..signals import stop_signals
from .destination import Temporaries, audio_format, check_destination, disk_error
from .ffmpeg import write_with_ffmpeg
from .mp3 import write_mp3
from .subtitles import transcript_format, transcript_text
from .wav import write_wav

Progress = Callable[[int, int], None]  # (samples written, samples in all)


def export_session(session, output: Path, *, transcript: Path | None = None,
                   timeline_path: Path | None = None, progress: Progress | None = None,
                   timeline_extra: dict | None = None) -> Path:
    """Write ``session`` to ``output`` (format from its extension), and optionally its
    transcript (.srt/.vtt) and timeline JSON; all appear together, complete, or not at all.
    No output may be the routine's file or a sound file the session plays.
    ``progress(done, total)`` is called as the audio is written, in samples;
    ``timeline_extra`` adds keys to the timeline JSON (the levels, as ``plan --json`` shows).

    Raises ``InputError`` for bad names, ``ExportError`` when writing fails, and
    ``signals.Terminated`` (a ``KeyboardInterrupt``) on SIGTERM or SIGHUP.
    """
    with exporting(output, transcript, timeline_path, session.routine) as write:
        return write(session, progress=progress, timeline_extra=timeline_extra)


@contextlib.contextmanager
def exporting(output: Path, transcript: Path | None = None, timeline_path: Path | None = None,
              routine=None) -> Iterator[Callable[..., Path]]:
    """An export in two steps, so that the session can be prepared in between: the
    destination is checked on entering, before any synthesis (``check_destination``, as for
    ``export_session``), and inside, SIGTERM and SIGHUP raise ``signals.Terminated``, so
    temporaries (the speech cache's, the export's) go. Yields ``write(session, *, progress,
    timeline_extra)``, which is ``export_session`` without its checks."""
    check_destination(output, transcript, timeline_path, routine)
    with stop_signals():
        yield functools.partial(_write, Path(output), transcript, timeline_path)


def _write(output: Path, transcript: Path | None, timeline_path: Path | None, session, *,
           progress: Progress | None = None, timeline_extra: dict | None = None) -> Path:
    fmt = audio_format(output)
    timeline = session.timeline
    files = Temporaries()
    with files:
        try:
            if timeline_path is not None:
                text = json.dumps({**timeline.to_dict(), **(timeline_extra or {})}, indent=1,
                                  ensure_ascii=False) + "\n"
                files.new(Path(timeline_path)).write_text(text, encoding="utf-8")
            if transcript is not None:
                text = transcript_text(timeline, transcript_format(transcript))
                files.new(Path(transcript)).write_text(text, encoding="utf-8")
            chunks = _counted(session.chunks(), timeline.total, progress)
            _write_audio(session, fmt, output, chunks, files)
            files.commit(last=output)
        except OSError as error:
            raise ExportError(disk_error(error, output)) from None
    return output


def _counted(chunks: Iterable[np.ndarray], total: int, progress: Progress | None) -> Iterator[np.ndarray]:
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        if progress is not None:
            progress(done, total)


def _write_audio(session, fmt: str, output: Path, chunks: Iterable[np.ndarray], files) -> None:
    """The audio into a temporary of ``files``, which is created last of all."""
    if fmt == "wav":
        write_wav(files.new(output), chunks, session.timeline)
    elif fmt == "mp3":
        write_mp3(files.new(output), chunks, session.timeline)
    else:
        chapters = files.new(output, ".chapters")
        write_with_ffmpeg(files.new(output), chunks, session.timeline, fmt, chapters)
