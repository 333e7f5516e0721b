"""``voicecoach feed``: a static podcast feed of today's session, read by the parsers that
podcast apps use, with chapters that agree and files rewritten only when they change."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from voicecoach.cli import cli
from voicecoach.feed.episode import LEAD_IN_S
from voicecoach.feed.publish import STATE_NAME, publish, read_state
from voicecoach.feed.today import resolve_today
from voicecoach.session.request import SessionRequest
from voicecoach.history.journal import log_played

from fakes import FakeSynthesizer
from support import TEST_DATA, cli_runner, needs_ffmpeg, requires_espeak

ROUTINE = str(TEST_DATA / "feed-small.yaml")
BASE = "http://127.0.0.1:9/patient/"  # never fetched: links only


def _fake_today(rate: int = 140):
    synth = FakeSynthesizer(rate)
    return lambda: resolve_today(SessionRequest(ROUTINE, engine="espeak"), synthesizer=synth)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.fixture(scope="module")
def espeak_feed(tmp_path_factory):
    """One real feed of the small routine, spoken by espeak-ng, made once for the module."""
    folder = tmp_path_factory.mktemp("feed")
    runner = cli_runner()
    done = runner.invoke(cli, ["feed", ROUTINE, "--out", str(folder), "--engine", "espeak",
                               "--base-url", BASE])
    assert done.exit_code == 0, done.output + done.stderr
    return folder, done.output


@pytest.mark.slow
@requires_espeak
def test_podcastparser_and_feedparser_read_the_episode_as_made(espeak_feed):
    import feedparser
    import podcastparser
    folder, output = espeak_feed
    (episode,) = read_state(folder)
    with open(folder / "feed.xml", "rb") as stream:
        parsed = podcastparser.parse(BASE + "feed.xml", stream)
    (item,) = parsed["episodes"]
    (enclosure,) = item["enclosures"]
    audio = folder / episode.file("audio")
    assert enclosure["url"] == BASE + audio.name
    assert enclosure["file_size"] == audio.stat().st_size  # the exact size, not an estimate
    assert enclosure["mime_type"] == "audio/mpeg"
    assert item["guid"] == episode.guid
    assert item["total_time"] == round(episode.duration_s) and episode.duration_s > LEAD_IN_S
    assert "Knee hug: 2 reps" in item["description_html"] and "Breathe: 1 rep" in item["description_html"]
    feed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    (entry,) = feed.entries
    assert entry.id == episode.guid
    assert entry.enclosures[0].length == str(audio.stat().st_size)
    assert entry.itunes_duration == str(round(episode.duration_s))
    assert feed.feed.itunes_block == 1 and feed.feed.podcast_block == "yes"  # a private feed
    assert _podcast_links(folder / "feed.xml") == [
        ("chapters", BASE + episode.file("chapters"), "application/json+chapters"),
        ("transcript", BASE + episode.file("transcript"), "application/x-subrip")]
    assert f"Made {audio.name}" in output


@pytest.mark.slow
@requires_espeak
def test_json_chapters_are_the_mp3s_id3_chapters(espeak_feed):
    from mutagen.id3 import ID3
    folder, _ = espeak_feed
    (episode,) = read_state(folder)
    tag = ID3(folder / episode.file("audio"))
    id3 = sorted((frame.start_time / 1000, frame.sub_frames["TIT2"].text[0]) for frame in tag.getall("CHAP"))
    chapters = json.loads((folder / episode.file("chapters")).read_text())["chapters"]
    assert [c["title"] for c in chapters] == [title for _, title in id3]
    assert [c["title"] for c in chapters] == ["Introduction", "Knee hug", "Breathe", "Finish"]
    for chapter, (start_s, _) in zip(chapters, id3):
        assert abs(chapter["startTime"] - start_s) <= 0.1
    assert chapters[0]["startTime"] == 0 and chapters[1]["startTime"] > LEAD_IN_S


@pytest.mark.slow
@requires_espeak
@needs_ffmpeg
def test_the_episode_starts_with_quiet_then_speaks(espeak_feed):
    """The first 1.5 s are silent (a Bluetooth link wakes on them); the voice follows, and
    the transcript's first cue starts after the lead-in too."""
    import numpy as np
    folder, _ = espeak_feed
    (episode,) = read_state(folder)
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(folder / episode.file("audio")),
                          "-f", "s16le", "-ac", "1", "-ar", "22050", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(pcm, np.int16)
    assert np.abs(samples[: int(1.5 * 22050)]).max() < 200  # MP3 noise at most
    assert np.abs(samples[int(LEAD_IN_S * 22050): int((LEAD_IN_S + 3) * 22050)]).max() > 3000
    first_cue = (folder / episode.file("transcript")).read_text().splitlines()[1]
    assert first_cue.startswith("00:00:02,")


@pytest.mark.slow
@requires_espeak
def test_a_second_run_with_nothing_changed_rewrites_nothing(espeak_feed):
    folder, _ = espeak_feed
    before = _snapshot(folder)
    done = cli_runner().invoke(cli, ["feed", ROUTINE, "--out", str(folder), "--engine", "espeak",
                                     "--base-url", BASE])
    assert done.exit_code == 0, done.stderr
    assert done.output == f"Unchanged: {folder / 'feed.xml'} (1 episode)\n"
    assert _snapshot(folder) == before


