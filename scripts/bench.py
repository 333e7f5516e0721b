"""Benchmark voicecoach against the naive way, on this machine, in one run.

    python3 scripts/bench.py                    # a table (takes about 13 minutes)
    python3 scripts/bench.py --json             # the same figures as JSON
    python3 scripts/bench.py --intelligibility  # also the Whisper judge (about 7 minutes more)
    python3 scripts/bench.py --all              # every section (the same as --intelligibility)
    python3 scripts/bench.py --quick            # tiny stand-in routines, for the test suite

Measured: export speed (built-in routine and a generated two-hour one, WAV and MP3, cold
and warm speech cache) against a pydub-style exporter; peak memory by session length;
time to first sound of ``play``; cue timing in a recording of ``play`` against the plan,
next to the naive way ("speak a cue, wait until it is spoken, sleep the hold"); holds
at two voice speeds; pause latency (``stop()`` to silence at the server, our ALSA device
and simpleaudio) and a media button's way to the player; spoken commands (recognition by
voice and speed, end of word to command, false commands in looped-back coach speech and in
other speech); and, only when asked, intelligibility (what Whisper hears of every cue, both
engines at three speeds). Generated routines come from free-exercise-db (real, varied text).
Everything runs in a temporary folder (speech caches, state, private PulseAudio servers)
that is removed at the end. The ``--quick`` figures mean nothing: only their keys count
(spoken commands and pause latency run tiny there; intelligibility only with its flag).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_export  # noqa: E402
import bench_live  # noqa: E402
import bench_pause  # noqa: E402
import bench_piper  # noqa: E402
import bench_report  # noqa: E402
import bench_spoken  # noqa: E402
import intelligibility  # noqa: E402
from bench_routines import write_routines  # noqa: E402
from private_dirs import private_dirs, private_env  # noqa: E402
from pulse_server import PulseServer  # noqa: E402

from voicecoach.session.chimes import shipped_sound_dir  # noqa: E402
from voicecoach.routine.load import BUILTIN_DIR  # noqa: E402
from voicecoach.speech.engines import DEFAULT_RATE  # noqa: E402
from voicecoach.speech.pyttsx3_engine import DEFAULT_VOICE  # noqa: E402

ENGINE = "espeak"  # the main figures are espeak-ng's, the engine every install has; the
# default engine's (Piper where installed) are bench_piper's, side by side

SIZES = {"10min": 600, "30min": 1800, "2h": 7200}
QUICK_SIZES = {"10min": 20, "30min": 40, "2h": 60}  # stand-ins: same keys, seconds not minutes
FIRST_SOUND_RUNS, QUICK_FIRST_SOUND_RUNS = 3, 1
LEAD_IN_S = 1.0
RATES = (100, 250)
PLAY_TIMEOUT_S = 300

PAUSE_DEVICES = {"ours": "voicecoach.live.device:AlsaDevice",
                 "simpleaudio": "voicecoach.live.device:SimpleaudioDevice"}
QUICK_HOLDS_S = (0.3, 0.45)
BUTTON_PRESSES, QUICK_BUTTON_PRESSES = 40, 4
SPOKEN_SPEEDS = tuple(bench_spoken.SPEEDS)               # slow, normal, fast
COACH_MINUTES, OTHER_MINUTES = 1.5, 1.0                  # of looped-back and of other speech
QUICK_SPOKEN = {"voices": ("en-us+f1",), "speeds": ("normal",), "words": ("pause", "next"), "minutes": 0.05}
INTELLIGIBILITY_RATES = intelligibility.RATES            # 110, 140, 200 WPM


class Bench:
    """One benchmark run: its temporary folder, routines and settings."""

    def __init__(self, folder: Path, quick: bool):
        self.folder, self.quick = folder, quick
        self.routines = write_routines(folder, QUICK_SIZES if quick else SIZES, quick=quick)
        # Quick mode stands in the tiny live routine for the 9-minute built-in one.
        self.routines["builtin"] = self.routines["live"] if quick else BUILTIN_DIR / "back-pain.yaml"
        settings = folder / "settings"  # every command speaks with espeak-ng, as prepare() here
        settings.mkdir()
        (settings / "config.yaml").write_text(f"engine: {ENGINE}\n")
        # All four folders private (cache, state, data, config): never the user's history.
        self.env = dict(private_env(folder / "user"), VOICECOACH_CONFIG_DIR=str(settings))
        self.warm_caches: dict[str, Path] = {}
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    def scratch(self, name: str) -> Path:
        """A new path in the run's folder (``name-N``), not yet created."""
        return self.folder / f"{name}-{next(self._names)}"

    def fresh_cache(self) -> Path:
        return self.scratch("cache")

    def session(self, label: str, cache: Path, rate: int = DEFAULT_RATE, engine: str = ENGINE):
        """The routine prepared in this process with ``cache``; a child given the same cache
        plays exactly these samples (espeak-ng does not repeat itself bit for bit)."""
        from voicecoach.session.prepare import prepare
        with self.cache_in_environment(cache):
            return prepare(str(self.routines[label]), engine=engine, rate=rate)

    @contextlib.contextmanager
    def cache_in_environment(self, cache: Path):
        """``cache`` as this process's speech cache meanwhile (taken from the environment)."""
        with self._lock:  # one at a time
            previous = os.environ.get("VOICECOACH_CACHE_DIR")
            os.environ["VOICECOACH_CACHE_DIR"] = str(cache)
            try:
                yield
            finally:
                if previous is None:
                    del os.environ["VOICECOACH_CACHE_DIR"]
                else:
                    os.environ["VOICECOACH_CACHE_DIR"] = previous


