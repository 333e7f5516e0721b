"""``export``: real speech into WAV, MP3, Ogg Opus and M4A, chapters, transcripts, the
timeline, and every way writing can go wrong (all for real: signals to a real process, a
real full file system, a real failing encoder)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from voicecoach.export import destination, exporter, ffmpeg, mp3
from voicecoach.progress import Progress
from voicecoach.signals import Terminated
from voicecoach.audio import SILENCE_THRESHOLD
from voicecoach.cli import cli
from voicecoach.errors import ExportError, InputError
from voicecoach.routine import load_routine
from voicecoach.session.prepare import prepare
from voicecoach.plan.model import CHIME, SPEECH

from fakes import FakeSynthesizer
from support import cli_runner as _runner, needs_ffmpeg, requires_espeak

ROUTINE = """\
title: Test & routine
intro: Hello.
outro: Done.
rest: 2s
exercises:
  - name: Bridge
    cue: Lift your hips.
    hold: 2s
    release: And down.
  - name: Curl = up
    reps: 2
    cue: Curl up.
    hold: 1s
"""


def run(*args):
    return _runner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def routine_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("routine") / "routine.yaml"
    path.write_text(ROUTINE)
    return path


@pytest.fixture(scope="module")
def session(routine_file, tmp_path_factory):
    """The test routine with the real voice, prepared once (in its own cache folder)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return prepare(str(routine_file), engine="espeak")


@pytest.fixture(scope="module")
def exported(session, tmp_path_factory) -> dict[str, Path]:
    """The session exported once to each format (ffmpeg's only where ffmpeg is)."""
    folder = tmp_path_factory.mktemp("exported")
    files = {}
    for suffix in (".wav", ".mp3", ".m4a", ".ogg", ".opus"):
        if suffix in (".wav", ".mp3") or shutil.which("ffmpeg"):
            files[suffix] = exporter.export_session(session, folder / f"s{suffix}")
    return files


def _wav_samples(path: Path) -> tuple[np.ndarray, wave._wave_params]:
    with wave.open(str(path)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), "<i2"), reader.getparams()


def _decoded(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", "22050", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<i2")


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", "-show_chapters", str(path)],
                         capture_output=True, check=True, text=True).stdout
    return json.loads(out)


def _millis(samples: int) -> int:
    return (samples * 1000 + 11025) // 22050


def _no_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if "voicecoach-partial" in p.name]


# -- what the files hold ---------------------------------------------------------------------

@requires_espeak
def test_the_wav_is_the_timeline_to_the_sample(session, exported):
    samples, params = _wav_samples(exported[".wav"])
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
    assert len(samples) == session.timeline.total == round(session.timeline.total_s * 22050)
    assert np.array_equal(samples, np.concatenate(list(session.chunks())))


@requires_espeak
def test_at_each_speech_start_the_audio_goes_from_silence_to_speech(session, exported):
    samples, _ = _wav_samples(exported[".wav"])
    sounds = [e for e in session.timeline.events if e.kind in (SPEECH, CHIME)]
    checked = 0
    for event in sounds:
        before = (event.start - 220, event.start)  # the 10 ms before
        if event.start < 220 or any(o.start < before[1] and o.end > before[0] for o in sounds if o is not event):
            continue
        assert np.abs(samples[before[0]:before[1]].astype(int)).max() <= SILENCE_THRESHOLD, event
        assert abs(int(samples[event.start])) > SILENCE_THRESHOLD, event
        checked += event.kind == SPEECH
    assert checked >= 8