def test_the_guid_is_stable_for_the_same_inputs_and_changes_with_the_rate(tmp_path):
    first = publish(tmp_path, [_fake_today()], day=dt.date(2026, 3, 1), links=_links())
    again = publish(tmp_path, [_fake_today()], day=dt.date(2026, 3, 1), links=_links())
    assert [e.guid for e in first.episodes] == [e.guid for e in again.episodes]
    assert first.made and not again.made and not again.written
    faster = publish(tmp_path, [_fake_today(rate=180)], day=dt.date(2026, 3, 1), links=_links())
    assert len(faster.made) == 1 and faster.made[0].guid != first.made[0].guid


def test_a_new_day_with_the_same_levels_links_the_files_instead_of_speaking(tmp_path):
    publish(tmp_path, [_fake_today()], day=dt.date(2026, 3, 1))
    synth = FakeSynthesizer()
    done = publish(tmp_path, [lambda: resolve_today(SessionRequest(ROUTINE, engine="espeak"), synthesizer=synth)],
                   day=dt.date(2026, 3, 2))
    (linked,) = done.linked
    assert synth.calls == []  # no speech, no encoding: the same file under today's name
    first = read_state(tmp_path)[-1] if read_state(tmp_path)[0].id == linked.id else read_state(tmp_path)[0]
    assert os.path.samefile(tmp_path / first.file("audio"), tmp_path / linked.file("audio"))
    assert linked.guid != first.guid and linked.day == "2026-03-02"


def test_levels_that_moved_make_a_new_episode_at_the_new_level(tmp_path):
    (episode,) = publish(tmp_path, [_fake_today()], day=dt.date(2026, 3, 1)).made
    for _ in range(2):  # two good sessions at a level raise it by one
        log_played(episode.source, episode.routine_digest, dict(episode.levels), felt="better")
    (newer,) = publish(tmp_path, [_fake_today()], day=dt.date(2026, 3, 1)).made
    assert dict(newer.levels)["Knee hug"] == 3 and dict(episode.levels)["Knee hug"] == 2
    assert newer.id != episode.id


def test_keep_removes_the_oldest_episodes_and_no_other_file(tmp_path):
    tmp_path = tmp_path / "feed"
    tmp_path.mkdir()
    strangers = ["notes.txt", "2020-01-01-feed-small-0000000000.mp3", "cover.jpg"]
    for name in strangers:
        (tmp_path / name).write_text("not the feed's")
    made = []
    for day in range(1, 6):
        made += publish(tmp_path, [_fake_today(rate=120 + day)], day=dt.date(2026, 3, day), keep=2).made
    kept = read_state(tmp_path)
    assert [e.id for e in kept] == [made[-1].id, made[-2].id]
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {*strangers, "feed.xml", STATE_NAME, ".voicecoach-feed.lock",
                     *made[-1].files(), *made[-2].files()}
    assert all(made[0].id not in line for line in (tmp_path / "feed.xml").read_text().splitlines())


def test_feed_errors_are_one_line(tmp_path):
    runner = cli_runner()
    missing = runner.invoke(cli, ["feed", ROUTINE, "--out", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert missing.stderr == f"Error: --out: the folder {str(tmp_path / 'nowhere')!r} does not exist; create it first\n"
    bad = runner.invoke(cli, ["feed", ROUTINE, "--out", str(tmp_path), "--base-url", "ftp://x/"])
    assert bad.exit_code == 2
    assert bad.stderr == "Error: --base-url: must be an http:// or https:// address of a folder, got 'ftp://x/'\n"
    assert runner.invoke(cli, ["feed", "--out", str(tmp_path)]).exit_code == 2  # a routine is needed
    assert list(tmp_path.iterdir()) == []


def _podcast_links(feed: Path) -> list[tuple[str, str, str]]:
    """The podcast:chapters and podcast:transcript of the feed's one item."""
    import xml.etree.ElementTree as ET
    item = ET.parse(feed).find("channel/item")
    space = "{https://podcastindex.org/namespace/1.0}"
    return [(name, element.get("url"), element.get("type"))
            for name in ("chapters", "transcript") for element in item.iter(space + name)]


def _links():
    from voicecoach.feed.publish import static_links
    return static_links(BASE)


def test_a_lead_in_moves_every_sound_and_chapter_but_the_first_chapters_start(fake_synth):
    from voicecoach.plan.lead_in import with_lead_in
    from voicecoach.session.prepare import prepare
    timeline = prepare(ROUTINE, synthesizer=fake_synth).timeline
    shifted = with_lead_in(timeline, 2.0)
    shift = 2 * timeline.sample_rate
    assert shifted.total == timeline.total + shift
    assert [e.start for e in shifted.events] == [e.start + shift for e in timeline.events]
    assert [c.start for c in shifted.chapters] == [0] + [c.start + shift for c in timeline.chapters[1:]]
    assert with_lead_in(timeline, 0) is timeline
