"""scripts/bench.py: it runs and reports every figure (values are not judged here: speed is
the benchmark's business), and its measurements find what is really in a recording."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from fakes import FakeSynthesizer
from support import EXERCISE_TEXTS, REPO, requires_espeak
from voicecoach.audio import SAMPLE_RATE, Audio
from voicecoach.routine import load_routine, parse_routine
from voicecoach.session.prepare import prepare
from voicecoach.plan.model import CHIME, HOLD, SPEECH

sys.path.insert(0, str(REPO / "scripts"))
import bench  # noqa: E402
import bench_live  # noqa: E402
import bench_report  # noqa: E402
import bench_routines  # noqa: E402

requires_pulse = pytest.mark.skipif(shutil.which("pulseaudio") is None and not os.environ.get("CI"),
                                    reason="PulseAudio is not installed (CI installs it)")

RUN_KEYS = ("audio_s", "prepare_s", "export_s", "wall_s", "speed_x", "command_speed_x", "peak_mb")
STATS = ("median_ms", "p95_ms", "max_ms", "count")
TARGETS = ("wav_cold_builtin", "wav_warm_builtin", "mp3_vs_pydub_builtin", "wav_cold_2h", "wav_warm_2h",
           "mp3_vs_pydub_2h", "memory_2h", "memory_flat", "first_sound_cold", "live_p95", "live_max",
           "live_overrun", "holds_rate_100_p95", "holds_rate_100_max", "holds_rate_250_p95",
           "holds_rate_250_max", "pause_latency", "pause_button", "spoken_recognition", "spoken_latency",
           "spoken_false_coach", "spoken_false_other", "intelligible_piper_110", "intelligible_piper_140",
           "intelligible_piper_200", "intelligible_espeak_110", "intelligible_espeak_140",
           "intelligible_espeak_200", "intelligible_counts", "piper_memory_2h", "piper_memory_flat",
           "piper_first_plan", "piper_first_sound_cold", "piper_live_p95", "piper_live_max")
INTELLIGIBILITY_TARGETS = tuple(name for name in TARGETS if name.startswith("intelligible_"))
PAUSE_KEYS = ("device", "stops", "median_ms", "max_ms", "latencies_ms", "start_median_ms")
RECOGNITION_KEYS = ("voices", "speeds", "words", "by_voice_speed", "recognized_pct", "latency_median_s",
                    "latency_max_s")
COACH_KEYS = ("speech_s", "sentences", "suppression_on_per_hour", "suppression_off_per_hour", "words_on",
              "words_off")
HEARD_KEYS = ("voice", "words", "words_right", "words_right_pct", "count_words", "count_words_right",
              "seconds", "misheard")


def expected_keys() -> list[str]:
    """Every figure the issue asks for, as dotted paths into the JSON."""
    keys = [f"machine.{k}" for k in ("nproc", "cpu", "python", "load_average", "load_average_end", "wall_s")]
    keys += [f"export.{label}.{fmt}.{state}.{k}" for label in ("builtin", "2h") for fmt in ("wav", "mp3")
             for state in ("cold", "warm") for k in RUN_KEYS]
    keys += [f"memory.{label}.{k}" for label in ("10min", "30min", "2h") for k in ("wav_mb", "mp3_mb", "audio_s")]
    keys += ["memory.growth_mb", "memory.peak_2h_mb"]
    keys += [f"baseline_mp3.{label}.{k}" for label in ("builtin", "2h")
             for k in ("speed_x", "wall_s", "lines", "ours_cold_ratio", "ours_warm_ratio")]
    keys += [f"first_sound.{k}" for k in ("cold_s", "warm_s", "cold_from_start_s", "warm_from_start_s", "lead_in_s")]
    keys += ["live.ours.worst"]
    for player in ("ours", "naive"):
        keys += [f"live.{player}.{part}.{k}" for part in ("onsets", "holds") for k in STATS]
        keys += [f"live.{player}.{k}" for k in ("missing", "overrun_pct", "planned_s")]
    keys += [f"rates.{rate}.holds.{k}" for rate in ("100", "250") for k in STATS]
    keys += [f"pause.{device}.{k}" for device in ("ours", "simpleaudio") for k in PAUSE_KEYS]
    keys += [f"pause.button.{k}" for k in ("presses", "median_ms", "max_ms")]
    keys += ["spoken.skipped", "spoken.other_voice"] + [f"spoken.recognition.{k}" for k in RECOGNITION_KEYS]
    keys += [f"spoken.false_commands.coach.{k}" for k in COACH_KEYS]
    keys += [f"spoken.false_commands.other.{k}" for k in ("speech_s", "sentences", "suppression_off_per_hour",
                                                          "words_off")]
    keys += [f"intelligibility.{k}" for k in ("run", "routine", "judge")]
    keys += [f"intelligibility.engines.{engine}.{rate}.{k}" for engine in ("espeak", "piper")
             for rate in ("110", "140", "200") for k in HEARD_KEYS]
    keys += [f"targets.{name}.{k}" for name in TARGETS for k in ("target", "measured", "met")]
    return keys + engine_keys()


def engine_keys() -> list[str]:
    """The default engine's figures next to espeak-ng's (issue 22), each with its engine."""
    keys = []
    for engine in bench.bench_piper.engines():
        keys += [f"engines.{engine}.export.{label}.{state}.{k}" for label in bench.bench_piper.EXPORT_LABELS
                 for state in ("cold", "warm") for k in RUN_KEYS + ("engine", "load_average")]
        keys += [f"engines.{engine}.memory.{label}.{k}" for label in ("10min", "30min", "2h")
                 for k in ("cold_mb", "warm_mb", "audio_s")]
        keys += [f"engines.{engine}.memory.{k}" for k in ("growth_cold_mb", "growth_warm_mb", "peak_2h_mb")]
        keys += [f"engines.{engine}.first_plan.{k}" for k in ("cold_s", "warm_s", "cold_peak_mb",
                                                             "warm_peak_mb", "engine", "load_average")]
        keys += [f"first_sound_engines.{engine}.{k}" for k in ("cold_s", "warm_s", "engine", "load_average")]
        keys += [f"live_engines.{engine}.onsets.{k}" for k in STATS]
        keys += [f"live_engines.{engine}.{k}" for k in ("missing", "engine", "load_average")]
    return keys


def lookup(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data[part]
    return data


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """One ``--quick --json`` run of the real script, shared by the tests that read it."""
    home = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(home / "cache"), VOICECOACH_STATE_DIR=str(home / "state"))
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--json"],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@requires_espeak
@requires_pulse
def test_quick_json_has_every_figure(quick_results):
    missing = []
    for key in expected_keys():
        try:
            lookup(quick_results, key)
        except (KeyError, TypeError):
            missing.append(key)
    assert missing == []
    assert quick_results["mode"] == "quick"
    assert sorted(quick_results["targets"]) == sorted(TARGETS)


@requires_espeak
@requires_pulse
def test_quick_run_measures_pause_and_spoken_commands_but_not_intelligibility(quick_results):
    pause = quick_results["pause"]
    for device, name in (("ours", "AlsaDevice"), ("simpleaudio", "SimpleaudioDevice")):
        assert pause[device]["device"] == f"voicecoach.live.device:{name}"
        assert pause[device]["stops"] == len(pause[device]["latencies_ms"]) == len(bench.QUICK_HOLDS_S)
        assert pause[device]["max_ms"] == max(pause[device]["latencies_ms"])
    assert pause["button"]["presses"] == bench.QUICK_BUTTON_PRESSES
    spoken = quick_results["spoken"]
    if importlib.util.find_spec("pocketsphinx") and shutil.which("parec"):
        assert spoken["skipped"] is None  # measured, not skipped, where it can be
        recognition = spoken["recognition"]
        assert recognition["words"] == list(bench.QUICK_SPOKEN["words"])
        assert list(recognition["by_voice_speed"]) == list(bench.QUICK_SPOKEN["voices"])
        assert all(0 <= pct <= 100 for by_speed in recognition["by_voice_speed"].values()
                   for pct in by_speed.values())
        coach = spoken["false_commands"]["coach"]
        assert coach["sentences"] >= 1 and coach["speech_s"] > 0
        assert set(coach["words_on"]) <= set(coach["words_off"])
    heard = quick_results["intelligibility"]
    assert heard["run"] is False  # slow: only with --intelligibility or --all
    assert all(figures["words"] is None for rates in heard["engines"].values() for figures in rates.values())
    assert all(quick_results["targets"][name]["met"] is None for name in INTELLIGIBILITY_TARGETS)


@requires_espeak
@requires_pulse
def test_table_prints_every_figure(quick_results, monkeypatch, capsys):
    monkeypatch.setattr(bench, "run", lambda quick, intelligible: quick_results)
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for heading in ("QUICK", "Export speed", "pydub-style MP3", "Peak memory", "Time to first sound",
                    "Live timing", "Holds measured", "--rate 100", "--rate 250", "naive", "Pause latency",
                    "simpleaudio", "media button", "Spoken commands", "Intelligibility: not run", "Targets"):
        assert heading in out
    for name in TARGETS:
        assert name in out
    for label in ("10min", "30min", "2h", "builtin"):
        assert label in out


def test_flags_choose_the_sections(monkeypatch, capsys):
    asked = []
    monkeypatch.setattr(bench, "run", lambda quick, intelligible: asked.append((quick, intelligible)) or {})
    monkeypatch.setattr(bench_report, "table", lambda results: "")
    for argv in ([], ["--quick"], ["--intelligibility"], ["--all"], ["--quick", "--all"]):
        assert bench.main(argv) == 0
    assert asked == [(False, False), (True, False), (False, True), (False, True), (True, True)]


def test_failure_is_one_error_line(monkeypatch, capsys):
    def fail(quick, intelligible):
        raise bench_live.BenchError("the first cue was not found in the recording")
    monkeypatch.setattr(bench, "run", fail)
    assert bench.main([]) == 1
    assert capsys.readouterr().err == "Error: the first cue was not found in the recording\n"


# -- finding sounds in a recording ---------------------------------------------------------

def test_locate_finds_the_exact_sample_and_the_earliest_repeat():
    noise = np.random.default_rng(1).integers(-3000, 3000, 20_000).astype(np.int16)
    snippet = noise[5_000:6_000].copy()
    recording = np.concatenate([np.zeros(700, np.int16), noise, snippet])
    assert bench_live.locate(recording, snippet, 0, len(recording)) == 5_700
    assert bench_live.locate(recording, snippet, 5_701, len(recording)) == 20_700
    assert bench_live.locate(recording, snippet, 0, 5_000) is None


def test_locate_is_not_fooled_by_a_decaying_tone():
    # One period early, a decaying tone looks the same up to scale: correlation would say
    # 1.0 there too; the energy-matched score only says so at the true position.
    t = np.arange(22_050)
    tone = (np.sin(2 * np.pi * 441 * t / SAMPLE_RATE) * 20_000 * np.exp(-t / 5_000)).astype(np.int16)
    snippet = tone[2_000:3_102]
    assert bench_live.locate(tone, snippet, 1_500, 2_500) == 2_000


ROUTINE = """
title: Test
intro: Go.
outro: Done.
exercises:
  - name: Lift
    reps: 2
    cue: Lift your leg slowly.
    hold: 3s
    release: Relax.
