"""Benchmark voicecoach against the naive way, on this machine, in one run.

    python3 scripts/bench.py            # a table (takes a few minutes)
    python3 scripts/bench.py --json     # the same figures as JSON
    python3 scripts/bench.py --quick    # tiny stand-in routines, for the test suite

Measured: export speed (built-in routine and a generated two-hour one, WAV and MP3, cold
and warm speech cache) against a pydub-style exporter; peak memory by session length;
time to first sound of ``play``; cue timing in a recording of ``play`` against the plan,
next to the naive way ("speak a cue, wait until it is spoken, sleep the hold"); and holds
at two voice speeds. Generated routines come from free-exercise-db (real, varied text).
Everything runs in a temporary folder (speech caches, state, a private PulseAudio server)
that is removed at the end. The ``--quick`` figures mean nothing: only their keys count.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_export  # noqa: E402
import bench_live  # noqa: E402
import bench_report  # noqa: E402
from bench_routines import write_routines  # noqa: E402
from pulse_server import PulseServer  # noqa: E402

from voicecoach.session.chimes import shipped_sound_dir  # noqa: E402
from voicecoach.routine.load import BUILTIN_DIR  # noqa: E402
from voicecoach.speech.engines import DEFAULT_RATE  # noqa: E402
from voicecoach.speech.pyttsx3_engine import DEFAULT_VOICE  # noqa: E402

SIZES = {"10min": 600, "30min": 1800, "2h": 7200}
QUICK_SIZES = {"10min": 20, "30min": 40, "2h": 60}  # stand-ins: same keys, seconds not minutes
FIRST_SOUND_RUNS, QUICK_FIRST_SOUND_RUNS = 3, 1
LEAD_IN_S = 1.0
RATES = (100, 250)
PLAY_TIMEOUT_S = 300


class Bench:
    """One benchmark run: its temporary folder, routines and settings."""

    def __init__(self, folder: Path, quick: bool):
        self.folder, self.quick = folder, quick
        self.routines = write_routines(folder, QUICK_SIZES if quick else SIZES, quick=quick)
        # Quick mode stands in the tiny live routine for the 9-minute built-in one.
        self.routines["builtin"] = self.routines["live"] if quick else BUILTIN_DIR / "back-pain.yaml"
        self.env = dict(os.environ, VOICECOACH_STATE_DIR=str(folder / "state"))
        self.warm_caches: dict[str, Path] = {}
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    def scratch(self, name: str) -> Path:
        """A new path in the run's folder (``name-N``), not yet created."""
        return self.folder / f"{name}-{next(self._names)}"

    def fresh_cache(self) -> Path:
        return self.scratch("cache")

    def session(self, label: str, cache: Path, rate: int = DEFAULT_RATE):
        """The routine prepared in this process with ``cache``; a child given the same cache
        plays exactly these samples (espeak-ng does not repeat itself bit for bit)."""
        from voicecoach.session.prepare import prepare
        with self._lock:  # the cache folder is taken from the environment: one at a time
            previous = os.environ.get("VOICECOACH_CACHE_DIR")
            os.environ["VOICECOACH_CACHE_DIR"] = str(cache)
            try:
                return prepare(str(self.routines[label]), rate=rate)
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


def run_jobs(jobs: dict, parallel: bool) -> dict:
    """Run each job (a function of a fresh PulseServer) on its own server; results by name.

    In full runs jobs run one after another so that they do not disturb each other's
    timing; ``--quick`` runs them side by side (its figures are not meant to be read).
    """
    results, failures = {}, []

    def work(name, job):
        try:
            with PulseServer() as server:
                results[name] = job(server)
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
    jobs = {"first_sound": lambda server: first_sound(bench, server),
            "ours": lambda server: play_measured(bench, server, "live", DEFAULT_RATE),
            "naive": lambda server: naive_measured(bench, server)}
    for rate in RATES:
        jobs[f"rate_{rate}"] = lambda server, rate=rate: play_measured(bench, server, "holds", rate)
    return jobs


def first_sound(bench: Bench, server) -> dict:
    """Median seconds from ``play``'s process start to its first sound, after the lead-in."""
    runs = QUICK_FIRST_SOUND_RUNS if bench.quick else FIRST_SOUND_RUNS
    warm = bench.fresh_cache()
    bench.session("builtin", warm)
    figures = {}
    for state in ("cold", "warm"):
        times = []
        for _ in range(runs):
            cache = bench.fresh_cache() if state == "cold" else warm
            env = server.env(dict(bench.env, VOICECOACH_CACHE_DIR=str(cache)))
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


def play_measured(bench: Bench, server, label: str, rate: int) -> dict:
    """Record ``play`` of routine ``label`` at ``rate`` and measure it against its plan."""
    cache = bench.fresh_cache()
    session = bench.session(label, cache, rate)
    env = server.env(dict(bench.env, VOICECOACH_CACHE_DIR=str(cache)))
    run = bench_live.run_recorded(server, play_command(bench.routines[label], rate), env, PLAY_TIMEOUT_S)
    if run.returncode:
        raise bench_live.BenchError(f"play exited with {run.returncode}: {run.stderr.strip()[-300:]}")
    reference = np.concatenate(list(session.chunks()))
    figures = bench_live.measure_session(run.samples, reference, session.timeline)
    figures.update(planned_s=round(session.timeline.total_s, 3), rate=rate)
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


# -- the whole run ----------------------------------------------------------------------

def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.split("  ")[0]
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load_average": round(os.getloadavg()[0], 2), "espeak": espeak.strip()}


def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as folder:
        bench = Bench(Path(folder), quick)
        results = {"mode": "quick" if quick else "full", "machine": machine(),
                   "routines": {label: str(path.name) for label, path in bench.routines.items()}}
        results["export"] = export_figures(bench)
        results["memory"] = memory_figures(bench, results["export"])
        results["baseline_mp3"] = baseline_figures(bench, results["export"])
        live = run_jobs(live_jobs(bench), parallel=quick)
        results["first_sound"] = live.pop("first_sound")
        results["live"] = {"ours": live.pop("ours"), "naive": live.pop("naive")}
        results["rates"] = {str(rate): live[f"rate_{rate}"] for rate in RATES}
    results["machine"]["load_average_end"] = round(os.getloadavg()[0], 2)
    results["targets"] = bench_report.targets(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="tiny routines; for tests, not figures")
    args = parser.parse_args(argv)
    try:
        results = run(args.quick)
    except (bench_live.BenchError, RuntimeError, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=1) if args.json else bench_report.table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
