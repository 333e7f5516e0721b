"""Export and output faults found by probing, each reproduced: metadata that breaks out of
ffmpeg's metadata file, modes and symbolic links of replaced files, an export that is not
all-or-nothing, clean-up across hosts, long names, an ffmpeg that writes nothing or
hangs, output that cannot be written, click's usage block, a cue that reads as an SRT
timing line, and a parent that is a file."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.cli import cli
from voicecoach.errors import ExportError, InputError
from voicecoach.export import destination, exporter, ffmpeg
from voicecoach.export.subtitles import transcript_text
from voicecoach.session.prepare import prepare

from fakes import FakeSynthesizer
from support import REPO, cli_runner as _runner, needs_ffmpeg, requires_espeak

SPECIAL = ["=", ";", "#", "\\"]  # what ffmetadata gives a meaning, newline aside (below)


def run(*args):
    return _runner().invoke(cli, [str(a) for a in args])


def _yaml_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _session(folder: Path, title: str = "Plain", names=("Bridge", "Curl"), cue: str = "Lift."):
    routine = folder / "r.yaml"
    exercises = "".join(f"  - name: {_yaml_text(name)}\n    cue: {_yaml_text(cue)}\n    hold: 1s\n"
                        for name in names)
    routine.write_text(f"title: {_yaml_text(title)}\nexercises:\n{exercises}")
    return prepare(str(routine), synthesizer=FakeSynthesizer())


def _probe(path: Path) -> tuple[dict, list[str]]:
    """The tags (format and stream together) and chapter titles ffprobe reads."""
    out = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                                     "-show_streams", "-show_chapters", str(path)],
                                    capture_output=True, check=True, text=True).stdout)
    tags = {**out["format"].get("tags", {}), **out["streams"][0].get("tags", {})}
    return tags, [chapter["tags"]["title"] for chapter in out["chapters"]]


def _leftovers(*folders: Path) -> list[str]:
    return [p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".voicecoach-")]


# -- 1. ffmetadata: every field escaped, whatever it ends in ---------------------------------

@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".ogg", ".m4a"])
def test_titles_ending_in_any_special_character_are_read_back_exactly(tmp_path, suffix):
    names = [f"Tilt {char}" for char in SPECIAL] + ["Two \\\\", "Mid \\ dle", "Last"]
    session = _session(tmp_path, title="Back \\", names=names)
    out = exporter.export_session(session, tmp_path / f"s{suffix}")
    tags, chapters = _probe(out)
    assert (tags["title"], tags["artist"], tags["genre"]) == ("Back \\", "voicecoach", "Podcast")
    assert chapters == ["Introduction", *names, "Finish"]


@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".ogg", ".m4a"])
@pytest.mark.parametrize("end", SPECIAL + ["\n"])
def test_a_session_title_ending_in_each_special_character_keeps_the_tags_after_it(tmp_path, suffix, end):
    session = _session(tmp_path)
    chapters = tuple(dataclasses.replace(c, title=f"{c.title} {end}") for c in session.timeline.chapters)
    timeline = dataclasses.replace(session.timeline, title=f"Back {end}", chapters=chapters)
    out, scratch = tmp_path / f"s{suffix}", tmp_path / "meta.txt"
    ffmpeg.write_with_ffmpeg(out, [np.zeros(timeline.total, np.int16)], timeline, suffix[1:], scratch)
    tags, titles = _probe(out)
    assert (tags["title"], tags["artist"], tags["genre"]) == (f"Back {end}", "voicecoach", "Podcast")
    assert titles == [c.title for c in chapters]


# -- 2. modes, owners and symbolic links of what is written ----------------------------------

@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o000, 0o666)])
def test_a_new_file_gets_what_the_umask_makes_of_0666_as_any_program_s(tmp_path, mask, mode):
    session = _session(tmp_path)
    previous = os.umask(mask)
    try:
        exporter.export_session(session, tmp_path / "s.wav", transcript=tmp_path / "s.srt")
        with open(tmp_path / "plain", "w"):
            pass  # what open() makes of it, for comparison
    finally:
        os.umask(previous)
    modes = {name: (tmp_path / name).stat().st_mode & 0o777 for name in ("s.wav", "s.srt", "plain")}
    assert modes == {"s.wav": mode, "s.srt": mode, "plain": mode}


@pytest.mark.parametrize("suffix", [".wav", ".mp3", pytest.param(".ogg", marks=needs_ffmpeg)])
def test_a_replaced_file_keeps_its_mode(tmp_path, suffix):
    session = _session(tmp_path)
    out, srt = tmp_path / f"s{suffix}", tmp_path / "s.srt"
    for path, mode in ((out, 0o600), (srt, 0o640)):
        path.write_bytes(b"the previous export")
        path.chmod(mode)
    exporter.export_session(session, out, transcript=srt)
    assert (out.stat().st_mode & 0o777, srt.stat().st_mode & 0o777) == (0o600, 0o640)
    assert out.read_bytes() != b"the previous export"


def test_a_symbolic_link_is_written_through_to_its_target(tmp_path):
    session = _session(tmp_path)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "session.wav"
    target.write_bytes(b"the previous export")
    target.chmod(0o600)
    link = tmp_path / "s.wav"
    link.symlink_to("real/session.wav")
    exporter.export_session(session, link)
    assert link.is_symlink() and os.readlink(link) == "real/session.wav"
    assert target.stat().st_size == 44 + 2 * session.timeline.total
    assert target.stat().st_mode & 0o777 == 0o600
    assert _leftovers(tmp_path, tmp_path / "real") == []


def test_a_link_to_a_missing_folder_is_refused_before_synthesis(tmp_path):
    link = tmp_path / "s.wav"
    link.symlink_to(tmp_path / "gone" / "s.wav")
    with pytest.raises(InputError, match="^-o: the folder '.*gone' does not exist; create it first$"):
        destination.check_destination(link)


# -- 3. all or nothing ------------------------------------------------------------------------

def test_when_the_audio_cannot_be_renamed_the_companions_are_put_back(tmp_path):
    """The audio's rename fails (its name became a folder while it was written): the
    transcript is the old one again, and the timeline, which was not there, is not."""
    session = _session(tmp_path)
    out, srt, timeline = tmp_path / "s.wav", tmp_path / "s.srt", tmp_path / "s.json"
    srt.write_text("the previous transcript")

    def meanwhile(done, total):
        if done == total:
            out.mkdir(exist_ok=True)
            (out / "inside").write_text("x")

    with pytest.raises(ExportError) as error:
        exporter.export_session(session, out, transcript=srt, timeline_path=timeline, progress=meanwhile)
    assert str(error.value) == f"could not write '{out}': Is a directory; nothing was written"
    assert srt.read_text() == "the previous transcript"
    assert not timeline.exists()
    assert _leftovers(tmp_path) == []


def test_after_a_commit_no_old_companion_is_left_aside(tmp_path):
    session = _session(tmp_path)
    srt = tmp_path / "s.srt"
    srt.write_text("the previous transcript")
    exporter.export_session(session, tmp_path / "s.wav", transcript=srt)
    assert srt.read_text() == transcript_text(session.timeline, ".srt")
    assert _leftovers(tmp_path) == []


# -- 4. clean-up across hosts: a lock, not a process id ---------------------------------------

HOLDER = """\
import sys, time
from pathlib import Path
from voicecoach.export.destination import Temporaries
files = Temporaries()
files.__enter__()
print(files.new(Path(sys.argv[1])), flush=True)
time.sleep(60)
"""


def test_only_temporaries_nobody_holds_are_removed(tmp_path):
    """Another process (on this host or another: nothing in the name or the check is about
    its process id) holds its temporary locked while writing it: a clean-up leaves it. What
    nobody holds (a killed export's) is removed; other names are never touched."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "a.mp3")],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        held = Path(holder.stdout.readline().strip())
        assert held.parent == tmp_path and held.name.startswith(".voicecoach-partial-")
        abandoned = [tmp_path / ".voicecoach-partial-0123456789ab",
                     tmp_path / ".voicecoach-partial-ba9876543210.chapters"]
        others = [tmp_path / ".s.mp3.voicecoach-partial-x", tmp_path / "keep.wav",
                  tmp_path / ".voicecoach-kept-00"]
        for path in abandoned + others:
            path.write_bytes(b"x")
        assert sorted(destination.remove_stale_partials(tmp_path)) == sorted(abandoned)
        assert sorted(tmp_path.iterdir()) == sorted([held, *others])
        holder.kill()
        holder.wait()
        assert destination.remove_stale_partials(tmp_path) == [held]  # SIGKILL: the lock is gone
    finally:
        holder.kill()
        holder.wait()


def test_an_export_s_own_clean_up_leaves_another_live_export_s_temporaries(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "a.wav")],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        held = Path(holder.stdout.readline().strip())
        exporter.export_session(_session(tmp_path), tmp_path / "b.wav")
        assert held.exists()
    finally:
        holder.kill()
        holder.wait()