@requires_espeak
def test_mp3_has_chapters_tags_and_exactly_the_timeline_length(session, exported):
    from mutagen.mp3 import MP3, BitrateMode
    audio = MP3(exported[".mp3"])
    timeline = session.timeline
    assert (audio.info.channels, audio.info.sample_rate, audio.info.bitrate_mode) == (1, 22050, BitrateMode.CBR)
    assert audio.info.bitrate // 1000 == mp3.MP3_BITRATE_KBPS == 64
    assert round(audio.info.length * 22050) == timeline.total  # the LAME Info frame says so
    tags = audio.tags
    assert (tags["TIT2"].text, tags["TPE1"].text, tags["TCON"].text) == (["Test & routine"], ["voicecoach"], ["Podcast"])
    chapters = [tags[f"CHAP:chp{i}"] for i in range(len(timeline.chapters))]
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == \
        ["Introduction", "Bridge", "Curl = up", "Finish"] == [c.title for c in timeline.chapters]
    assert [(c.start_time, c.end_time) for c in chapters] == \
        [(_millis(c.start), _millis(timeline.chapter_end(i))) for i, c in enumerate(timeline.chapters)]
    toc = tags["CTOC:toc"]
    assert toc.child_element_ids == [f"chp{i}" for i in range(4)] and toc.flags == 3
    in_file = [k for k in tags.keys() if k.startswith("CHAP:")]
    assert in_file == [f"CHAP:chp{i}" for i in range(4)]  # in time order, for players that list them so


@needs_ffmpeg
@requires_espeak
def test_a_decoded_mp3_lines_up_with_the_wav(session, exported):
    decoded = _decoded(exported[".mp3"])
    assert len(decoded) == session.timeline.total  # gapless: the encoder's delay is removed
    wav, _ = _wav_samples(exported[".wav"])
    envelope = lambda x: np.sqrt(np.mean(x[: len(x) // 441 * 441].astype(float).reshape(-1, 441) ** 2, axis=1))
    assert np.corrcoef(envelope(wav), envelope(decoded))[0, 1] > 0.98


@needs_ffmpeg
@requires_espeak
def test_m4a_has_one_chapter_per_exercise_and_the_tags(session, exported):
    probe = _ffprobe(exported[".m4a"])
    timeline = session.timeline
    assert [c["tags"]["title"] for c in probe["chapters"]] == [c.title for c in timeline.chapters]
    starts = [float(c["start_time"]) for c in probe["chapters"]]
    assert starts == pytest.approx([c.start / 22050 for c in timeline.chapters], abs=0.002)
    tags = probe["format"]["tags"]
    assert (tags["title"], tags["artist"], tags["genre"]) == ("Test & routine", "voicecoach", "Podcast")
    assert float(probe["format"]["duration"]) == pytest.approx(timeline.total_s, abs=0.05)
    assert probe["streams"][0]["codec_name"] == "aac" and probe["streams"][0]["channels"] == 1


@needs_ffmpeg
@requires_espeak
@pytest.mark.parametrize("suffix", [".ogg", ".opus"])
def test_ogg_opus_holds_the_session_with_tags_and_chapters(session, exported, suffix):
    probe = _ffprobe(exported[suffix])
    assert probe["streams"][0]["codec_name"] == "opus"
    assert float(probe["format"]["duration"]) == pytest.approx(session.timeline.total_s, abs=0.05)
    tags = {**probe["format"].get("tags", {}), **probe["streams"][0].get("tags", {})}
    assert (tags["title"], tags["artist"]) == ("Test & routine", "voicecoach")
    assert [c["tags"]["title"] for c in probe["chapters"]] == [c.title for c in session.timeline.chapters]
    starts = [float(c["start_time"]) for c in probe["chapters"]]
    assert starts == pytest.approx([c.start / 22050 for c in session.timeline.chapters], abs=0.002)


@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".ogg", ".opus", ".m4a"])
def test_chapters_starting_late_in_a_second_are_not_rounded_up(tmp_path, suffix):
    """ffmpeg 5.1 rounds Ogg chapter seconds up (1.6 s became 2 s): starts at .5 s and
    later in a second must come out where the timeline has them."""
    from voicecoach.plan.model import Chapter, Timeline
    starts = [0, 35280, 59535, 77175]  # 0, 1.6, 2.7, 3.5 s
    timeline = Timeline("t", 22050, (), tuple(Chapter(f"c{i}", s) for i, s in enumerate(starts)), 88200)
    out = tmp_path / f"t{suffix}"
    ffmpeg.write_with_ffmpeg(out, [np.zeros(88200, np.int16)], timeline, suffix[1:], tmp_path / "ch.txt")
    probe = _ffprobe(out)
    assert [c["tags"]["title"] for c in probe["chapters"]] == ["c0", "c1", "c2", "c3"]
    assert [float(c["start_time"]) for c in probe["chapters"]] == pytest.approx([0, 1.6, 2.7, 3.5], abs=0.002)


@needs_ffmpeg
@pytest.mark.parametrize("name", ["a:b.ogg", "a:b.opus", "a:b.m4a"])
def test_a_name_with_a_colon_is_a_file_not_a_protocol(fake_session, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)  # relative, as typed: ffmpeg would read 'a:' or '.a:' as a protocol
    exporter.export_session(fake_session, Path(name))
    duration = float(_ffprobe(tmp_path / name)["format"]["duration"])
    assert duration == pytest.approx(fake_session.timeline.total_s, abs=0.05)
    assert _no_leftovers(tmp_path) == []


# -- transcript and timeline -----------------------------------------------------------------

_SRT_CUE = re.compile(r"(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.+)\n")
_VTT_CUE = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)\n")