# -- export ---------------------------------------------------------------------------

def export_figures(bench: Bench) -> dict:
    """Speed and peak memory of every export, each in a fresh process."""
    figures = {}
    for label in ("builtin", "2h"):
        figures[label] = {}
        for fmt in ("wav", "mp3"):
            cache = bench.fresh_cache()
            runs = {state: bench_export.run_export(bench.routines[label], bench.folder / f"{label}-{state}.{fmt}", cache)
                    for state in ("cold", "warm")}
            figures[label][fmt] = runs
            bench.warm_caches[label] = cache
    return figures


def memory_figures(bench: Bench, exports: dict) -> dict:
    """Peak RSS of warm-cache exports as the session grows (2 h from ``exports``)."""
    figures = {}
    for label in ("10min", "30min"):
        cache = bench.fresh_cache()
        bench.session(label, cache)  # fill the cache: memory is measured warm, like 2 h's
        figures[label] = {fmt: bench_export.run_export(bench.routines[label], bench.folder / f"{label}.{fmt}", cache)
                          for fmt in ("wav", "mp3")}
    figures["2h"] = {fmt: exports["2h"][fmt]["warm"] for fmt in ("wav", "mp3")}
    table = {label: {f"{fmt}_mb": runs[fmt]["peak_mb"] for fmt in ("wav", "mp3")} | {"audio_s": runs["wav"]["audio_s"]}
             for label, runs in figures.items()}
    table["growth_mb"] = round(max(table["2h"][k] - table["10min"][k] for k in ("wav_mb", "mp3_mb")), 3)
    table["peak_2h_mb"] = max(run["peak_mb"] for runs in exports["2h"].values() for run in runs.values())
    return table


def baseline_figures(bench: Bench, exports: dict) -> dict:
    """The pydub-style MP3 exporter on the same routines, and how much faster ours is."""
    chime_files = {name: shipped_sound_dir() / f"{name}.wav" for name in ("start", "hold_end", "next", "end")}
    figures = {}
    for label in ("builtin", "2h"):
        session = bench.session(label, bench.warm_caches[label])
        folder = bench.scratch(f"baseline-{label}")
        folder.mkdir()
        result = bench_export.baseline_mp3(session.timeline, chime_files, folder / "out.mp3", folder,
                                           DEFAULT_VOICE, DEFAULT_RATE)
        shutil.rmtree(folder)
        ours = exports[label]["mp3"]
        result["ours_cold_ratio"] = round(ours["cold"]["speed_x"] / result["speed_x"], 2)
        result["ours_warm_ratio"] = round(ours["warm"]["speed_x"] / result["speed_x"], 2)
        figures[label] = result
    return figures


