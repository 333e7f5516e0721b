"""Tags and chapters in the forms players read: an ID3v2.3 tag for MP3 (CHAP and CTOC
frames) and ffmpeg's ffmetadata file for Ogg and M4A. Pure: made from the ``Timeline``.
mutagen builds the ID3 frames (imported here only).
"""

from __future__ import annotations

import io
import re
import struct

from ..plan.model import Timeline
from .subtitles import millis, stamp

ARTIST, GENRE = "voicecoach", "Podcast"


def id3_tag(timeline: Timeline) -> bytes:
    """ID3v2.3 (the version every player reads): title, artist, genre, and one CHAP frame
    per section under a CTOC, so podcast players can skip between exercises."""
    from mutagen.id3 import CHAP, CTOC, ID3, TCON, TIT2, TPE1, CTOCFlags
    tag = ID3()
    starts = [millis(c.start, timeline.sample_rate) for c in timeline.chapters]
    starts.append(millis(timeline.total, timeline.sample_rate))
    ids = [f"chp{index}" for index in range(len(timeline.chapters))]
    for frame in (TIT2(encoding=3, text=[timeline.title]), TPE1(encoding=3, text=[ARTIST]),
                  TCON(encoding=3, text=[GENRE]),
                  CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                       child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=[timeline.title])])):
        tag.add(frame)
    for index, chapter in enumerate(timeline.chapters):
        tag.add(CHAP(element_id=ids[index], start_time=starts[index], end_time=starts[index + 1],
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
            lines += [f"CHAPTER{index:03d}={stamp(millis(chapter.start, timeline.sample_rate), '.')}",
                      f"CHAPTER{index:03d}NAME={_ffmetadata_escape(chapter.title)}"]
        return "\n".join(lines) + "\n"
    for index, chapter in enumerate(timeline.chapters):
        lines += ["", "[CHAPTER]", f"TIMEBASE=1/{timeline.sample_rate}", f"START={chapter.start}",
                  f"END={timeline.chapter_end(index)}", f"title={_ffmetadata_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def _ffmetadata_escape(value: str) -> str:
    """ffmetadata gives '=', ';', '#', backslash and line ends a meaning unless escaped.

    ffmpeg's reader (5.1 and later) lets a backslash just before a line end continue the
    line even when that backslash is itself escaped, so a value ending in a backslash
    would swallow the next line. A NUL after it stops that: the reader keeps the NUL in
    the line and the value ends there (ffmpeg reads it as a C string).
    """
    escaped = re.sub(r"([=;#\\\r\n])", r"\\\1", value)
    return escaped + "\0" if value.endswith("\\") else escaped
