"""The benchmark's targets (met or not) and its table, from the figures ``bench.run`` made."""

from __future__ import annotations


def targets(results: dict) -> dict:
    """Every target of the issue: what it is, the figure it is judged on, and whether met."""
    found: dict[str, dict] = {}

    def judge(key: str, text: str, value, met) -> None:
        found[key] = {"target": text, "measured": value, "met": bool(value is not None and met(value))}

    export, baseline = results["export"], results["baseline_mp3"]
    for label in ("builtin", "2h"):
        judge(f"wav_cold_{label}", ">= 300x real time", export[label]["wav"]["cold"]["speed_x"], lambda v: v >= 300)
        judge(f"wav_warm_{label}", ">= 2000x real time", export[label]["wav"]["warm"]["speed_x"], lambda v: v >= 2000)
        judge(f"mp3_vs_pydub_{label}", ">= 10x the pydub-style speed (ours cold)",
              baseline[label]["ours_cold_ratio"], lambda v: v >= 10)
    memory = results["memory"]
    judge("memory_2h", "<= 120 MB peak", memory["peak_2h_mb"], lambda v: v <= 120)
    judge("memory_flat", "<= 5 MB more at 2 h than at 10 min", memory["growth_mb"], lambda v: v <= 5)
    judge("first_sound_cold", "<= 0.5 s", results["first_sound"]["cold_s"], lambda v: v <= 0.5)
    ours = results["live"]["ours"]
    found_all = ours["missing"] == 0
    judge("live_p95", "<= 5 ms, every cue found", ours["onsets"]["p95_ms"], lambda v: v <= 5 and found_all)
    judge("live_max", "<= 15 ms, every cue found", ours["onsets"]["max_ms"], lambda v: v <= 15 and found_all)
    judge("live_overrun", "0.0 %", ours["overrun_pct"], lambda v: abs(v) < 0.05)
    for rate, figures in results["rates"].items():
        holds = figures["holds"]
        judge(f"holds_rate_{rate}_p95", "<= 5 ms", holds["p95_ms"], lambda v: v <= 5)
        judge(f"holds_rate_{rate}_max", "<= 15 ms", holds["max_ms"], lambda v: v <= 15)
    return found


def table(results: dict) -> str:
    """The figures as a plain-text report."""
    parts = [_header(results), _exports(results), _memory(results), _first_sound(results), _live(results),
             _holds(results), _targets(results)]
    return "\n\n".join(parts)


def _header(results: dict) -> str:
    m = results["machine"]
    mode = "QUICK (tiny stand-in routines: the figures mean nothing)" if results["mode"] == "quick" else "full"
    return (f"voicecoach benchmark, {mode}\n"
            f"machine: {m['nproc']} x {m['cpu']}, Python {m['python']}, {m['espeak']}, "
            f"load average {m['load_average']} at start, {m['load_average_end']} at the end")


def _exports(results: dict) -> str:
    rows = ["Export speed: audio seconds per wall second (work = prepare + export inside the process;",
            "command = the whole process, interpreter start included); peak = max RSS of the process",
            f"{'routine':<10} {'length':>9}  {'format':<6} {'cache':<5} {'work':>8} {'command':>8} {'peak MB':>8}"]
    for label, formats in results["export"].items():
        for fmt, runs in formats.items():
            for state, run in runs.items():
                rows.append(f"{label:<10} {_clock(run['audio_s']):>9}  {fmt.upper():<6} {state:<5} "
                            f"{run['speed_x']:>7.0f}x {run['command_speed_x']:>7.0f}x {run['peak_mb']:>8.1f}")
    rows.append("")
    rows.append("pydub-style MP3 (espeak-ng once per line into its own WAV, joined, same encoder):")
    for label, base in results["baseline_mp3"].items():
        rows.append(f"{label:<10} {_clock(base['audio_s']):>9}  {base['lines']} lines, {base['wall_s']:.1f} s, "
                    f"{base['speed_x']:.0f}x; ours is {base['ours_cold_ratio']:.1f}x as fast cold, "
                    f"{base['ours_warm_ratio']:.1f}x warm")
    return "\n".join(rows)