def _ms(h, m, s, ms) -> int:
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


@requires_espeak
def test_transcripts_time_every_spoken_cue(session, tmp_path):
    spoken = [e for e in session.timeline.events if e.kind == SPEECH]
    expected = [(_millis(e.start), _millis(e.end), e.text) for e in spoken]
    exporter.export_session(session, tmp_path / "s.wav", transcript=tmp_path / "s.srt")
    srt = (tmp_path / "s.srt").read_text()
    cues = _SRT_CUE.findall(srt)
    assert [int(c[0]) for c in cues] == list(range(1, len(spoken) + 1))
    assert [(_ms(*c[1:5]), _ms(*c[5:9]), c[9]) for c in cues] == expected
    exporter.export_session(session, tmp_path / "s.wav", transcript=tmp_path / "s.vtt")
    vtt = (tmp_path / "s.vtt").read_text()
    assert vtt.startswith("WEBVTT\n\n")
    assert [(_ms(*c[0:4]), _ms(*c[4:8]), c[8]) for c in _VTT_CUE.findall(vtt)] == expected


def test_vtt_escapes_markup_and_srt_keeps_one_line_per_cue(tmp_path):
    from voicecoach.export.subtitles import transcript_text
    from voicecoach.plan.model import Chapter, Event, Timeline
    timeline = Timeline("t", 22050, (Event(22050, 11025, SPEECH, 0, text="Knees <together> &\n\n  still"),),
                        (Chapter("Introduction", 0),), 44100)
    assert transcript_text(timeline, ".vtt") == \
        "WEBVTT\n\n00:00:01.000 --> 00:00:01.500\nKnees &lt;together&gt; &amp; still\n"
    assert transcript_text(timeline, ".srt") == "1\n00:00:01,000 --> 00:00:01,500\nKnees <together> & still\n"


@requires_espeak
def test_export_timeline_is_plan_json_of_the_file_written(routine_file, tmp_path):
    result = run("export", routine_file, "-o", tmp_path / "s.wav", "--timeline", tmp_path / "s.json",
                 "--transcript", tmp_path / "s.srt")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    planned = run("plan", routine_file, "--json")
    assert (tmp_path / "s.json").read_text() == planned.stdout
    timeline = json.loads(planned.stdout)
    samples, _ = _wav_samples(tmp_path / "s.wav")
    assert len(samples) == round(timeline["total_s"] * timeline["sample_rate"])
    assert result.stdout == (f"Wrote {tmp_path / 's.srt'}\nWrote {tmp_path / 's.json'}\n"
                             f"Wrote {tmp_path / 's.wav'} (0:{timeline['total_s']:06.3f}, 4 chapters)\n")


# -- refused before any synthesis ------------------------------------------------------------

def _refused(tmp_path, *args) -> str:
    """Run export; it must exit 2 (or 1), synthesize nothing and write nothing."""
    before = set(tmp_path.rglob("*"))
    result = run("export", "back-pain", *args)
    assert result.exit_code in (1, 2) and result.stdout == ""
    assert set(tmp_path.rglob("*")) - before <= {tmp_path / "cache"}  # the cache folder, empty
    assert not list((tmp_path / "cache").rglob("*.pcm"))
    return f"{result.exit_code} {result.stderr}"


