"""The benchmark's targets (met or not) and its table, from the figures ``bench.run`` made."""

from __future__ import annotations

import bench_piper

# Words heard right at every rate (issue 14: 140 WPM, and no regression at 110 and 200).
INTELLIGIBLE_PCT = {"piper": 97.0, "espeak": 90.0}


def targets(results: dict) -> dict:
    """Every target of the issues: what it is, the figure it is judged on, and whether met
    (None: not measured in this run, e.g. intelligibility without its flag)."""
    found: dict[str, dict] = {}

    def judge(key: str, text: str, value, met, ran: bool = True) -> None:
        found[key] = {"target": text, "measured": value,
                      "met": bool(value is not None and met(value)) if ran else None}

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
    _pause_targets(results["pause"], judge)
    _spoken_targets(results["spoken"], judge)
    _intelligibility_targets(results["intelligibility"], judge)
    bench_piper.targets(results, judge)
    return found


def _pause_targets(pause: dict, judge) -> None:
    ours, button = pause["ours"]["max_ms"], pause["button"]["max_ms"]
    judge("pause_latency", "<= 100 ms stop to silence, every stop", ours, lambda v: v <= 100)
    judge("pause_button", "<= 100 ms media button to silence (worst+worst)",
          None if ours is None or button is None else round(ours + button, 1), lambda v: v <= 100)


def _spoken_targets(spoken: dict, judge) -> None:
    ran = spoken["skipped"] is None
    recognition, false = spoken["recognition"], spoken["false_commands"]
    enough = len(recognition["voices"]) >= 2 and len(recognition["speeds"]) >= 3
    judge("spoken_recognition", ">= 95% of words, >= 2 voices x 3 speeds", recognition["recognized_pct"],
          lambda v: v >= 95 and enough, ran)
    judge("spoken_latency", "<= 0.8 s end of word to command (max)", recognition["latency_max_s"],
          lambda v: v <= 0.8, ran)
    judge("spoken_false_coach", "0 per hour in the coach's looped-back speech",
          false["coach"]["suppression_on_per_hour"], lambda v: v == 0, ran)
    judge("spoken_false_other", "0 per hour in other speech", false["other"]["suppression_off_per_hour"],
          lambda v: v == 0, ran)


def _intelligibility_targets(heard: dict, judge) -> None:
    ran, runs = heard["run"], heard["engines"]
    for engine, least in INTELLIGIBLE_PCT.items():
        for rate, figures in runs[engine].items():
            text = f">= {least:g}% of words heard right" + ("" if rate == "140" else " (no regression)")
            judge(f"intelligible_{engine}_{rate}", text, figures["words_right_pct"], lambda v: v >= least, ran)
    counted = [figures for rates in runs.values() for figures in rates.values()]
    wrong = None if any(f["count_words"] is None for f in counted) else \
        sum(f["count_words"] - f["count_words_right"] for f in counted)
    judge("intelligible_counts", "every count word heard right, both engines", wrong, lambda v: v == 0, ran)


def table(results: dict) -> str:
    """The figures as a plain-text report."""
    parts = [_header(results), _exports(results), _memory(results), bench_piper.report(results),
             _first_sound(results), _live(results),
             _holds(results), _pause(results), _spoken(results), _intelligibility(results), _targets(results)]
    return "\n\n".join(parts)


def _header(results: dict) -> str:
    m = results["machine"]
    mode = "QUICK (tiny stand-in routines: the figures mean nothing)" if results["mode"] == "quick" else "full"
    return (f"voicecoach benchmark, {mode}\n"
            f"machine: {m['nproc']} x {m['cpu']}, Python {m['python']}, {m['espeak']}, "
            f"load average {m['load_average']} at start, {m['load_average_end']} at the end; "
            f"run took {_clock(m['wall_s'])}")


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


