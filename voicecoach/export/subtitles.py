"""Subtitles of the spoken cues: SubRip (``.srt``) or WebVTT (``.vtt``). Each speech event
is one cue, from the sample where its voice starts to the sample where it stops, in
milliseconds (rounded to the nearest). Pure: made from the ``Timeline`` alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ..plan.model import SPEECH, Timeline

TRANSCRIPT_FORMATS = (".srt", ".vtt")


def transcript_format(path: str | Path) -> str:
    """``.srt`` or ``.vtt`` from a file name, or an ``InputError`` naming both."""
    suffix = Path(path).suffix.lower()
    if suffix not in TRANSCRIPT_FORMATS:
        raise InputError(f"--transcript: unknown subtitle format {suffix or '(no extension)'!r} in "
                         f"{str(path)!r}; use {' or '.join(TRANSCRIPT_FORMATS)}")
    return suffix


def transcript_text(timeline: Timeline, suffix: str) -> str:
    """The whole subtitle file for ``suffix`` (``.srt`` or ``.vtt``)."""
    cues = sorted((e for e in timeline.events if e.kind == SPEECH), key=lambda e: e.start)
    blocks = []
    for number, event in enumerate(cues, 1):
        start = millis(event.start, timeline.sample_rate)
        end = millis(event.end, timeline.sample_rate)
        text = " ".join(event.text.split())  # a blank line would end the cue early
        if suffix == ".vtt":
            blocks.append(f"{stamp(start, '.')} --> {stamp(end, '.')}\n{_vtt_escape(text)}\n")
        else:
            blocks.append(f"{number}\n{stamp(start, ',')} --> {stamp(end, ',')}\n{_srt_escape(text)}\n")
    header = "WEBVTT\n\n" if suffix == ".vtt" else ""
    return header + "\n".join(blocks)


def millis(samples: int, sample_rate: int) -> int:
    """Samples -> whole milliseconds, rounded to the nearest."""
    return (samples * 1000 + sample_rate // 2) // sample_rate  # exact integer rounding


def stamp(millis: int, separator: str) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (VTT)."""
    seconds, millis = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _srt_escape(text: str) -> str:
    """SubRip has no escapes, and its readers take any line with ``-->`` (ffmpeg's: any
    that reads as ``00:00:01,000 --> 00:00:02,000``) for the start of the next cue, so a
    cue saying that would be lost. A WORD JOINER (U+2060) inside the arrow breaks it for
    every reader and shows as nothing: the cue looks exactly as spoken."""
    return text.replace("-->", "--\u2060>")


def _vtt_escape(text: str) -> str:
    """WebVTT cue text treats ``&`` and ``<`` as markup, and ``-->`` ends a timing line."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
