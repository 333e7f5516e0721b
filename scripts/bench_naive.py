"""The naive way, as other voice-guided timers do it: speak a cue, wait until it has been
spoken, then sleep the hold. Used by the benchmark as the baseline for live timing.

    python3 scripts/bench_naive.py plan.json

``plan.json``: ``{"rate": 140, "voice": "gmw/en-us", "items": [["say", "text"],
["sleep", 3.0], ["chime", "/path/start.wav"], ...]}``. Speech goes through pyttsx3
(``say`` + ``runAndWait``, which on Linux synthesizes and then plays with aplay), chimes
through simpleaudio, each waited for; sleeps are ``time.sleep``. Nothing is measured
here: the benchmark records what reaches the audio server.
"""

from __future__ import annotations

import json
import sys
import time
import wave


def play_chime(path: str) -> None:
    import simpleaudio
    with wave.open(path) as reader:
        frames = reader.readframes(reader.getnframes())
        simpleaudio.play_buffer(frames, reader.getnchannels(), reader.getsampwidth(),
                                reader.getframerate()).wait_done()


def run(plan: dict) -> None:
    import pyttsx3
    engine = pyttsx3.init("espeak")
    engine.setProperty("voice", plan["voice"])
    engine.setProperty("rate", plan["rate"])
    for kind, value in plan["items"]:
        if kind == "say":
            engine.say(value)
            engine.runAndWait()
        elif kind == "chime":
            play_chime(value)
        else:
            time.sleep(value)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        run(json.load(handle))