def test_an_unknown_extension_names_the_supported_ones(tmp_path):
    assert _refused(tmp_path, "-o", tmp_path / "s.flac") == (
        f"2 Error: -o: unknown audio format '.flac' in '{tmp_path / 's.flac'}'; "
        "use one of .wav, .mp3, .ogg, .opus, .m4a\n")
    assert _refused(tmp_path, "-o", tmp_path / "session").startswith("2 Error: -o: unknown audio format '(no extension)'")


def test_a_bad_transcript_name_or_a_file_given_twice_is_refused(tmp_path):
    assert _refused(tmp_path, "-o", tmp_path / "s.wav", "--transcript", tmp_path / "s.txt") == (
        f"2 Error: --transcript: unknown subtitle format '.txt' in '{tmp_path / 's.txt'}'; use .srt or .vtt\n")
    (tmp_path / "s.json").symlink_to(tmp_path / "s.wav")  # names differ, the file is one
    assert _refused(tmp_path, "-o", tmp_path / "s.wav", "--timeline", tmp_path / "s.json") == (
        f"2 Error: --timeline: '{tmp_path / 's.json'}' is also given to -o; give each its own file\n")


def test_a_timeline_name_must_end_in_json(tmp_path):
    assert _refused(tmp_path, "-o", tmp_path / "s.wav", "--timeline", tmp_path / "s.yaml") == (
        f"2 Error: --timeline: the timeline is JSON, so its name must end in .json; got '{tmp_path / 's.yaml'}'\n")


def _sounding_routine(folder: Path, name: str = "r.yaml") -> Path:
    from voicecoach.audio import Audio
    (folder / "bell.wav").write_bytes(Audio.tone(1200, 0.25, volume=0.3).to_wav_bytes())
    routine = folder / name
    routine.write_text("title: Own bell\nsounds:\n  start: bell.wav\n" + ROUTINE.split("\n", 1)[1])
    return routine


@pytest.mark.parametrize("option, routine_name, target, what", [
    ("--timeline", "r.json", "r.json", "the routine being exported"),  # JSON is YAML too
    ("--transcript", "r.srt", "r.srt", "the routine being exported"),
    ("-o", "r.yaml", "bell.wav", "the routine's sound file sounds.start"),
])
def test_no_output_may_replace_the_routine_or_its_sounds(tmp_path, monkeypatch, option, routine_name,
                                                          target, what):
    """An output that is the routine's own file or one of its chimes would be overwritten
    by the export: refused before synthesis, however the path is spelled."""
    monkeypatch.chdir(tmp_path)
    routine = _sounding_routine(tmp_path, routine_name)
    (tmp_path / "sub").mkdir()
    spelled = f"sub/../{target}"
    args = {"-o": "s.wav", option: spelled}
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = run("export", routine.name, *[a for item in args.items() for a in item])
    assert (result.exit_code, result.stderr) == (2, f"Error: {option}: '{spelled}' is {what}; give another name\n")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_a_built_in_routine_has_no_file_to_protect(tmp_path):
    destination.check_destination(tmp_path / "back-pain.wav", tmp_path / "back-pain.srt",
                                  tmp_path / "back-pain.json", routine=load_routine("back-pain"))


def test_no_output_may_be_a_shipped_chime(tmp_path):
    from voicecoach.session.chimes import shipped_sound_dir
    chime = shipped_sound_dir() / "start.wav"
    before = chime.read_bytes()
    result = run("export", "back-pain", "-o", str(chime))
    assert (result.exit_code, result.stderr) == (2, f"Error: -o: '{chime}' is the shipped start chime; "
                                                    "give another name\n")
    assert chime.read_bytes() == before