def _pause(results: dict) -> str:
    pause = results["pause"]
    rows = ["Pause latency: stop() to the last loud sample at the server (a tone stopped at varied points)",
            f"{'':<20} {'stops':>5} {'median':>10} {'max':>10}   (play() to sound, median)"]
    for name, label in (("ours", "voicecoach (ALSA)"), ("simpleaudio", "simpleaudio")):
        figures = pause[name]
        rows.append(f"{label:<20} {figures['stops']:>5} {_ms(figures['median_ms'])} {_ms(figures['max_ms'])} "
                    f"  ({_ms(figures['start_median_ms']).strip()})")
    button = pause["button"]
    rows.append(f"media button (MPRIS PlayPause on a private bus -> Controls.wait): median "
                f"{button['median_ms']:.1f} ms, max {button['max_ms']:.1f} ms over {button['presses']} presses")
    return "\n".join(rows)


def _spoken(results: dict) -> str:
    spoken = results["spoken"]
    if spoken["skipped"]:
        return f"Spoken commands: not measured ({spoken['skipped']})"
    recognition = spoken["recognition"]
    speeds = recognition["speeds"]
    rows = [f"Spoken commands: {len(recognition['words'])} words said alone into a private \"microphone\" "
            f"(pocketsphinx), share recognized by voice and speed",
            f"{'voice':<14}" + "".join(f"{f'{speed} ({wpm})':>15}" for speed, wpm in speeds.items())]
    for voice, by_speed in recognition["by_voice_speed"].items():
        rows.append(f"{voice:<14}" + "".join(f"{_pct(by_speed[speed]):>15}" for speed in speeds))
    rows.append(f"recognized {_pct(recognition['recognized_pct']).strip()}; end of word to command: median "
                f"{_s(recognition['latency_median_s'])}, max {_s(recognition['latency_max_s'])}")
    coach, other = spoken["false_commands"]["coach"], spoken["false_commands"]["other"]
    rows.append(f"false commands, the coach's speech looped back ({coach['speech_s']:.0f} s, "
                f"{coach['sentences']} sentence{'' if coach['sentences'] == 1 else 's'}): {coach['suppression_on_per_hour']:.1f}/h with suppression, "
                f"{coach['suppression_off_per_hour']:.1f}/h without {_words(coach['words_off'])}")
    rows.append(f"false commands, other speech into the microphone ({spoken['other_voice']}, "
                f"{other['speech_s']:.0f} s): {other['suppression_off_per_hour']:.1f}/h {_words(other['words_off'])}")
    return "\n".join(rows)


def _intelligibility(results: dict) -> str:
    heard = results["intelligibility"]
    if not heard["run"]:
        return "Intelligibility: not run (--intelligibility or --all: about 7 minutes more)"
    rows = [f"Intelligibility: every cue of {heard['routine']} heard by {heard['judge']}",
            f"{'engine':<8} {'WPM':>4} {'words right':>12} {'count words right':>18} {'time':>7}"]
    misheard = []
    for engine, rates in heard["engines"].items():
        for rate, figures in rates.items():
            if figures["words"] is None:
                rows.append(f"{engine:<8} {rate:>4} {'-':>12} {'-':>18} {'-':>7}")
                continue
            counts = f"{figures['count_words_right']} of {figures['count_words']}"
            rows.append(f"{engine:<8} {rate:>4} {_pct(figures['words_right_pct']):>12} {counts:>18} "
                        f"{figures['seconds']:>6.0f}s")
            if figures["misheard"]:
                shown = ", ".join(f"{m['said']!r} -> {m['heard']!r}" + (f" x{m['times']}" if m["times"] > 1 else "")
                                  for m in figures["misheard"][:3])
                misheard.append(f"  {engine} {rate}: {shown}")
    if misheard:
        rows += ["misheard (most frequent first):"] + misheard
    return "\n".join(rows)


def _targets(results: dict) -> str:
    rows = ["Targets"]
    labels = {True: "met    ", False: "NOT MET", None: "not run"}
    for key, item in results["targets"].items():
        rows.append(f"  {labels[item['met']]}  {key:<24} {item['target']:<48} measured {item['measured']}")
    return "\n".join(rows)


def _s(value) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _words(words: list) -> str:
    return f"({', '.join(words)})" if words else "(none)"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _ms(value) -> str:
    return f"{'-':>10}" if value is None else f"{value:>7.1f} ms"


def _pct(value) -> str:
    return f"{'-':>9}" if value is None else f"{value:>8.2f}%"