"""


def fake_session(synthesizer=None):
    return prepare(parse_routine(ROUTINE), synthesizer=synthesizer or FakeSynthesizer())


def test_measure_session_finds_a_delay_to_the_sample():
    session = fake_session()
    reference = np.concatenate(list(session.chunks()))
    hold = [e for e in session.timeline.events if e.kind == HOLD][-1]
    cut, delay = hold.start + round(1.5 * SAMPLE_RATE), 220  # silence inside the last hold
    recording = np.concatenate([np.zeros(3_000, np.int16), reference[:cut], np.zeros(delay, np.int16),
                                reference[cut:], np.zeros(5_000, np.int16)])
    figures = bench_live.measure_session(recording, reference, session.timeline)
    sounds = [e for e in session.timeline.events if e.kind in (SPEECH, CHIME)]
    assert figures["missing"] == 0
    late = [e for e in sounds if e.start >= cut]
    assert 0 < len(late) < len(sounds) / 2  # so the plan-to-recording offset stays that of the early ones
    assert figures["onsets"] == bench_live.error_stats([delay if e.start >= cut else 0 for e in sounds])
    assert figures["onsets"]["max_ms"] == round(delay / SAMPLE_RATE * 1000, 2)
    assert figures["worst"][0] == {"at_s": session.timeline.seconds(late[0].start),
                                   "what": late[0].text or late[0].sound, "error_ms": 9.98}
    assert figures["holds"] == bench_live.error_stats([0, delay])
    planned = max(e.end for e in sounds) - sounds[0].start
    assert figures["overrun_pct"] == round(100 * delay / planned, 3)


class ShapedSynthesizer(FakeSynthesizer):
    """Fake speech whose loudness rises and falls at a rate set by the text, as real
    speech's does, so that sounds can be told apart by their contour."""

    def synthesize(self, text: str) -> Audio:
        audio = super().synthesize(text)
        t = np.arange(len(audio)) / SAMPLE_RATE
        shape = 0.2 + 0.8 * np.abs(np.sin(np.pi * t * (1 + zlib.crc32(text.encode()) % 5)))
        samples = (audio.samples * shape).astype(np.int16)
        samples[audio.samples == 4000] = 4000  # keep the loud edges that trimming finds
        return Audio(samples)


