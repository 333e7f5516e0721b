"""The speech cache: content-addressed, self-checking, private, and safe to share."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import Audio
from voicecoach.errors import EngineError
from voicecoach.speech import cache as cache_module
from voicecoach.speech.cache import SpeechCache

from fakes import PAD_S, FakeSynthesizer
from support import requires_espeak

TEXT = "Lie on your back with your knees bent."


class LouderFake(FakeSynthesizer):
    """Same identity, other samples: what espeak-ng does when its state differs."""

    def synthesize(self, text: str) -> Audio:
        return Audio(super().synthesize(text).samples // 2 * 2 + 2)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_speech_is_trimmed_and_synthesized_once_across_processes(tmp_path):
    fake = FakeSynthesizer()
    first = SpeechCache(fake, tmp_path)
    audio = first.audio(TEXT)
    assert len(audio) == FakeSynthesizer.spoken_samples(TEXT)  # PAD_S of silence trimmed
    assert first.samples(TEXT) == len(audio) and first.synthesized == 1
    again = SpeechCache(fake, tmp_path)  # a new process: only the disk is shared
    assert again.audio(TEXT) == audio
    assert again.synthesized == 0 and fake.calls == [TEXT]
    assert len(fake.synthesize(TEXT)) - len(audio) == round(PAD_S * fake.sample_rate)  # what was trimmed


def test_the_key_covers_text_and_everything_in_the_identity(tmp_path):
    slow, fast = SpeechCache(FakeSynthesizer(rate=100), tmp_path), SpeechCache(FakeSynthesizer(rate=200), tmp_path)
    assert slow.path_for(TEXT) != fast.path_for(TEXT)
    assert slow.path_for(TEXT) != slow.path_for(TEXT + " ")
    assert slow.samples(TEXT) > fast.samples(TEXT)


def test_the_cache_lives_in_the_folder_named_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "elsewhere"))
    cache = SpeechCache(FakeSynthesizer())
    cache.audio(TEXT)
    assert cache.path_for(TEXT).is_relative_to(tmp_path / "elsewhere" / "speech")
    assert cache.path_for(TEXT).is_file()


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "magic"])
def test_a_damaged_entry_is_detected_and_made_again(tmp_path, damage):
    SpeechCache(FakeSynthesizer(), tmp_path).audio(TEXT)
    entry = SpeechCache(FakeSynthesizer(), tmp_path).path_for(TEXT)
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        data = data[:-3]
    elif damage == "flip":
        data[-100] ^= 0x40
    elif damage == "empty":
        data = b""
    else:
        data[:3] = b"XYZ"
    entry.write_bytes(bytes(data))
    fake = FakeSynthesizer()
    cache = SpeechCache(fake, tmp_path)
    assert len(cache.audio(TEXT)) == FakeSynthesizer.spoken_samples(TEXT)
    assert fake.calls == [TEXT]  # made again...
    assert SpeechCache(FakeSynthesizer(), tmp_path).audio(TEXT) == cache.audio(TEXT)  # ...and repaired


def test_entries_are_0600_in_0700_folders_even_a_folder_made_too_open(tmp_path):
    (tmp_path / "speech").mkdir(mode=0o755)
    os.chmod(tmp_path / "speech", 0o755)
    cache = SpeechCache(FakeSynthesizer(), tmp_path / "speech")
    cache.audio(TEXT)
    entry = cache.path_for(TEXT)
    assert _mode(entry) == 0o600
    assert _mode(entry.parent) == 0o700 and _mode(tmp_path / "speech") == 0o700


def test_the_first_version_published_wins_and_the_other_process_adopts_it(tmp_path):
    mine, theirs = SpeechCache(FakeSynthesizer(), tmp_path), SpeechCache(LouderFake(), tmp_path)
    first = mine.audio(TEXT)
    cache_module._publish(theirs.path_for(TEXT), LouderFake().synthesize(TEXT).trimmed())  # loses
    assert theirs.audio(TEXT) == first


def test_a_session_never_renders_another_version_than_it_planned_with(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "MEMORY_BUDGET_BYTES", 1)  # re-read from disk every time
    cache = SpeechCache(FakeSynthesizer(), tmp_path)
    cache.audio(TEXT)
    cache.audio("Other text, to push the first out of memory.")
    planned = cache.samples(TEXT)
    cache.path_for(TEXT).unlink()  # the cache is cleared mid-session, and made again...
    cache_module._publish(cache.path_for(TEXT), LouderFake().synthesize(TEXT).trimmed())
    cache.synthesizer = LouderFake()  # ...by an engine whose output differs
    with pytest.raises(EngineError, match="changed during the session"):
        cache.audio(TEXT)
    cache.synthesizer = FakeSynthesizer()  # the same output as planned is accepted
    assert len(cache.audio(TEXT)) == planned


def test_temporaries_left_by_a_killed_writer_are_removed_later(tmp_path):
    cache = SpeechCache(FakeSynthesizer(), tmp_path)
    folder = cache.path_for(TEXT).parent
    folder.mkdir(parents=True)
    old, fresh = folder / ".tmp-old.pcm", folder / ".tmp-fresh.pcm"
    old.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    cache.audio(TEXT)
    assert not old.exists() and fresh.exists()


def test_prefetch_measures_every_text_and_reports_progress(tmp_path):
    seen = []
    cache = SpeechCache(FakeSynthesizer(), tmp_path)
    cache.prefetch(["One", "Two words", "One"], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)] and cache.synthesized == 2


@requires_espeak
def test_two_real_exports_at_once_share_the_cache_safely(tmp_path):
    """Two processes fill the same (empty) cache at the same moment: both succeed, every
    entry is valid, no temporary is left, and both files are identical to the sample,
    although espeak-ng may speak a text a few samples differently in each process."""
    lines = "\n".join(f"      - say: Step {n} of the long list, slowly now, number {n}." for n in range(40))
    routine = tmp_path / "many.yaml"
    routine.write_text(f"title: Many cues\nexercises:\n  - name: Many\n    steps:\n{lines}\n")
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(tmp_path / "shared")}
    command = [sys.executable, "-m", "voicecoach", "export", str(routine), "-o"]
    runs = [subprocess.Popen(command + [str(tmp_path / f"out{i}.wav")], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in (1, 2)]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, results):
        assert run.returncode == 0, err.decode()
    assert (tmp_path / "out1.wav").read_bytes() == (tmp_path / "out2.wav").read_bytes()
    entries = list((tmp_path / "shared" / "speech").rglob("*"))
    assert not [e for e in entries if e.name.startswith(".tmp-")]
    pcm = [e for e in entries if e.suffix == ".pcm"]
    assert len(pcm) >= 40
    assert all(cache_module._read_entry(e, 22050) is not None for e in pcm)
    assert all(_mode(e) == 0o600 for e in pcm)
    assert np.all([_mode(e) == 0o700 for e in entries if e.is_dir()])


class ConcurrentFake(FakeSynthesizer):
    """Says it can speak ``workers`` texts at once, and proves it: each call waits until that
    many are in flight (a barrier), which one call at a time would never reach."""

    def __init__(self, workers: int):
        super().__init__()
        self.workers = workers
        self._together = threading.Barrier(workers, timeout=10)

    def synthesize(self, text: str) -> Audio:
        self._together.wait()
        return super().synthesize(text)


def _entries(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*.pcm"))}


def test_prefetch_speaks_missing_texts_at_once_and_stores_what_one_at_a_time_would(tmp_path):
    texts = [f"Cue number {n} " + "word " * n for n in range(8)] + ["Cue number 1 word "]
    serial = SpeechCache(FakeSynthesizer(), tmp_path / "serial")
    serial.prefetch(texts)
    done = []
    parallel = SpeechCache(ConcurrentFake(2), tmp_path / "parallel")
    parallel.prefetch(texts, progress=lambda n, total: done.append((n, total)))
    assert _entries(tmp_path / "parallel") == _entries(tmp_path / "serial")
    assert len(_entries(tmp_path / "serial")) == 8
    assert parallel.synthesized == serial.synthesized == 8  # the repeated text once
    assert done == [(n, 9) for n in range(1, 10)]  # in order, one per text
    assert [parallel.samples(t) for t in texts] == [serial.samples(t) for t in texts]


def test_prefetch_in_parallel_synthesizes_only_what_is_missing(tmp_path):
    SpeechCache(FakeSynthesizer(), tmp_path).prefetch(["One.", "Two."])
    fake = ConcurrentFake(2)
    cache = SpeechCache(fake, tmp_path)
    cache.prefetch(["One.", "Three.", "Two.", "Four."])
    assert sorted(fake.calls) == ["Four.", "Three."] and cache.synthesized == 2


class HeldFake(FakeSynthesizer):
    """Speaks two texts at once; after the first ``free`` calls, each waits for ``go``."""

    workers = 2

    def __init__(self, free: int):
        super().__init__()
        self.free, self.go, self.started, self._lock = free, threading.Event(), 0, threading.Lock()

    def synthesize(self, text: str) -> Audio:
        with self._lock:
            self.started += 1
            held = self.started > self.free
        if held:
            self.go.wait(10)
        return super().synthesize(text)


def test_a_stopped_prefetch_stops_its_threads_and_stores_nothing_after(tmp_path):
    fake = HeldFake(free=2)
    cache = SpeechCache(fake, tmp_path)

    def stop(done, total):
        if done == 2:
            fake.go.set()  # the two texts being spoken finish; the 36 queued never start
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.prefetch([f"Text {n}." for n in range(40)], progress=stop)
    assert len(fake.calls) <= 4
    assert len(_entries(tmp_path)) == 2