def test_export_reports_its_progress_in_samples(fake_session, tmp_path):
    calls = []
    exporter.export_session(fake_session, tmp_path / "s.wav", progress=lambda done, total: calls.append((done, total)))
    total = fake_session.timeline.total
    assert calls[-1] == (total, total) and len(calls) > 1
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_an_unwritable_destination_is_refused_before_synthesis(tmp_path):
    assert _refused(tmp_path, "-o", tmp_path / "missing" / "s.mp3") == (
        f"2 Error: -o: the folder '{tmp_path / 'missing'}' does not exist; create it first\n")
    with pytest.raises(InputError, match=r"^-o: '.*' is a folder; give a file name inside it$"):
        (tmp_path / "folder.mp3").mkdir()
        destination.check_destination(tmp_path / "folder.mp3", None, None)  # (click refuses it even earlier)
    (tmp_path / "null.json").symlink_to("/dev/null")
    with pytest.raises(InputError, match=r"^--timeline: '.*null.json' exists and is not a regular file; give another name$"):
        destination.check_destination(tmp_path / "s.wav", None, tmp_path / "null.json")  # never replace a device
    # /sys refuses new files even to root (a chmod'ed folder would not stop root)
    assert re.fullmatch(r"2 Error: -o: cannot write in '/sys': (Permission denied|Read-only file system)\n",
                        _refused(tmp_path, "-o", "/sys/s.wav"))


def test_a_missing_ffmpeg_is_named_before_synthesis(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert _refused(tmp_path, "-o", tmp_path / "s.m4a") == (
        "1 Error: exporting .m4a needs ffmpeg, which was not found; install it with: "
        "sudo apt-get install ffmpeg (WAV and MP3 need nothing extra)\n")


# -- faults while writing: nothing partial, nothing stray, the old file untouched ------------

@pytest.fixture
def fake_session(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE)
    return prepare(str(routine), synthesizer=FakeSynthesizer())


def _failing_ffmpeg(folder: Path) -> Path:
    folder.mkdir()
    script = folder / "ffmpeg"
    script.write_text("#!/bin/sh\n# reads a little, writes half a file, then fails like an encoder\n"
                      "head -c 10000 >/dev/null\nfor last; do :; done\necho partial > \"$last\"\n"
                      "echo 'Conversion failed: fake encoder exploded' >&2\nexit 3\n")
    script.chmod(0o755)
    return folder


def test_a_failing_encoder_leaves_no_file_and_the_old_one_untouched(fake_session, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{_failing_ffmpeg(tmp_path / 'bin')}:{os.environ['PATH']}")
    old = tmp_path / "s.m4a"
    old.write_bytes(b"the previous export")
    with pytest.raises(ExportError) as error:
        exporter.export_session(fake_session, old, transcript=tmp_path / "s.srt")
    assert str(error.value) == "ffmpeg failed to encode .m4a (exit status 3): Conversion failed: fake encoder exploded"
    assert error.value.exit_code == 1
    assert old.read_bytes() == b"the previous export"
    assert not (tmp_path / "s.srt").exists() and _no_leftovers(tmp_path) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 200 KiB file system (we are root in CI); None where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)],
                          capture_output=True)
    if made.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_leaves_no_file_and_the_old_one_untouched(fake_session, tmp_path, tiny_disk, monkeypatch):
    folder = tiny_disk or tmp_path / "disk"
    folder.mkdir(exist_ok=True)
    if tiny_disk is None:  # no mount allowed here: the writer fails as a full disk would
        def full(path, chunks, timeline):
            Path(path).write_bytes(b"RIFF")
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(exporter, "write_wav", full)
    old = folder / "s.wav"
    old.write_bytes(b"the previous export")
    assert fake_session.timeline.total * 2 > 200 * 1024  # it cannot fit
    with pytest.raises(ExportError) as error:
        exporter.export_session(fake_session, old, timeline_path=folder / "s.json")
    assert str(error.value) == f"could not write '{old}': the disk is full; nothing was written"
    assert old.read_bytes() == b"the previous export"
    assert sorted(p.name for p in folder.iterdir()) == ["s.wav"]


LONG_ROUTINE = """\
title: Long holds
exercises:
  - name: Plank
    reps: 6
    cue: Hold it.
    hold: 10m
"""