def naive_recording(sounds, latency: int, drop: int | None = None) -> tuple[np.ndarray, list[int]]:
    """What the naive player would record: each sound after the one before, its sleep and
    ``latency`` samples; the sound at index ``drop`` is silent, as if the engine lost it."""
    recording, positions, cursor = np.zeros(60 * SAMPLE_RATE, np.int16), [], 2_000
    for index, sound in enumerate(sounds):
        start = cursor + (sound.sleep_before + latency if index else 0)
        if index != drop:
            recording[start: start + len(sound.audio)] = sound.audio
        positions.append(start)
        cursor = start + len(sound.audio)
    return recording, positions


def naive_sounds():
    session = fake_session(ShapedSynthesizer())
    files = {name: Path("/nonexistent") / name for name in session.chimes}
    return bench_live.naive_plan(session.timeline, session.speech.audio, session.chimes, files)


def test_naive_plan_sleeps_through_holds_without_marks():
    items, sounds = naive_sounds()
    said = [value for kind, value in items if kind == "say"]
    assert "Three" not in said and "Two" not in said and "One" not in said
    assert said[0] == "Go." and said[-1] == "Done."
    assert len(said) + [kind for kind, _ in items].count("chime") == len(sounds)
    assert sounds[-1].planned == round(sum(value for kind, value in items if kind == "sleep") * SAMPLE_RATE)
    assert [s.hold_before for s in sounds if s.hold_before] == [3 * SAMPLE_RATE] * 2


