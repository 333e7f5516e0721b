"""What a session says and where its chapters are, in the forms other programs read.

- subtitles of the spoken cues: SubRip (``.srt``) or WebVTT (``.vtt``); each speech event
  is one cue, from the sample where its voice starts to the sample where it stops, in
  milliseconds (rounded to the nearest);
- the chapters and tags of an MP3 (an ID3v2.3 tag) and of ffmpeg's formats (ffmetadata).
Pure: made from the ``Timeline`` alone, no audio.
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

from ..errors import InputError
from ..plan.timeline import SPEECH, Timeline

TRANSCRIPT_FORMATS = (".srt", ".vtt")
ARTIST, GENRE = "voicecoach", "Podcast"


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
        start = _millis(event.start, timeline.sample_rate)
        end = _millis(event.end, timeline.sample_rate)
        text = " ".join(event.text.split())  # a blank line would end the cue early
        if suffix == ".vtt":
            blocks.append(f"{_stamp(start, '.')} --> {_stamp(end, '.')}\n{_vtt_escape(text)}\n")
        else:
            blocks.append(f"{number}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}\n")
    header = "WEBVTT\n\n" if suffix == ".vtt" else ""
    return header + "\n".join(blocks)


def _millis(samples: int, sample_rate: int) -> int:
    return (samples * 1000 + sample_rate // 2) // sample_rate  # exact integer rounding


def _stamp(millis: int, separator: str) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (VTT)."""
    seconds, millis = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _vtt_escape(text: str) -> str:
    """WebVTT cue text treats ``&`` and ``<`` as markup, and ``-->`` ends a timing line."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def id3_tag(timeline: Timeline) -> bytes:
    """ID3v2.3 (the version every player reads): title, artist, genre, and one CHAP frame
    per section under a CTOC, so podcast players can skip between exercises."""
    from mutagen.id3 import CHAP, CTOC, ID3, TCON, TIT2, TPE1, CTOCFlags
    tag = ID3()
    millis = [_millis(c.start, timeline.sample_rate) for c in timeline.chapters]
    millis.append(_millis(timeline.total, timeline.sample_rate))
    ids = [f"chp{index}" for index in range(len(timeline.chapters))]
    for frame in (TIT2(encoding=3, text=[timeline.title]), TPE1(encoding=3, text=[ARTIST]),
                  TCON(encoding=3, text=[GENRE]),
                  CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                       child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=[timeline.title])])):
        tag.add(frame)
    for index, chapter in enumerate(timeline.chapters):
        tag.add(CHAP(element_id=ids[index], start_time=millis[index], end_time=millis[index + 1],
                     sub_frames=[TIT2(encoding=3, text=[chapter.title])]))
    buffer = io.BytesIO()
    tag.save(buffer, v2_version=3, padding=lambda info: 0)
    return _chapters_in_time_order(buffer.getvalue(), ids)


def _chapters_in_time_order(tag: bytes, ids: list[str]) -> bytes:
    """The tag with its CHAP frames in chapter order (mutagen orders frames by size, and
    some players list chapters in file order). ID3v2.3 frames: id, 4-byte size, 2 flags."""
    frames, position = [], 10
    while position + 10 <= len(tag) and tag[position:position + 4] != bytes(4):
        size = struct.unpack(">I", tag[position + 4:position + 8])[0]
        frames.append(tag[position:position + 10 + size])
        position += 10 + size
    order = {name.encode(): index for index, name in enumerate(ids)}
    chapters = sorted((f for f in frames if f[:4] == b"CHAP"), key=lambda f: order[f[10:].split(b"\0")[0]])
    others = [f for f in frames if f[:4] != b"CHAP"]
    return tag[:10] + b"".join(others + chapters) + tag[position:]


def ffmetadata(timeline: Timeline, chapters_as_comments: bool = False) -> str:
    """ffmpeg's metadata file: title, artist, genre, and one chapter per section.

    With ``chapters_as_comments`` the chapters are global ``CHAPTER001=HH:MM:SS.mmm`` and
    ``CHAPTER001NAME=`` tags, the Vorbis comments Ogg players read (ms, rounded to the
    nearest), instead of ``[CHAPTER]`` sections.
    """
    lines = [";FFMETADATA1", f"title={_ffmetadata_escape(timeline.title)}", f"artist={ARTIST}",
             f"genre={GENRE}"]
    if chapters_as_comments:
        for index, chapter in enumerate(timeline.chapters):
            lines += [f"CHAPTER{index:03d}={_stamp(_millis(chapter.start, timeline.sample_rate), '.')}",
                      f"CHAPTER{index:03d}NAME={_ffmetadata_escape(chapter.title)}"]
        return "\n".join(lines) + "\n"
    for index, chapter in enumerate(timeline.chapters):
        lines += ["", "[CHAPTER]", f"TIMEBASE=1/{timeline.sample_rate}", f"START={chapter.start}",
                  f"END={timeline.chapter_end(index)}", f"title={_ffmetadata_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def _ffmetadata_escape(value: str) -> str:
    """ffmetadata gives '=', ';', '#', backslash and newline a meaning unless escaped."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)