# -- live -----------------------------------------------------------------------------

def play_command(routine: Path, rate: int = DEFAULT_RATE) -> list[str]:
    return [sys.executable, "-m", "voicecoach", "play", str(routine), "--rate", str(rate),
            "--lead-in", str(LEAD_IN_S)]


def on_server(job):
    """``job`` (a function of a PulseServer) as a job run on a fresh server of its own."""
    def run():
        with PulseServer() as server:
            return job(server)
    return run


def run_jobs(jobs: dict, parallel: bool) -> dict:
    """Run each job (a function of nothing); results by name.

    In full runs jobs run one after another so that they do not disturb each other's
    timing; ``--quick`` runs them side by side (its figures are not meant to be read).
    """
    results, failures = {}, []

    def work(name, job):
        try:
            results[name] = job()
        except Exception as error:  # reported below, with the job's name
            failures.append(f"{name}: {error}")

    threads = [threading.Thread(target=work, args=item) for item in jobs.items()]
    for thread in threads:
        thread.start()
        if not parallel:
            thread.join()
    for thread in threads:
        thread.join()
    if failures:
        raise bench_live.BenchError("; ".join(failures))
    return results


def live_jobs(bench: Bench) -> dict:
    """Every recorded run: first sound, the live routine by us and naively, two rates."""
    jobs = {"first_sound": on_server(lambda server: first_sound(bench, server)),
            "ours": on_server(lambda server: play_measured(bench, server, "live", DEFAULT_RATE)),
            "naive": on_server(lambda server: naive_measured(bench, server))}
    for rate in RATES:
        jobs[f"rate_{rate}"] = on_server(lambda server, rate=rate: play_measured(bench, server, "holds", rate))
    return jobs | bench_piper.live_jobs(bench, first_sound, play_measured, on_server)


def first_sound(bench: Bench, server, engine: str = ENGINE) -> dict:
    """Median seconds from ``play``'s process start to its first sound, after the lead-in."""
    runs = QUICK_FIRST_SOUND_RUNS if bench.quick else FIRST_SOUND_RUNS
    warm = bench.fresh_cache()
    bench.session("builtin", warm, engine=engine)
    figures = {"engine": engine, "load_average": round(os.getloadavg()[0], 2)}
    for state in ("cold", "warm"):
        times = []
        for _ in range(runs):
            cache = bench.fresh_cache() if state == "cold" else warm
            env = server.env(dict(bench_piper.settings_env(bench, engine), VOICECOACH_CACHE_DIR=str(cache)))
            run = bench_live.run_recorded(server, play_command(bench.routines["builtin"]), env,
                                          PLAY_TIMEOUT_S, stop_at_sound=True)
            if run.first_loud is None:
                raise bench_live.BenchError(f"play made no sound: {run.stderr.strip()[-300:]}")
            times.append(run.seconds_to(run.first_loud))
        from_start = float(np.median(times))
        figures[f"{state}_s"] = round(from_start - LEAD_IN_S, 3)
        figures[f"{state}_from_start_s"] = round(from_start, 3)
    figures.update(lead_in_s=LEAD_IN_S, runs=runs)
    return figures


def play_measured(bench: Bench, server, label: str, rate: int, engine: str = ENGINE) -> dict:
    """Record ``play`` of routine ``label`` at ``rate`` and measure it against its plan."""
    cache = bench.fresh_cache()
    session = bench.session(label, cache, rate, engine)
    env = server.env(dict(bench_piper.settings_env(bench, engine), VOICECOACH_CACHE_DIR=str(cache)))
    run = bench_live.run_recorded(server, play_command(bench.routines[label], rate), env, PLAY_TIMEOUT_S)
    if run.returncode:
        raise bench_live.BenchError(f"play exited with {run.returncode}: {run.stderr.strip()[-300:]}")
    reference = np.concatenate(list(session.chunks()))
    figures = bench_live.measure_session(run.samples, reference, session.timeline)
    figures.update(planned_s=round(session.timeline.total_s, 3), rate=rate, engine=engine,
                   load_average=round(os.getloadavg()[0], 2))
    return figures


