"""The default engine's figures: what a user who followed the README hears (``--engine auto``
picks Piper where the neural extra and a voice are installed), next to espeak-ng's.

Measured per engine: WAV export cold and warm, each in a fresh process (speed and peak
memory at 10 minutes, 30 minutes and 2 hours of session, and of the built-in routine); the
first ``plan`` of the built-in routine on an empty speech cache (wall time of the whole
command, and its peak memory); time to first sound of ``play`` on an empty and a full cache;
live cue timing. Each figure carries its engine and the load average when it was taken:
the machine may be shared, and Piper's figures move with it far more than espeak-ng's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_export
import intelligibility

PIPER, ESPEAK = "piper", "espeak"
EXPORT_LABELS = ("builtin", "10min", "30min", "2h")


def engines() -> tuple[str, ...]:
    """The engines to measure: the default (Piper, where installed) and espeak-ng."""
    return (PIPER, ESPEAK) if intelligibility.piper_installed() else (ESPEAK,)


def settings_env(bench, engine: str) -> dict:
    """``bench.env`` with settings that pin ``engine`` (its own config folder)."""
    folder = bench.folder / f"settings-{engine}"
    if not folder.exists():
        folder.mkdir()
        (folder / "config.yaml").write_text(f"engine: {engine}\n")
    return dict(bench.env, VOICECOACH_CONFIG_DIR=str(folder))


def export_figures(bench, engine: str) -> dict:
    """WAV export of each routine cold (an empty cache) then warm (the same cache)."""
    figures = {}
    for label in EXPORT_LABELS:
        cache = bench.fresh_cache()
        output = bench.folder / f"{engine}-{label}.wav"
        figures[label] = {state: bench_export.run_export(bench.routines[label], output, cache, engine)
                          for state in ("cold", "warm")}
    return figures


def memory_table(exports: dict) -> dict:
    """Peak memory by session length, cold and warm, and its growth from 10 min to 2 h."""
    table = {label: {"cold_mb": exports[label]["cold"]["peak_mb"], "warm_mb": exports[label]["warm"]["peak_mb"],
                     "audio_s": exports[label]["cold"]["audio_s"]} for label in ("10min", "30min", "2h")}
    table["growth_cold_mb"] = round(table["2h"]["cold_mb"] - table["10min"]["cold_mb"], 1)
    table["growth_warm_mb"] = round(table["2h"]["warm_mb"] - table["10min"]["warm_mb"], 1)
    table["peak_2h_mb"] = max(table["2h"]["cold_mb"], table["2h"]["warm_mb"])
    return table


def first_plan(bench, engine: str) -> dict:
    """``voicecoach plan`` of the built-in routine in a fresh process on an empty cache, then
    again on the cache it filled: wall seconds of the whole command and its peak memory."""
    cache = bench.fresh_cache()
    env = dict(settings_env(bench, engine), VOICECOACH_CACHE_DIR=str(cache))
    command = [sys.executable, "-m", "voicecoach", "plan", str(bench.routines["builtin"])]
    figures = {"engine": engine, "load_average": round(os.getloadavg()[0], 2)}
    for state in ("cold", "warm"):
        run = _timed(command, env)
        figures[f"{state}_s"], figures[f"{state}_peak_mb"] = run
    return figures


def _timed(command: list[str], env: dict) -> tuple[float, float]:
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                   stdin=subprocess.DEVNULL)
        usage = bench_export._wait_with_usage(process, "plan")
        wall = time.perf_counter() - started
        if process.returncode:
            err.seek(0)
            raise RuntimeError(f"plan failed: {err.read().decode(errors='replace').strip()[-300:]}")
    return round(wall, 3), round(usage.ru_maxrss * 1024 / 1e6, 1)


def engine_figures(bench, engine: str) -> dict:
    """Export and memory, and the first plan, of ``engine`` (the live figures are the live jobs')."""
    exports = export_figures(bench, engine)
    return {"engine": engine, "default": engine == engines()[0], "export": exports,
            "memory": memory_table(exports), "first_plan": first_plan(bench, engine)}


def live_jobs(bench, first_sound, play_measured, on_server) -> dict:
    """First sound and live timing by every engine but espeak-ng (whose jobs are bench.py's):
    ``first_sound(bench, server, engine)`` and ``play_measured(bench, server, label, rate, engine)``,
    each on a server of its own (``on_server``), as espeak-ng's."""
    from voicecoach.speech.engines import DEFAULT_RATE
    jobs = {}
    for engine in engines():
        if engine == ESPEAK:
            continue
        jobs[f"first_sound_{engine}"] = on_server(lambda server, e=engine: first_sound(bench, server, e))
        jobs[f"live_{engine}"] = on_server(lambda server, e=engine: play_measured(bench, server, "live", DEFAULT_RATE, e))
    return jobs


def targets(results: dict, judge) -> None:
    """The default engine's targets (issue 22)."""
    engine_runs = results.get("engines", {})
    piper = engine_runs.get(PIPER)
    ran = piper is not None
    memory = piper["memory"] if ran else {}
    judge("piper_memory_2h", "<= 150 MB peak at 2 h, cold or warm", memory.get("peak_2h_mb"),
          lambda v: v <= 150, ran)
    judge("piper_memory_flat", "<= 5 MB more at 2 h than at 10 min, cold and warm",
          max(memory["growth_cold_mb"], memory["growth_warm_mb"]) if ran else None, lambda v: v <= 5, ran)
    judge("piper_first_plan", "<= 10 s, built-in routine, empty cache",
          piper["first_plan"]["cold_s"] if ran else None, lambda v: v <= 10, ran)
    sound = results.get("first_sound_engines", {}).get(PIPER)
    judge("piper_first_sound_cold", "<= 0.5 s after the lead-in, empty cache",
          sound["cold_s"] if sound else None, lambda v: v <= 0.5, sound is not None)
    live = results.get("live_engines", {}).get(PIPER)
    found_all = live is not None and live["missing"] == 0
    judge("piper_live_p95", "<= 5 ms, every cue found", live["onsets"]["p95_ms"] if live else None,
          lambda v: v <= 5 and found_all, live is not None)
    judge("piper_live_max", "<= 15 ms, every cue found", live["onsets"]["max_ms"] if live else None,
          lambda v: v <= 15 and found_all, live is not None)


def report(results: dict) -> str:
    """The engines' section of the table."""
    runs = results.get("engines") or {}
    if not runs:
        return "Engines: not measured"
    rows = ["Engines: the default (Piper, what --engine auto picks) next to espeak-ng; WAV export, fresh "
            "process each (work = prepare + export), peak = max RSS, load = load average after the run",
            f"{'engine':<7} {'routine':<8} {'length':>8} {'cold':>8} {'peak MB':>8} {'load':>5} "
            f"{'warm':>8} {'peak MB':>8} {'load':>5}"]
    for engine, figures in runs.items():
        for label, states in figures["export"].items():
            cold, warm = states["cold"], states["warm"]
            rows.append(f"{engine:<7} {label:<8} {_clock(cold['audio_s']):>8} {cold['speed_x']:>7.0f}x "
                        f"{cold['peak_mb']:>8.1f} {cold['load_average']:>5.1f} {warm['speed_x']:>7.0f}x "
                        f"{warm['peak_mb']:>8.1f} {warm['load_average']:>5.1f}")
    for engine, figures in runs.items():
        memory, plan = figures["memory"], figures["first_plan"]
        rows.append(f"{engine}: peak memory growth 10 min -> 2 h {memory['growth_cold_mb']:+.1f} MB cold, "
                    f"{memory['growth_warm_mb']:+.1f} MB warm; highest 2 h peak {memory['peak_2h_mb']:.1f} MB")
        rows.append(f"{engine}: first plan of the built-in routine (the whole command), empty cache "
                    f"{plan['cold_s']:.2f} s ({plan['cold_peak_mb']:.0f} MB), then warm {plan['warm_s']:.2f} s "
                    f"({plan['warm_peak_mb']:.0f} MB); load {plan['load_average']}")
    for engine, first in (results.get("first_sound_engines") or {}).items():
        rows.append(f"{engine}: first sound of play after the lead-in, empty cache {first['cold_s']:.3f} s, "
                    f"full cache {first['warm_s']:.3f} s (median of {first['runs']}; load {first['load_average']})")
    for engine, live in (results.get("live_engines") or {}).items():
        onsets = live["onsets"]
        rows.append(f"{engine}: live timing of {results['routines']['live']}: {onsets['count']} cues, "
                    f"{live['missing']} missing, p95 {onsets['p95_ms']:.1f} ms, max {onsets['max_ms']:.1f} ms "
                    f"(load {live.get('load_average')})")
    return "\n".join(rows)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"