# -- 5. long names ----------------------------------------------------------------------------

def test_a_legal_244_character_name_is_written(tmp_path):
    session = _session(tmp_path)
    out = tmp_path / ("a" * 240 + ".wav")
    exporter.export_session(session, out, transcript=tmp_path / ("b" * 240 + ".srt"))
    assert out.stat().st_size == 44 + 2 * session.timeline.total
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("option, suffix", [("-o", ".wav"), ("--transcript", ".srt"),
                                            ("--timeline", ".json")])
def test_a_name_too_long_for_the_file_system_is_one_line(tmp_path, option, suffix):
    names = {"-o": tmp_path / "s.wav", option: tmp_path / ("a" * 300 + suffix)}
    result = run("export", "back-pain", *[a for item in names.items() for a in item])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {option}: the name '{'a' * 37}...' is too long ({300 + len(suffix)} "
                             "bytes; a name here has at most 255); give a shorter one\n")


def test_a_routine_name_too_long_for_the_file_system_is_one_line():
    result = run("plan", "a" * 300)
    assert (result.exit_code, result.stderr) == (2, f"Error: the name '{'a' * 37}...' is too long for the "
                                                    "file system (300 bytes); give a shorter one\n")


# -- 6. an ffmpeg that writes nothing, or never finishes --------------------------------------

