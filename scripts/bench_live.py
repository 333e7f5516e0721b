"""Live figures for the benchmark, measured in recordings of a private PulseAudio null sink.

voicecoach's player: every cue and chime is found by matching 50 ms of the rendered session
(what should sound there) against the recording. The null sink runs at the session's format
and the player plays the cached samples, so a match is exact, to the sample, even where
sounds touch. The naive player synthesizes anew (espeak-ng does not repeat itself bit for
bit), so its sounds are found by level and recognised by their loudness contour.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

import numpy as np

from voicecoach.audio import SILENCE_THRESHOLD
from voicecoach.plan.model import CHIME, HOLD, REST, SPEECH, Timeline

SNIPPET_S = 0.05
# The naive player's speech is synthesized anew, and espeak-ng does not repeat itself bit
# for bit, so its cues are found by level and recognised by their loudness contour.
NAIVE_MATCH = 0.9
MATCH = 0.5  # a true match scores ~1.0 (the sink is bit for bit); anything else far less
TRACK_S = 0.25  # how far a cue may stray from where the previous one said it would be
NAIVE_LATE_S = 10.0  # the naive way starts each cue after synthesis and player start-up
TAIL_S = 0.4  # recording kept after the player exits, so its last sound arrives


class BenchError(RuntimeError):
    """A measurement could not be made (the reason is in the message)."""


@dataclasses.dataclass
class Run:
    """One recorded run of a player process. ``origin`` is the monotonic time of sample 0."""

    samples: np.ndarray
    started: float
    origin: float
    returncode: int | None
    stderr: str
    first_loud: int | None

    def seconds_to(self, index: int) -> float:
        """Seconds from process start to recording sample ``index``."""
        return self.origin + index / RATE - self.started


RATE = 22_050


def run_recorded(server, command: list[str], env: dict, timeout_s: float,
                 stop_at_sound: bool = False) -> Run:
    """Run ``command`` while recording the sink; optionally stop it at its first sound.

    With ``stop_at_sound`` the time of recording sample 0 is estimated as min(t - n/rate)
    over observations of the sample count n at time t: samples only ever arrive late, so
    the smallest value is the tightest bound (within a few milliseconds).
    """
    log = Path(server.folder) / f"player-{time.monotonic_ns()}.log"
    with server.record() as recording, open(log, "wb") as errors:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=errors)
        try:
            origin, first = _watch(recording, process, started + timeout_s, stop_at_sound)
        finally:
            _finish(process)
        time.sleep(TAIL_S)
    samples = recording.samples()
    if first is None:
        first = _first_loud(samples)
    return Run(samples, started, origin, process.returncode, log.read_text(errors="replace"), first)


def _watch(recording, process, deadline: float, stop_at_sound: bool) -> tuple[float, int | None]:
    origin, first = float("inf"), None
    while process.poll() is None:
        now = time.monotonic()
        if now > deadline:
            raise BenchError(f"{' '.join(process.args[-3:])}: the player did not finish in time")
        if not stop_at_sound:
            time.sleep(0.05)
            continue
        samples = recording.samples()
        if len(samples):
            origin = min(origin, now - len(samples) / RATE)
        if first is None:
            first = _first_loud(samples)
            if first is not None:
                process.terminate()
        time.sleep(0.002)
    return origin, first


def _finish(process) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _first_loud(samples: np.ndarray) -> int | None:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    return int(loud[0]) if len(loud) else None


# -- finding sounds in a recording -----------------------------------------------------

def locate(recording: np.ndarray, snippet: np.ndarray, low: int, high: int) -> int | None:
    """Where ``snippet`` starts in ``recording``, searching starts in ``[low, high)``.

    The score is the share of the snippet's energy that the recording matches there,
    1 - |recording - snippet|^2 / |snippet|^2: 1.0 for an exact copy, lower at every shift
    (normalised correlation would also score a decaying tone 1.0 one period early). The
    best position wins; among equally good ones the earliest (a later repeat never does).
    """
    size = len(snippet)
    low, high = max(0, low), min(high, len(recording) - size + 1)
    reference = snippet.astype(np.float64)
    power = float(reference @ reference)
    if high <= low or power == 0:
        return None
    segment = recording[low: high + size - 1].astype(np.float64)
    dots = np.correlate(segment, reference, "valid")
    energy = np.concatenate([[0.0], np.cumsum(segment * segment)])
    score = 1 - (energy[size:] - energy[:-size] - 2 * dots + power) / power
    best = float(score.max())
    if best < MATCH:
        return None
    return low + int(np.flatnonzero(score >= best - 1e-9)[0])


def snippet_samples() -> int:
    return round(SNIPPET_S * RATE)


def error_stats(errors_samples: list[int]) -> dict:
    """Median, 95th percentile and maximum of |error|, in milliseconds."""
    if not errors_samples:
        return {"median_ms": None, "p95_ms": None, "max_ms": None, "count": 0}
    values = np.abs(np.asarray(errors_samples, dtype=np.float64)) / RATE * 1000
    return {"median_ms": round(float(np.median(values)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
            "max_ms": round(float(values.max()), 2), "count": len(values)}


# -- voicecoach's own player -----------------------------------------------------------

def sounding(timeline: Timeline) -> list:
    return sorted((e for e in timeline.events if e.kind in (SPEECH, CHIME)), key=lambda e: e.start)


def measure_session(samples: np.ndarray, reference: np.ndarray, timeline: Timeline) -> dict:
    """Onset errors of every cue and chime against the plan, holds, and overrun.

    The plan says when each sound starts relative to the session; the recording adds one
    constant (process start, lead-in, output latency). That constant is taken as the
    median of (found - planned) over all sounds, so no single sound (not even the first)
    sets the reference, and each error is a sound's deviation from it.
    """
    events = sounding(timeline)
    # The anchor comes from inside the first sound, not its onset: the first milliseconds of
    # a session's first stream can be missing from a monitor recording (see match_bursts).
    # The inside finds it roughly; the onset, where it was recorded whole, to the sample.
    inside = min(events[0].length // 2, round(0.3 * RATE))
    rough = _find(samples, reference, events[0].start + inside, None)
    anchor = None if rough is None else rough - inside
    if anchor is not None:
        onset = _find(samples, reference, events[0].start, anchor)
        whole = onset is not None and np.array_equal(
            samples[onset: onset + snippet_samples()], reference[events[0].start: events[0].start + snippet_samples()])
        anchor = onset if whole else anchor
    if anchor is None:
        raise BenchError("the first cue was not found in the recording")
    found, missing, drift = [], 0, 0
    for event in events:
        position = _find(samples, reference, event.start, anchor + event.start + drift)
        if position is None:
            missing += 1
            continue
        drift = position - anchor - event.start
        found.append((event, drift))
    offset = int(np.median([drift for _, drift in found]))
    errors = [(event, drift - offset) for event, drift in found]
    return {"onsets": error_stats([error for _, error in errors]), "missing": missing,
            "worst": _worst(errors, timeline), "holds": error_stats(_session_holds(samples, reference, timeline, anchor)),
            "overrun_pct": _session_overrun(samples, reference, events, anchor)}


def _find(samples: np.ndarray, reference: np.ndarray, start: int, expected: int | None) -> int | None:
    """Where the sound starting at reference sample ``start`` is in the recording: near
    ``expected`` (within ``TRACK_S``), or anywhere when None."""
    snippet = reference[start: start + snippet_samples()]
    if expected is None:
        return locate(samples, snippet, 0, len(samples))
    window = round(TRACK_S * RATE)
    return locate(samples, snippet, expected - window, expected + window)


def _worst(errors: list, timeline: Timeline, count: int = 3) -> list[dict]:
    """The sounds furthest from their planned time: when, what, and by how much."""
    ranked = sorted(errors, key=lambda item: -abs(item[1]))[:count]
    return [{"at_s": timeline.seconds(event.start), "what": event.text or event.sound,
             "error_ms": round(error / RATE * 1000, 2)} for event, error in ranked]


def _end_of(samples: np.ndarray, reference: np.ndarray, point: int, expected: int) -> int | None:
    """Where reference sample ``point`` (the end of a sound) lies in the recording."""
    size, window = snippet_samples(), round(TRACK_S * RATE)
    found = locate(samples, reference[point - size: point], expected - size - window, expected - size + window)
    return None if found is None else found + size


def _session_holds(samples, reference, timeline: Timeline, anchor: int) -> list[int]:
    """Measured minus written length of every hold: from the cue's end to the chime's start."""
    size, window, errors = snippet_samples(), round(TRACK_S * RATE), []
    for hold in (e for e in timeline.events if e.kind == HOLD):
        start = _end_of(samples, reference, hold.start, anchor + hold.start)
        end = locate(samples, reference[hold.end: hold.end + size],
                     anchor + hold.end - window, anchor + hold.end + window)
        if start is not None and end is not None:
            errors.append(end - start - hold.length)
    return errors


def _session_overrun(samples, reference, events, anchor: int) -> float | None:
    """How much longer than planned the session ran, first sound to last, in percent."""
    last_end = max(e.end for e in events)
    end = _end_of(samples, reference, last_end, anchor + last_end)
    if end is None:
        return None
    planned = last_end - events[0].start
    return round(100 * (end - anchor - planned) / planned, 3)


# -- the naive way ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class NaiveSound:
    """A sound the naive player makes; ``planned`` is its start if speech took no time."""

    audio: np.ndarray
    planned: int
    sleep_before: int
    hold_before: int | None


def naive_plan(timeline: Timeline, speech, chimes: dict, chime_files: dict) -> tuple[list, list]:
    """The naive player's items (for bench_naive.py) and the sounds it will make.

    It plays the same cues in the same order with the same pauses, holds and rests, but
    leaves out the marks spoken inside holds and rests: a naive timer sleeps through them.
    ``speech(text)`` gives the trimmed audio of a cue, ``chimes`` the trimmed chimes.
    """
    marks = [(e.start, e.end) for e in timeline.events if e.kind in (HOLD, REST)]
    items, sounds = [], []
    planned = cursor = sleep = 0
    held = False
    for event in sorted(timeline.events, key=lambda e: e.start):
        if event.kind == SPEECH and any(a <= event.start < b for a, b in marks):
            continue
        sleep += event.start - cursor
        cursor = event.end
        if event.kind in (HOLD, REST):
            sleep += event.length
            held = held or event.kind == HOLD
            continue
        if sleep:
            items.append(["sleep", round(sleep / RATE, 6)])
        is_speech = event.kind == SPEECH
        items.append(["say", event.text] if is_speech else ["chime", str(chime_files[event.sound])])
        audio = speech(event.text) if is_speech else chimes[event.sound]
        planned += sleep
        sounds.append(NaiveSound(audio.samples, planned, sleep, sleep if held else None))
        sleep, held = 0, False
    return items, sounds


def measure_naive(samples: np.ndarray, sounds: list[NaiveSound]) -> dict:
    """Onset errors against the naive plan (speech taking no time), holds, and overrun.

    The naive player speaks each cue anew, and espeak-ng does not repeat itself bit for
    bit, so onsets are found by level: the first loud sample after the previous sound and
    the sleep that followed it. A sound there that is not the expected one counts the
    expected one as missing: if it is the next one, the expected one was dropped;
    otherwise it is skipped.
    """
    early, late = round(0.02 * RATE), round(NAIVE_LATE_S * RATE)
    errors, holds, missing, cursor, anchor, last = [], [], 0, 0, None, None
    for index, sound in enumerate(sounds):
        low = max(0, cursor + sound.sleep_before - early) if anchor is not None else 0
        onset = _first_loud(samples[low: low + late if anchor is not None else len(samples)])
        if onset is None:
            missing += 1
            continue
        onset += low
        if not _looks_like(samples, onset, sound.audio):
            missing += 1
            following = sounds[index + 1].audio if index + 1 < len(sounds) else None
            if following is None or not _looks_like(samples, onset, following):
                cursor = _end_of_sound(samples, onset, len(sound.audio))
            continue
        anchor = onset if anchor is None else anchor
        errors.append(onset - anchor - sound.planned)
        if sound.hold_before is not None and index:
            holds.append(onset - cursor - sound.hold_before)
        cursor, last = _end_of_sound(samples, onset, len(sound.audio)), (onset, sound.planned)
    overrun = None
    if last and last[1]:
        overrun = round(100 * (last[0] - anchor - last[1]) / last[1], 3)
    return {"onsets": error_stats(errors), "missing": missing, "holds": error_stats(holds),
            "overrun_pct": overrun}


def _looks_like(samples: np.ndarray, onset: int, audio: np.ndarray) -> bool:
    """Whether the sound at ``onset`` is ``audio``: their loudness contours (10 ms frames,
    first second) correlate. Two syntheses of one text score 0.94-1.0, other cues < 0.85."""
    length = min(len(audio), RATE, len(samples) - onset)
    heard, expected = _contour(samples[onset: onset + length]), _contour(audio[:length])
    if len(heard) < 3 or heard.std() == 0 or expected.std() == 0:
        return False
    return float(np.corrcoef(heard, expected)[0, 1]) >= NAIVE_MATCH


def _contour(samples: np.ndarray) -> np.ndarray:
    frame = round(0.01 * RATE)
    count = len(samples) // frame
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    return np.sqrt((frames * frames).mean(axis=1))


def _end_of_sound(samples: np.ndarray, onset: int, length: int) -> int:
    """One past the last loud sample of the sound starting at ``onset`` (about ``length`` long)."""
    piece = np.abs(samples[onset: onset + length + round(0.3 * RATE)].astype(np.int32))
    loud = np.flatnonzero(piece > SILENCE_THRESHOLD)
    return onset + int(loud[-1]) + 1
