"""``feed.xml``: RSS 2.0 with the itunes and Podcasting 2.0 namespaces, made from the
published episodes alone, so the same episodes give the same bytes (no build time in it)
and a feed with nothing new is not rewritten.

Links are ``base_url`` + a file name; without a base URL they are relative to the feed's
own address. The feed asks directories not to list it (``itunes:block``,
``podcast:block``): it is one person's sessions.
"""

from __future__ import annotations

import datetime as dt
import html
import xml.etree.ElementTree as ET
from email.utils import format_datetime

from .episode import Episode

NAMESPACES = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
              "podcast": "https://podcastindex.org/namespace/1.0",
              "content": "http://purl.org/rss/1.0/modules/content/",
              "atom": "http://www.w3.org/2005/Atom"}
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)
FEED_NAME = "feed.xml"
TYPES = {"audio": "audio/mpeg", "chapters": "application/json+chapters", "transcript": "application/x-subrip"}


def _tag(prefix: str, name: str) -> str:
    return f"{{{NAMESPACES[prefix]}}}{name}"


def feed_xml(episodes: list[Episode], *, base_url: str = "", checkin_url: str | None = None,
             title: str | None = None) -> bytes:
    """The feed of ``episodes``, newest first. ``checkin_url`` + an episode's id is its
    check-in page (only a served feed has one)."""
    episodes = sorted(episodes, key=lambda e: (e.published_at, e.id), reverse=True)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    name = title or "voicecoach: " + ", ".join(dict.fromkeys(e.title for e in episodes) or ["sessions"])
    _text(channel, "title", name)
    _text(channel, "link", base_url or "./")
    _text(channel, "description", "Today's exercise session, spoken, at today's levels.")
    _text(channel, "language", "en")
    if base_url:
        ET.SubElement(channel, _tag("atom", "link"), {"href": base_url + FEED_NAME, "rel": "self",
                                                      "type": "application/rss+xml"})
    if episodes:
        _text(channel, "pubDate", _rfc2822(episodes[0].published_at))
    _text(channel, _tag("itunes", "author"), "voicecoach")
    _text(channel, _tag("itunes", "explicit"), "false")
    _text(channel, _tag("itunes", "block"), "Yes")
    _text(channel, _tag("podcast", "block"), "yes")
    for episode in episodes:
        _item(channel, episode, base_url, checkin_url)
    ET.indent(rss, space=" ")
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"


def _item(channel: ET.Element, episode: Episode, base_url: str, checkin_url: str | None) -> None:
    item = ET.SubElement(channel, "item")
    day = dt.date.fromisoformat(episode.day)
    _text(item, "title", f"{episode.title}, {day:%a %d %b %Y}")
    notes = show_notes(episode, checkin_url)
    _text(item, "description", notes)
    _text(item, _tag("content", "encoded"), notes)
    _text(item, "guid", episode.guid).set("isPermaLink", "false")
    _text(item, "pubDate", _rfc2822(episode.published_at))
    ET.SubElement(item, "enclosure", {"url": base_url + episode.file("audio"),
                                      "length": str(episode.audio_bytes), "type": TYPES["audio"]})
    _text(item, _tag("itunes", "duration"), str(round(episode.duration_s)))
    _text(item, _tag("itunes", "episodeType"), "full")
    ET.SubElement(item, _tag("podcast", "chapters"), {"url": base_url + episode.file("chapters"),
                                                       "type": TYPES["chapters"]})
    ET.SubElement(item, _tag("podcast", "transcript"), {"url": base_url + episode.file("transcript"),
                                                         "type": TYPES["transcript"], "rel": "captions"})


def show_notes(episode: Episode, checkin_url: str | None) -> str:
    """The episode's HTML notes: each exercise and its reps, then the check-in link (or,
    for a feed nobody serves, the command that records the session)."""
    rows = "".join(f"<li>{html.escape(name)}: {html.escape(text)}</li>" for name, text in episode.notes)
    minutes = max(1, round(episode.duration_s / 60))
    notes = f"<p>Today's session, about {minutes} min:</p><ul>{rows}</ul>"
    if checkin_url is not None:
        link = html.escape(checkin_url + episode.id, quote=True)
        return notes + f'<p><a href="{link}">Check in after the session</a>: how does your back feel?</p>'
    return notes + (f"<p>After the session, record it: <code>voicecoach log "
                    f"{html.escape(episode.source)} --felt better|same|worse</code></p>")


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _rfc2822(iso: str) -> str:
    return format_datetime(dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc), usegmt=True)