def naive_measured(bench: Bench, server) -> dict:
    """Record the naive player on the live routine and measure it against its own plan."""
    cache = bench.fresh_cache()
    session = bench.session("live", cache)
    files = {name: shipped_sound_dir() / f"{name}.wav" for name in session.chimes}
    items, sounds = bench_live.naive_plan(session.timeline, session.speech.audio, session.chimes, files)
    plan = bench.scratch("naive-plan")
    plan.write_text(json.dumps({"rate": DEFAULT_RATE, "voice": DEFAULT_VOICE, "items": items}))
    command = [sys.executable, str(Path(__file__).with_name("bench_naive.py")), str(plan)]
    run = bench_live.run_recorded(server, command, server.env(bench.env), PLAY_TIMEOUT_S)
    if run.returncode:
        raise bench_live.BenchError(f"the naive player exited with {run.returncode}: {run.stderr.strip()[-300:]}")
    figures = bench_live.measure_naive(run.samples, sounds)
    figures.update(planned_s=round(sounds[-1].planned / session.sample_rate, 3), rate=DEFAULT_RATE)
    return figures


# -- pause latency ------------------------------------------------------------------------

def pause_jobs(bench: Bench) -> dict:
    """Pause latency of our device and of simpleaudio, and the media button's way in."""
    holds = QUICK_HOLDS_S if bench.quick else bench_pause.HOLDS_S
    jobs = {f"pause_{name}": on_server(lambda server, device=device: pause_figures(device, holds, server))
            for name, device in PAUSE_DEVICES.items()}
    jobs["button"] = lambda: button_figures(QUICK_BUTTON_PRESSES if bench.quick else BUTTON_PRESSES)
    return jobs


def pause_figures(device: str, holds_s, server) -> dict:
    """``stop()`` to the last loud sample at the server, once per hold, in ms."""
    figures = bench_pause.measure_pause_latency(device, holds_s=holds_s, server=server)
    return {"device": device, "stops": len(figures.latencies_ms), "median_ms": round(figures.median_ms, 1),
            "max_ms": round(figures.max_ms, 1), "latencies_ms": list(figures.latencies_ms),
            "start_median_ms": round(float(np.median(figures.onsets_ms)), 1)}


def button_figures(presses: int) -> dict:
    """A PlayPause call sent on a private session bus to ``Controls.wait`` returning it, in ms."""
    latencies = bench_pause.measure_button_latency(presses)
    return {"presses": len(latencies), "median_ms": round(float(np.median(latencies)), 1),
            "max_ms": round(float(np.max(latencies)), 1)}


# -- spoken commands --------------------------------------------------------------------