def _start_long_export(tmp_path, suffix: str) -> tuple[subprocess.Popen, Path, Path]:
    """A real export of an hour of audio, caught while it writes its temporary."""
    routine = tmp_path / "long.yaml"
    routine.write_text(LONG_ROUTINE)
    out = tmp_path / "out" / f"long{suffix}"
    out.parent.mkdir()
    out.write_bytes(b"the previous export")
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "export", str(routine), "-o", str(out),
                                "--transcript", str(out.with_suffix(".srt"))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not (partial := _writing(process, out.parent, suffix)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the export never started writing"
        time.sleep(0.005)
    return process, out, partial


def _writing(process: subprocess.Popen, folder: Path, suffix: str) -> Path | None:
    """The audio's temporary once it is being written. Our writers show it by its size;
    ffmpeg (which buffers its M4A output for seconds) by running as our child for a while."""
    partials = [p for p in folder.glob(".voicecoach-partial-*") if "." not in p.name[1:]]
    if suffix != ".m4a":
        with contextlib.suppress(OSError):
            return next((p for p in partials if p.stat().st_size > 20_000), None)
        return None
    encoder = _ffmpeg_child(process.pid)
    if encoder and not hasattr(process, "encoder"):
        process.encoder, process.encoder_seen = encoder, time.monotonic()
    if encoder is not None and time.monotonic() - process.encoder_seen > 0.3 and partials:
        return partials[0]
    return None


def _ffmpeg_child(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            if Path(f"/proc/{child}/comm").read_text().strip() == "ffmpeg":
                return int(child)
    return None


@requires_espeak
@pytest.mark.parametrize("signum, suffix", [(signal.SIGTERM, ".mp3"), (signal.SIGINT, ".wav"),
                                            pytest.param(signal.SIGTERM, ".m4a", marks=needs_ffmpeg)])
def test_a_signal_mid_export_leaves_no_file_and_the_old_one_untouched(tmp_path, signum, suffix):
    process, out, partial = _start_long_export(tmp_path, suffix)
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    expected = (143, "Stopped by SIGTERM.\n") if signum == signal.SIGTERM else (130, "Stopped.\n")
    assert (process.returncode, err.decode()[-len(expected[1]):]) == expected, err
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    if hasattr(process, "encoder"):  # the encoder was stopped too, not left running
        assert _ffmpeg_child(process.pid) is None
        with pytest.raises(ProcessLookupError):
            os.kill(process.encoder, 0)


def test_a_signal_while_renaming_waits_until_every_file_is_in_place(fake_session, tmp_path, monkeypatch):
    """The audio is renamed last, and a signal arriving between renames (SIGTERM at the
    first, Ctrl-C at the second) stops the export only once every file is in place."""
    real_replace, renamed = os.replace, []

    def replace(source, destination):
        if len(renamed) < 2:
            os.kill(os.getpid(), (signal.SIGTERM, signal.SIGINT)[len(renamed)])
            time.sleep(0.05)  # Python runs a handler between two bytecodes: here, unless held
        renamed.append(Path(destination).name)
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Terminated) as stopped:
        exporter.export_session(fake_session, tmp_path / "s.wav", transcript=tmp_path / "s.srt",
                              timeline_path=tmp_path / "s.json")
    assert stopped.value.signum == signal.SIGTERM
    assert renamed == ["s.json", "s.srt", "s.wav"]
    assert (tmp_path / "s.wav").stat().st_size == 44 + 2 * fake_session.timeline.total
    assert _no_leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_audio_is_renamed_last_whatever_order_the_files_were_made(tmp_path, monkeypatch):
    renamed = []
    monkeypatch.setattr(os, "replace", lambda source, destination: renamed.append(Path(destination).name))
    with destination.Temporaries() as files:
        for name in ("s.wav", "s.srt", "s.json"):
            files.new(tmp_path / name)
        files.commit(last=tmp_path / "s.wav")
    assert renamed == ["s.srt", "s.json", "s.wav"]


@needs_ffmpeg
def test_an_interrupt_while_ffmpeg_finishes_stops_ffmpeg(fake_session, tmp_path, monkeypatch):
    """Ctrl-C after the last sample was piped, while waiting for ffmpeg to finish: the
    encoder is killed and reaped, not left running."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "ffmpeg").write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\ncat >/dev/null\nexec sleep 30\n")
    (folder / "ffmpeg").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    fed = ffmpeg._feed

    def feed_then_interrupt(process, chunks):
        fed(process, chunks)
        signal.setitimer(signal.ITIMER_REAL, 0.2)  # lands in the wait for ffmpeg to exit

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    monkeypatch.setattr(ffmpeg, "_feed", feed_then_interrupt)
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            exporter.export_session(fake_session, tmp_path / "s.ogg")
        pid = int((tmp_path / "pid").read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((tmp_path / "pid").read_text()), signal.SIGKILL)
    assert _no_leftovers(tmp_path) == []


@requires_espeak
def test_after_sigkill_the_next_export_removes_the_stray_temporary(tmp_path, routine_file):
    process, out, partial = _start_long_export(tmp_path, ".mp3")
    process.kill()
    process.wait(timeout=30)
    time.sleep(0.2)
    assert partial.exists() and out.read_bytes() == b"the previous export"  # what SIGKILL leaves
    result = run("export", routine_file, "-o", out.parent / "next.wav")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name, "next.wav"]


# -- progress --------------------------------------------------------------------------------

def test_the_progress_bar_draws_on_a_terminal_and_clears_itself():
    stream = io.StringIO()
    with Progress("Writing s.mp3", True, 22050, stream=stream, interval_s=0) as bar:
        for quarter in range(1, 5):
            bar.update(22050 * 30 * quarter, 22050 * 120)
    text = stream.getvalue()
    assert "\rWriting s.mp3 [########......................]  25% 0:30 of 2:00" in text
    assert "\rWriting s.mp3 [##############################] 100% 2:00 of 2:00" in text
    assert text.endswith("\r" + " " * len("Writing s.mp3 [##############################] 100% 2:00 of 2:00") + "\r")


def test_the_progress_bar_is_silent_when_not_on_a_terminal():
    stream = io.StringIO()
    with Progress("Preparing speech", False, stream=stream) as bar:
        for done in range(1, 11):
            bar.update(done, 10)
    assert stream.getvalue() == ""


def test_a_routine_s_own_chime_is_what_the_file_plays(tmp_path):
    from voicecoach.audio import Audio
    bell = Audio.tone(1200, 0.25, volume=0.3)
    (tmp_path / "bell.wav").write_bytes(bell.to_wav_bytes())
    routine = tmp_path / "r.yaml"
    routine.write_text("title: Own bell\nsounds:\n  start: bell.wav\n" + ROUTINE.split("\n", 1)[1])
    session = prepare(str(routine), synthesizer=FakeSynthesizer())
    exporter.export_session(session, tmp_path / "s.wav")
    samples, _ = _wav_samples(tmp_path / "s.wav")
    starts = [e for e in session.timeline.events if e.kind == CHIME and e.sound == "start"]
    assert len(starts) == 2
    for event in starts:
        assert np.array_equal(samples[event.start:event.end], bell.trimmed().samples)


@pytest.mark.parametrize("piece", [1, 3, 208, 209, 4096])
def test_mp3_frames_are_counted_whatever_the_pieces(tmp_path, piece):
    from voicecoach.audio import Audio
    from voicecoach.plan.model import Chapter, Timeline
    tone = Audio.tone(440, 1.0)
    timeline = Timeline("t", 22050, (), (Chapter("Introduction", 0),), len(tone))
    mp3.write_mp3(tmp_path / "t.mp3", [tone.samples], timeline)
    data = (tmp_path / "t.mp3").read_bytes()
    stream = data[data.index(b"\xff\xf3"):]  # after the ID3 tag
    whole, pieces = mp3._FrameCounter(), mp3._FrameCounter()
    whole.feed(stream)
    for start in range(0, len(stream), piece):
        pieces.feed(stream[start:start + piece])
    assert whole.count == pieces.count == len(stream) // 208  # 1 Info frame + audio, ~209 bytes each
    assert (whole.bytes, whole.first_header) == (pieces.bytes, pieces.first_header)