def _fake_ffmpeg(folder: Path, body: str, monkeypatch) -> None:
    folder.mkdir()
    script = folder / "ffmpeg"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


@pytest.mark.parametrize("suffix", [".ogg", ".m4a"])
def test_an_ffmpeg_that_succeeds_without_writing_is_an_error(tmp_path, monkeypatch, suffix):
    _fake_ffmpeg(tmp_path / "bin", "cat >/dev/null\nexit 0\n", monkeypatch)
    out = tmp_path / f"s{suffix}"
    out.write_bytes(b"the previous export")
    with pytest.raises(ExportError) as error:
        exporter.export_session(_session(tmp_path), out, transcript=tmp_path / "s.srt")
    assert str(error.value) == "ffmpeg reported success but wrote an empty file; nothing was written"
    assert out.read_bytes() == b"the previous export"
    assert not (tmp_path / "s.srt").exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("body", ["echo $$ > \"$PIDFILE\"\nexec sleep 60\n",  # never reads
                                  "echo $$ > \"$PIDFILE\"\ncat >/dev/null\nexec sleep 60\n"])  # never exits
def test_an_ffmpeg_that_hangs_is_stopped_at_a_deadline_scaled_to_the_session(tmp_path, monkeypatch, body):
    _fake_ffmpeg(tmp_path / "bin", body, monkeypatch)
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    monkeypatch.setattr(ffmpeg, "DEADLINE_BASE_S", 0.5)
    monkeypatch.setattr(ffmpeg, "DEADLINE_PER_SESSION_S", 0.05)
    session = _session(tmp_path)
    deadline = 0.5 + 0.05 * session.timeline.total_s
    with pytest.raises(ExportError) as error:  # (without the deadline: a wait of 60 s, then a pass)
        exporter.export_session(session, tmp_path / "s.ogg")
    assert str(error.value) == (f"ffmpeg did not finish encoding .ogg within {deadline:.0f} s (it stopped "
                                "reading or never exited), so it was stopped")
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "pid").read_text()), 0)
    assert _leftovers(tmp_path) == []


def test_the_deadline_leaves_a_slow_machine_room():
    """At least 2x real time: ffmpeg encodes speech at 100x and more."""
    assert ffmpeg.DEADLINE_BASE_S >= 30 and ffmpeg.DEADLINE_PER_SESSION_S >= 0.5


# -- 7. output that cannot be written ---------------------------------------------------------

FULL = "Error: could not write the output: No space left on device\n"


def _voicecoach(*args, stdout) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=120)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_output_to_a_full_device_is_one_line_and_status_1():
    with open("/dev/full", "w") as full:
        done = _voicecoach("routines", stdout=full)
    assert (done.returncode, done.stderr) == (1, FULL)