def spoken_missing() -> str | None:
    """Why spoken commands cannot be measured here, or None."""
    if importlib.util.find_spec("pocketsphinx") is None:
        return "pocketsphinx is not installed (pip install pocketsphinx)"
    for program in ("parec", "paplay", "espeak-ng"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
    return None


def spoken_voices() -> tuple[tuple[str, ...], str]:
    """Two voices other than the coach's for the words (Piper's joe where installed), and one
    for the other speech."""
    if intelligibility.piper_installed():
        return ("joe", "en-us+f1"), "joe"
    return ("en-us+f1", "en-us+klatt"), "en-us+klatt"


def spoken_settings(quick: bool) -> dict:
    voices, other = spoken_voices()
    if quick:
        return dict(QUICK_SPOKEN, other_voice=QUICK_SPOKEN["voices"][0])
    from voicecoach.live.controls.spoken import CHECK_IN_WORDS, SESSION_WORDS
    return {"voices": voices, "speeds": SPOKEN_SPEEDS, "words": tuple(SESSION_WORDS) + tuple(CHECK_IN_WORDS),
            "minutes": COACH_MINUTES, "other_voice": other}


def spoken_jobs(bench: Bench) -> dict:
    """Recognition, the coach's speech looped back and other speech: each its own server."""
    settings = spoken_settings(bench.quick)
    minutes = settings["minutes"]
    other_minutes = minutes if bench.quick else OTHER_MINUTES
    return {
        "recognition": lambda: recognition_figures(settings),
        "coach": lambda: false_command_figures(bench_spoken.false_commands(minutes), True),
        "other": lambda: false_command_figures(bench_spoken.false_commands(
            other_minutes, loopback=False, voice=settings["other_voice"], speed="normal"), False),
    }


def recognition_figures(settings: dict) -> dict:
    voices, speeds, words = settings["voices"], settings["speeds"], settings["words"]
    found = bench_spoken.recognition(voices, speeds, words)
    latency = found["latency_s"]
    return {"voices": list(voices), "speeds": {speed: bench_spoken.SPEEDS[speed][0] for speed in speeds},
            "words": list(words),
            "by_voice_speed": {voice: {speed: round(100 * found["per_voice_speed"][voice, speed], 1)
                                       for speed in speeds} for voice in voices},
            "recognized_pct": round(100 * found["rate"], 1),
            "latency_median_s": round(latency["median"], 3) if latency else None,
            "latency_max_s": round(latency["max"], 3) if latency else None}


def false_command_figures(found: dict, loopback: bool) -> dict:
    figures = {"speech_s": round(found["speech_s"], 1), "sentences": found["sentences"],
               "suppression_off_per_hour": round(found["suppression_off_per_hour"], 1),
               "words_off": found["words_off"]}
    if loopback:
        figures.update(suppression_on_per_hour=round(found["suppression_on_per_hour"], 1),
                       words_on=found["words_on"])
    return figures


def spoken_figures(bench: Bench) -> dict:
    missing = spoken_missing()
    settings = spoken_settings(bench.quick)
    if missing:
        return spoken_skipped(settings, missing)
    found = run_jobs(spoken_jobs(bench), parallel=bench.quick)
    return {"skipped": None, "recognition": found["recognition"],
            "false_commands": {"coach": found["coach"], "other": found["other"]},
            "other_voice": settings["other_voice"]}


def spoken_skipped(settings: dict, reason: str) -> dict:
    """The section's keys, every figure null."""
    voices, speeds = settings["voices"], settings["speeds"]
    recognition = {"voices": list(voices), "speeds": {speed: bench_spoken.SPEEDS[speed][0] for speed in speeds},
                   "words": list(settings["words"]),
                   "by_voice_speed": {voice: dict.fromkeys(speeds) for voice in voices},
                   "recognized_pct": None, "latency_median_s": None, "latency_max_s": None}
    coach = dict.fromkeys(("speech_s", "sentences", "suppression_off_per_hour", "suppression_on_per_hour"))
    other = dict.fromkeys(("speech_s", "sentences", "suppression_off_per_hour"))
    return {"skipped": reason, "recognition": recognition,
            "false_commands": {"coach": dict(coach, words_off=[], words_on=[]), "other": dict(other, words_off=[])},
            "other_voice": settings["other_voice"]}


# -- intelligibility --------------------------------------------------------------------

INTELLIGIBILITY_FIELDS = ("voice", "words", "words_right", "words_right_pct", "count_words",
                          "count_words_right", "seconds")


def intelligibility_figures(bench: Bench, run_it: bool) -> dict:
    """What Whisper base hears of every cue, per engine and rate (only when ``run_it``).

    Quick mode judges the tiny live routine, espeak-ng at 140 WPM only."""
    engines, rates = intelligibility.ENGINES, INTELLIGIBILITY_RATES
    figures = {"run": False, "routine": None, "judge": None,
               "engines": {engine: {str(rate): dict.fromkeys(INTELLIGIBILITY_FIELDS) | {"misheard": []}
                                    for rate in rates} for engine in engines}}
    if not run_it:
        return figures
    routine = str(bench.routines["live"]) if bench.quick else "back-pain"
    try:
        judge = intelligibility.Judge(cache=bench.folder / "judge")  # the joined model, in the run's folder
    except SystemExit as error:  # its one line: faster-whisper or the model packages are missing
        raise bench_live.BenchError(f"intelligibility: {error}") from None
    figures.update(run=True, routine=Path(routine).name,
                   judge=f"Whisper base (faster-whisper, int8, {intelligibility.WINDOW_S} s window)")
    for engine in engines:
        if engine == "piper" and not intelligibility.piper_installed():
            continue  # its figures stay null: the targets say not met
        for rate in rates:
            if bench.quick and (engine != ENGINE or rate != 140):
                continue
            started = time.monotonic()
            with bench.cache_in_environment(bench.fresh_cache()):
                report = intelligibility.judge_session(
                    judge, routine, engine=engine, rate=rate,
                    voice=intelligibility.PIPER_VOICE if engine == "piper" else None)
            figures["engines"][engine][str(rate)] = report_figures(report, time.monotonic() - started)
    return figures


def report_figures(report, seconds: float) -> dict:
    count = next((k for k in report.kinds if k.kind == intelligibility.COUNT), None)
    misheard = [{"said": said, "heard": heard, "times": times}
                for kind in report.kinds for said, heard, times in kind.misheard]
    misheard.sort(key=lambda item: -item["times"])
    return {"voice": report.voice, "words": report.words, "words_right": report.words_right,
            "words_right_pct": round(100 * report.words_right_share, 2),
            "count_words": count.clips if count else 0, "count_words_right": count.clips_right if count else 0,
            "seconds": round(seconds, 1), "misheard": misheard[:8],
            "kinds": {k.kind: {"clips": k.clips, "clips_right": k.clips_right, "words": k.words,
                               "words_right": k.words_right} for k in report.kinds}}


# -- the whole run ----------------------------------------------------------------------

def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.split("  ")[0]
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load_average": round(os.getloadavg()[0], 2), "espeak": espeak.strip()}


def run(quick: bool, intelligible: bool = False) -> dict:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as folder, \
            private_dirs(Path(folder) / "user"):  # this process's own calls too
        bench = Bench(Path(folder), quick)
        results = {"mode": "quick" if quick else "full", "machine": machine(),
                   "routines": {label: str(path.name) for label, path in bench.routines.items()}}
        results["export"] = export_figures(bench)
        results["memory"] = memory_figures(bench, results["export"])
        results["baseline_mp3"] = baseline_figures(bench, results["export"])
        results["engines"] = {engine: bench_piper.engine_figures(bench, engine) for engine in bench_piper.engines()}
        live = run_jobs(live_jobs(bench), parallel=quick)
        results["first_sound"] = live.pop("first_sound")
        results["live"] = {"ours": live.pop("ours"), "naive": live.pop("naive")}
        results["first_sound_engines"] = {ENGINE: results["first_sound"]} | {
            engine: live.pop(f"first_sound_{engine}") for engine in bench_piper.engines() if engine != ENGINE}
        results["live_engines"] = {ENGINE: results["live"]["ours"]} | {
            engine: live.pop(f"live_{engine}") for engine in bench_piper.engines() if engine != ENGINE}
        results["rates"] = {str(rate): live[f"rate_{rate}"] for rate in RATES}
        pause = run_jobs(pause_jobs(bench), parallel=quick)
        results["pause"] = {name: pause[f"pause_{name}"] for name in PAUSE_DEVICES} | {"button": pause["button"]}
        results["spoken"] = spoken_figures(bench)
        results["intelligibility"] = intelligibility_figures(bench, intelligible)
    results["machine"]["load_average_end"] = round(os.getloadavg()[0], 2)
    results["machine"]["wall_s"] = round(time.monotonic() - started, 1)
    results["targets"] = bench_report.targets(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="tiny routines; for tests, not figures")
    parser.add_argument("--intelligibility", action="store_true",
                        help="also what Whisper hears of every cue, both engines at 110/140/200 WPM (slow)")
    parser.add_argument("--all", action="store_true", help="every section (with --intelligibility)")
    args = parser.parse_args(argv)
    try:
        results = run(args.quick, args.intelligibility or args.all)
    except (bench_live.BenchError, RuntimeError, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=1) if args.json else bench_report.table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
