"""Export figures for the benchmark: speed and peak memory, and the pydub-style baseline.

Each export runs in a fresh process (this file, run as a script), so its peak memory is
its own: ``os.wait4`` returns the child's resource usage, including ``ru_maxrss``. The
child times its two phases itself (prepare: load, synthesize or read the cache, plan;
export: render and write) and prints them as JSON.

    python3 scripts/bench_export.py ROUTINE OUTPUT [ENGINE]    # the child; prints JSON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from private_dirs import private_env  # noqa: E402
from voicecoach.audio import Audio  # noqa: E402
from voicecoach.plan.model import CHIME, SPEECH, Timeline  # noqa: E402

CHILD_TIMEOUT_S = 900


def child(routine: str, output: str, engine: str = "espeak") -> dict:
    """Prepare and export ``routine`` to ``output`` with ``engine``; the figures (seconds)."""
    started = time.perf_counter()
    from voicecoach.export.exporter import export_session
    from voicecoach.session.prepare import prepare
    imported = time.perf_counter()
    session = prepare(routine, engine=engine)
    prepared = time.perf_counter()
    export_session(session, Path(output))
    done = time.perf_counter()
    return {"audio_s": session.timeline.total_s, "import_s": imported - started,
            "prepare_s": prepared - imported, "export_s": done - prepared,
            "synthesized": session.speech.synthesized, "bytes": Path(output).stat().st_size}


def run_export(routine: Path, output: Path, cache_dir: Path, engine: str = "espeak") -> dict:
    """Export in a fresh process with ``cache_dir`` as the speech cache; speeds and peak RSS.

    ``speed_x`` counts the work (prepare + export); ``command_speed_x`` the whole process,
    interpreter start and imports included, as a user running the command sees it.
    """
    # the cache given, and private folders for the rest: never the user's own
    env = dict(private_env(cache_dir.parent / "user"), VOICECOACH_CACHE_DIR=str(cache_dir))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, __file__, str(routine), str(output), engine], env=env,
                                   stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        usage = _wait_with_usage(process, f"exporting {routine.name}")
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise RuntimeError(f"exporting {routine.name} failed: {err.read().decode(errors='replace').strip()}")
        figures = json.loads(out.read())
    work = figures["prepare_s"] + figures["export_s"]
    figures.update(engine=engine, wall_s=wall, load_average=round(os.getloadavg()[0], 2), speed_x=figures["audio_s"] / work,
                   command_speed_x=figures["audio_s"] / wall, peak_mb=usage.ru_maxrss * 1024 / 1e6)
    return {key: _rounded(value) for key, value in figures.items()}


def _wait_with_usage(process: subprocess.Popen, what: str):
    """Reap ``process`` with ``os.wait4`` (which, unlike ``wait``, returns the child's own
    resource usage, peak memory included); kill it after ``CHILD_TIMEOUT_S``."""
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"{what} took longer than {CHILD_TIMEOUT_S} s")
        time.sleep(0.002)


def _rounded(value):
    return round(value, 3) if isinstance(value, float) else value


# -- the pydub-style baseline -------------------------------------------------------------

def baseline_mp3(timeline: Timeline, chime_files: dict, output: Path, folder: Path,
                 voice: str, rate: int) -> dict:
    """Export the way pydub-style tools do, timed: espeak-ng run once per spoken line into
    its own WAV file, every file read back, the pieces joined with silences, the whole
    encoded to MP3 by the same encoder and settings as ours. (Kinder than pydub itself,
    which copies the whole session on every join.)"""
    started = time.perf_counter()
    samples, lines = _joined_lines(timeline, chime_files, folder, voice, rate)
    output.write_bytes(_mp3(samples, timeline.sample_rate))
    wall = time.perf_counter() - started
    audio_s = len(samples) / timeline.sample_rate
    return {"audio_s": round(audio_s, 3), "wall_s": round(wall, 3), "lines": lines,
            "speed_x": round(audio_s / wall, 3)}


def _joined_lines(timeline: Timeline, chime_files: dict, folder: Path, voice: str,
                  rate: int) -> tuple[np.ndarray, int]:
    """Every sound at its planned start (or after the one before, if that ran long)."""
    pieces, cursor, lines = [], 0, 0
    for index, event in enumerate(e for e in timeline.events if e.kind in (SPEECH, CHIME)):
        if event.kind == SPEECH:
            path = folder / f"line-{index}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), event.text],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            lines += 1
        else:
            path = chime_files[event.sound]
        samples = Audio.from_wav_bytes(path.read_bytes()).samples
        pieces += [np.zeros(max(0, event.start - cursor), np.int16), samples]
        cursor = max(cursor, event.start) + len(samples)
    pieces.append(np.zeros(max(0, timeline.total - cursor), np.int16))
    return np.concatenate(pieces), lines


def _mp3(samples: np.ndarray, sample_rate: int) -> bytes:
    """MP3 bytes by lameenc with export.py's bit rate and quality."""
    import lameenc
    from voicecoach.export.mp3 import MP3_BITRATE_KBPS, MP3_QUALITY
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    return encoder.encode(samples.astype("<i2").tobytes()) + encoder.flush()


if __name__ == "__main__":
    print(json.dumps(child(*sys.argv[1:4])))