def test_measure_naive_reports_speech_time_as_lateness():
    _, sounds = naive_sounds()
    latency = 441
    recording, positions = naive_recording(sounds, latency)
    figures = bench_live.measure_naive(recording, sounds)
    errors = [p - positions[0] - s.planned for p, s in zip(positions, sounds)]
    assert figures["missing"] == 0
    assert figures["onsets"] == bench_live.error_stats(errors)
    assert figures["holds"] == bench_live.error_stats([latency, latency])
    planned = sounds[-1].planned
    assert figures["overrun_pct"] == round(100 * (positions[-1] - positions[0] - planned) / planned, 3)


def test_measure_naive_counts_a_dropped_cue_and_keeps_going():
    _, sounds = naive_sounds()
    recording, positions = naive_recording(sounds, 441, drop=1)
    figures = bench_live.measure_naive(recording, sounds)
    errors = [p - positions[0] - s.planned for i, (p, s) in enumerate(zip(positions, sounds)) if i != 1]
    assert figures["missing"] == 1
    assert figures["onsets"] == bench_live.error_stats(errors)


# -- generated routines and the baseline ---------------------------------------------------

def test_generated_routines_are_valid_real_text_of_the_asked_length(tmp_path):
    assert bench_routines.database() == EXERCISE_TEXTS  # shipped: no skip, in any clone
    exercises = bench_routines.load_exercises()
    assert len(exercises) > 700
    paths = bench_routines.write_routines(tmp_path, {"10min": 600})
    routine = load_routine(str(paths["10min"]))
    assert routine.exercises[0].name == exercises[0]["name"]
    assert routine.exercises[0].instructions == exercises[0]["instructions"][0]
    count = len(routine.exercises)
    assert bench_routines.estimated_seconds(paths["10min"].read_text()) >= 600
    shorter = bench_routines.routine_yaml(exercises[: count - 1], "Shorter")
    assert bench_routines.estimated_seconds(shorter) < 600
    for label in ("live", "holds"):
        assert load_routine(str(paths[label])).exercises


@requires_espeak
def test_pydub_style_baseline_runs_espeak_once_per_spoken_line(tmp_path):
    import bench_export
    session = fake_session()
    files = {name: REPO / "sounds" / f"{name}.wav" for name in session.chimes}
    result = bench_export.baseline_mp3(session.timeline, files, tmp_path / "out.mp3", tmp_path, "gmw/en-us", 140)
    spoken = sum(e.kind == SPEECH for e in session.timeline.events)
    assert result["lines"] == spoken
    assert len(list(tmp_path.glob("line-*.wav"))) == spoken
    assert result["audio_s"] >= session.timeline.total_s
    from mutagen.mp3 import MP3
    assert abs(MP3(tmp_path / "out.mp3").info.length - result["audio_s"]) < 0.2


