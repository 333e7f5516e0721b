"""Regenerate the chimes in ``sounds/`` from code, deterministically (same bytes each run).

Each chime is a soft bell: a few sine partials with an exponential decay, notes from a
major chord so they sound friendly, and a distinct contour per meaning:
  start     rising two notes    (an exercise begins)
  hold_end  one bright note     (a hold is over: release)
  next      falling two notes   (a rest is over: on to the next)
  end       rising three notes  (the session is done)
Usage: python scripts/make_sounds.py [OUTPUT_DIR]   (default: sounds/ beside this script)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from voicecoach.audio import SAMPLE_RATE, Audio  # noqa: E402

C5, E5, G5, A5, C6 = 523.25, 659.25, 783.99, 880.0, 1046.5
CHIMES = {
    "start": [(C5, 0.0), (G5, 0.14)],
    "hold_end": [(A5, 0.0)],
    "next": [(G5, 0.0), (C5, 0.14)],
    "end": [(C5, 0.0), (E5, 0.16), (C6, 0.32)],
}
NOTE_S = 0.45


def bell(frequency_hz: float, duration_s: float = NOTE_S) -> np.ndarray:
    t = np.arange(round(duration_s * SAMPLE_RATE)) / SAMPLE_RATE
    partials = sum(amp * np.sin(2 * np.pi * frequency_hz * mult * t)
                   for mult, amp in ((1, 1.0), (2, 0.3), (3, 0.1)))
    attack = np.minimum(1.0, t / 0.004)  # 4 ms: no click
    return partials * attack * np.exp(-t * 7.0)


def chime(notes: list[tuple[float, float]]) -> Audio:
    length = round((max(at for _, at in notes) + NOTE_S) * SAMPLE_RATE)
    mix = np.zeros(length)
    for frequency, at in notes:
        note = bell(frequency)
        start = round(at * SAMPLE_RATE)
        mix[start:start + len(note)] += note
    mix *= 0.35 * 32767 / np.abs(mix).max()  # about -9 dBFS: under the voice, never harsh
    return Audio(np.round(mix).astype(np.int16), SAMPLE_RATE)


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "sounds"
    folder.mkdir(parents=True, exist_ok=True)
    for name, notes in CHIMES.items():
        (folder / f"{name}.wav").write_bytes(chime(notes).to_wav_bytes())
        print(f"wrote {folder / name}.wav")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