@requires_espeak
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_plan_to_a_full_device_is_one_line_and_status_1(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text("title: T\nexercises:\n  - name: A\n    cue: Go.\n    hold: 1s\n")
    with open("/dev/full", "w") as full:
        done = _voicecoach("plan", str(routine), "--engine", "espeak", stdout=full)
    assert (done.returncode, done.stderr) == (1, FULL)


def test_a_reader_that_goes_away_stops_the_command_quietly():
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "schema"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=REPO)
    process.stdout.close()  # as `| head -0` does
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (141, b"")


class _ClosingPipe(io.StringIO):
    """A stdout whose reader goes away after ``lines`` lines, as ``| head -2``'s does."""

    def __init__(self, lines: int):
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.left -= text.count("\n")
        return super().write(text)


def test_play_into_a_closed_pipe_stops_quietly_and_keeps_the_place(tmp_path):
    from fakes import ROUTINE, FakeClock, FakeDevice, FakeKeys
    from voicecoach.history.places import Places
    from voicecoach.live.play import Parts, play_routine
    from voicecoach.session.request import SessionRequest
    routine = tmp_path / "routine.yaml"
    routine.write_text(ROUTINE)
    clock = FakeClock()
    out = _ClosingPipe(2)
    code = play_routine(SessionRequest(str(routine)), lead_in_s=0,
                        parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock), stdout=out,
                                    clock=clock, controls=FakeKeys(clock), background=False))
    assert code == 128 + signal.SIGPIPE
    assert len(out.getvalue().splitlines()) == 2
    assert Places(str(routine)).saved() is not None


# -- 8. click's usage errors as one line ------------------------------------------------------

@pytest.mark.parametrize("args, line", [
    (["plan", "back-pain", "--rate", "abc"], "Error: --rate: 'abc' is not a valid integer"),
    (["play", "back-pain", "--lead-in", "20"], "Error: --lead-in: 20.0 is not in the range 0<=x<=10"),
    (["export", "back-pain", "-o", "{tmp}"], "Error: -o: File '{tmp}' is a directory"),
    (["export", "back-pain", "--timeline", "{tmp}"], "Error: --timeline: File '{tmp}' is a directory"),
    (["plan"], "Error: Missing argument 'ROUTINE' (see 'voicecoach plan --help')"),
    (["plan", "back-pain", "--bogus"], "Error: No such option '--bogus' (see 'voicecoach plan --help')"),
    (["nope"], "Error: No such command 'nope' (see 'voicecoach --help')"),
])
def test_every_usage_error_is_one_error_line_and_status_2(tmp_path, args, line):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = _runner().invoke(cli, args, prog_name="voicecoach")
    expected = line.replace("{tmp}", str(tmp_path)) + "\n"
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", expected)


def test_help_and_version_still_work():
    helped = _runner().invoke(cli, ["plan", "--help"], prog_name="voicecoach")
    assert helped.exit_code == 0 and helped.stdout.startswith("Usage: voicecoach plan [OPTIONS] ROUTINE\n")
    version = _runner().invoke(cli, ["--version"], prog_name="voicecoach")
    assert version.exit_code == 0 and "version" in version.stdout


# -- 9. a cue that reads as an SRT timing line ------------------------------------------------

TIMING = "00:00:01,000 --> 00:00:02,000"


@needs_ffmpeg
def test_a_cue_that_is_a_timing_line_survives_in_the_srt(tmp_path):
    session = _session(tmp_path, names=("Bridge", "Curl", "Cat"), cue=TIMING)
    srt = tmp_path / "s.srt"
    srt.write_text(transcript_text(session.timeline, ".srt"))
    read = subprocess.run(["ffmpeg", "-v", "error", "-i", str(srt), "-f", "webvtt", "-"],
                          capture_output=True, check=True, text=True).stdout
    cues = [block.split("\n", 1)[1] for block in read.strip().split("\n\n")[1:]]
    spoken = [e.text for e in session.timeline.events if e.kind == "speech"]
    assert [cue.replace("\u2060", "").replace("&gt;", ">") for cue in cues] == spoken
    assert spoken.count(TIMING) == 3


# -- 10. a parent that is a file --------------------------------------------------------------

@pytest.mark.parametrize("below", ["x.wav", "sub/x.wav"])
def test_a_parent_that_is_a_file_is_called_a_file(tmp_path, below):
    (tmp_path / "afile").write_text("x")
    result = run("export", "back-pain", "-o", tmp_path / "afile" / below)
    assert (result.exit_code, result.stderr) == (2, f"Error: -o: '{tmp_path / 'afile'}' is a file, not a "
                                                    "folder; give a path through folders\n")