def _memory(results: dict) -> str:
    memory = results["memory"]
    labels = ("10min", "30min", "2h")
    rows = ["Peak memory by session length (warm cache, fresh process each), MB",
            f"{'':<6}" + "".join(f"{label + ' ' + _clock(memory[label]['audio_s']):>20}" for label in labels)]
    for fmt in ("wav", "mp3"):
        rows.append(f"{fmt.upper():<6}" + "".join(f"{memory[label][f'{fmt}_mb']:>20.1f}" for label in labels))
    rows.append(f"growth 10 min -> 2 h: {memory['growth_mb']:+.1f} MB; highest 2 h peak (cold or warm): "
                f"{memory['peak_2h_mb']:.1f} MB")
    return "\n".join(rows)


def _first_sound(results: dict) -> str:
    first = results["first_sound"]
    return (f"Time to first sound of play, built-in routine, median of {first['runs']}: process start to "
            f"the first sound at the server, minus the {first['lead_in_s']:g} s lead-in\n"
            f"  cold cache {first['cold_s']:.3f} s ({first['cold_from_start_s']:.3f} s from process start), "
            f"warm cache {first['warm_s']:.3f} s ({first['warm_from_start_s']:.3f} s)")


def _live(results: dict) -> str:
    live = results["live"]
    rows = [f"Live timing: cue onsets in a recording against the plan, routine {results['routines']['live']} "
            f"({_clock(live['ours']['planned_s'])} planned)",
            f"{'':<12} {'cues':>5} {'missing':>8} {'median':>10} {'p95':>10} {'max':>10} {'overrun':>9}"]
    for name, label in (("ours", "voicecoach"), ("naive", "naive")):
        figures = live[name]
        onsets = figures["onsets"]
        rows.append(f"{label:<12} {onsets['count']:>5} {figures['missing']:>8} {_ms(onsets['median_ms'])} "
                    f"{_ms(onsets['p95_ms'])} {_ms(onsets['max_ms'])} {_pct(figures['overrun_pct'])}")
    worst = ", ".join(f"{w['error_ms']:+.1f} ms at {w['at_s']:.1f} s" for w in live["ours"]["worst"])
    rows.append(f"(voicecoach: error = deviation from the median plan-to-recording offset; worst: {worst})")
    rows.append(f"(naive: planned = its holds, rests and pauses, {_clock(live['naive']['planned_s'])}; "
                "its speech is not in its plan)")
    return "\n".join(rows)


def _holds(results: dict) -> str:
    live = results["live"]
    rows = [f"Holds measured in the recording minus the written hold (routine {results['routines']['holds']})",
            f"{'':<22} {'holds':>5} {'median':>10} {'p95':>10} {'max':>10}"]
    holds = [(f"voicecoach --rate {rate}", figures["holds"]) for rate, figures in results["rates"].items()]
    holds += [(f"voicecoach --rate {live['ours']['rate']}", live["ours"]["holds"]),
              (f"naive at {live['naive']['rate']}", live["naive"]["holds"])]
    for label, figures in holds:
        rows.append(f"{label:<22} {figures['count']:>5} {_ms(figures['median_ms'])} "
                    f"{_ms(figures['p95_ms'])} {_ms(figures['max_ms'])}")
    return "\n".join(rows)


def _targets(results: dict) -> str:
    rows = ["Targets"]
    for key, item in results["targets"].items():
        rows.append(f"  {'met    ' if item['met'] else 'NOT MET'}  {key:<22} {item['target']:<42} "
                    f"measured {item['measured']}")
    return "\n".join(rows)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _ms(value) -> str:
    return f"{'-':>10}" if value is None else f"{value:>7.1f} ms"


def _pct(value) -> str:
    return f"{'-':>9}" if value is None else f"{value:>8.2f}%"