def base_results() -> dict:
    """Figures as ``bench.run`` writes them: only those the targets are judged on."""
    return {"export": {label: {fmt: {state: {"speed_x": 2500.0} for state in ("cold", "warm")}
                               for fmt in ("wav", "mp3")} for label in ("builtin", "2h")},
            "baseline_mp3": {label: {"ours_cold_ratio": 3.0} for label in ("builtin", "2h")},
            "memory": {"peak_2h_mb": 60.0, "growth_mb": 1.0},
            "first_sound": {"cold_s": 0.7},
            "live": {"ours": {"missing": 0, "onsets": {"p95_ms": 4.0, "max_ms": 20.0}, "overrun_pct": 0.0}},
            "rates": {"100": {"holds": {"p95_ms": 1.0, "max_ms": 2.0}},
                      "250": {"holds": {"p95_ms": None, "max_ms": None}}},
            "pause": {"ours": {"max_ms": 60.0}, "button": {"max_ms": 45.0}},
            "spoken": {"skipped": None,
                       "recognition": {"voices": ["joe", "en-us+f1"],
                                       "speeds": {"slow": 130, "normal": 175, "fast": 220},
                                       "recognized_pct": 96.0, "latency_max_s": 0.81},
                       "false_commands": {"coach": {"suppression_on_per_hour": 0.0},
                                          "other": {"suppression_off_per_hour": 4.2}}},
            "intelligibility": {"run": True, "engines": {
                "piper": {"110": heard(96.9), "140": heard(97.0), "200": heard(None, None, None)},
                "espeak": {"110": heard(90.0), "140": heard(95.0, 20, 19), "200": heard(89.9)}}}}


def heard(pct, count_words=20, right=20) -> dict:
    return {"words_right_pct": pct, "count_words": count_words, "count_words_right": right}


def judged(results: dict) -> dict:
    return {name: item["met"] for name, item in bench_report.targets(results).items()}


def test_targets_are_judged_on_the_figures():
    assert judged(base_results()) == {
        "wav_cold_builtin": True, "wav_warm_builtin": True, "mp3_vs_pydub_builtin": False,
        "wav_cold_2h": True, "wav_warm_2h": True, "mp3_vs_pydub_2h": False, "memory_2h": True,
        "memory_flat": True, "first_sound_cold": False, "live_p95": True, "live_max": False,
        "live_overrun": True, "holds_rate_100_p95": True, "holds_rate_100_max": True,
        "holds_rate_250_p95": False, "holds_rate_250_max": False,
        "pause_latency": True, "pause_button": False, "spoken_recognition": True,
        "spoken_latency": False, "spoken_false_coach": True, "spoken_false_other": False,
        "intelligible_piper_110": False, "intelligible_piper_140": True, "intelligible_piper_200": False,
        "intelligible_espeak_110": True, "intelligible_espeak_140": True,
        "intelligible_espeak_200": False, "intelligible_counts": False,
        # the default engine's section was not run in these figures: not judged
        "piper_memory_2h": None, "piper_memory_flat": None, "piper_first_plan": None,
        "piper_first_sound_cold": None, "piper_live_p95": None, "piper_live_max": None}


def test_every_count_word_heard_right_meets_its_target():
    results = base_results()
    results["intelligibility"]["engines"]["piper"]["200"] = heard(99.0)
    results["intelligibility"]["engines"]["espeak"]["140"] = heard(95.0)
    assert judged(results)["intelligible_counts"] is True
    assert bench_report.targets(results)["intelligible_counts"]["measured"] == 0


def test_recognition_needs_two_voices_and_sections_not_run_are_not_judged():
    results = base_results()
    results["spoken"]["recognition"]["voices"] = ["joe"]  # 96% but of one voice
    assert judged(results)["spoken_recognition"] is False
    results["spoken"]["skipped"] = "pocketsphinx is not installed"
    results["intelligibility"]["run"] = False
    met = judged(results)
    assert {met[name] for name in met if name.startswith(("spoken_", "intelligible_"))} == {None}
    assert met["pause_latency"] is True


def test_the_default_engine_is_judged_on_its_own_figures():
    results = base_results()
    run = {"cold": {"peak_mb": 140.0, "audio_s": 600}, "warm": {"peak_mb": 60.0, "audio_s": 600}}
    exports = {"10min": run, "30min": run, "2h": dict(run, cold={"peak_mb": 160.0, "audio_s": 7200})}
    results["engines"] = {"piper": {"memory": bench.bench_piper.memory_table(exports),
                                    "first_plan": {"cold_s": 9.5}}}
    results["first_sound_engines"] = {"piper": {"cold_s": 0.6}}
    results["live_engines"] = {"piper": {"missing": 0, "onsets": {"p95_ms": 4.0, "max_ms": 16.0}}}
    met = judged(results)
    assert (met["piper_memory_2h"], met["piper_memory_flat"], met["piper_first_plan"]) == (False, False, True)
    assert (met["piper_first_sound_cold"], met["piper_live_p95"], met["piper_live_max"]) == (False, True, False)
    assert bench_report.targets(results)["piper_memory_flat"]["measured"] == 20.0
