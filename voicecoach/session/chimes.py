"""The chimes: shipped WAVs in ``sounds/`` (made by ``scripts/make_sounds.py``), or a
routine's own files, resolved by the routine loader inside the routine's folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..audio import Audio
from ..errors import RoutineError
from ..routine import CHIME_NAMES, Routine


def shipped_sound_dir() -> Path:
    """``voicecoach/sounds`` once installed (mapped from the top-level ``sounds/``)."""
    try:
        installed = Path(str(resources.files("voicecoach.sounds")))
        if (installed / "start.wav").is_file():
            return installed
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "sounds"  # running from a source tree


def chime_paths(routine: Routine) -> dict[str, Path]:
    """Name -> the WAV file ``routine`` plays for each chime: its own, else the shipped one."""
    own = dict(routine.sounds)
    return {name: Path(own.get(name) or shipped_sound_dir() / f"{name}.wav") for name in CHIME_NAMES}


def load_chimes(routine: Routine, sample_rate: int) -> dict[str, Audio]:
    """Name -> trimmed audio at ``sample_rate`` for every chime the timeline uses."""
    own = dict(routine.sounds)
    chimes = {}
    for name, path in chime_paths(routine).items():
        try:
            audio = Audio.from_wav_bytes(path.read_bytes())
        except (OSError, ValueError) as error:
            field = f"sounds.{name}" if name in own else None
            raise RoutineError(f"sound file {path} cannot be used: {error}; give a 16-bit PCM WAV file",
                               path=routine.source, field=field) from None
        chimes[name] = audio.resampled(sample_rate).trimmed()
    return chimes
