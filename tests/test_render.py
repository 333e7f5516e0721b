"""The renderer: one PCM stream, every sound on exactly its start sample, in bounded chunks."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach.audio import SAMPLE_RATE, Audio
from voicecoach.session.render import CHUNK_SAMPLES, render_chunks
from voicecoach.session.prepare import prepare
from voicecoach.plan.model import CHIME, HOLD, SPEECH, Chapter, Event, Timeline

from fakes import FakeSynthesizer


def _marked(length: int, value: int) -> Audio:
    """A sound whose every sample says which sound it is and where in it we are."""
    return Audio(np.full(length, value, np.int16) + np.arange(length, dtype=np.int16) % 7)


def _timeline(events, total: int) -> Timeline:
    return Timeline("t", SAMPLE_RATE, tuple(events), (Chapter("Introduction", 0),), total)


def _render(timeline, speech, chimes, **kwargs) -> np.ndarray:
    return np.concatenate(list(render_chunks(timeline, speech, chimes, **kwargs)) or [np.zeros(0, np.int16)])


def test_each_sound_starts_on_exactly_its_sample_and_silence_elsewhere():
    sounds = {"a": _marked(1000, 1000), "b": _marked(300, 2000)}
    events = [Event(17, 1000, SPEECH, 0, text="a"), Event(1017, 5000, HOLD, 0),
              Event(70_000, 300, CHIME, 0, sound="b"), Event(140_000, 1000, SPEECH, 0, text="a")]
    out = _render(_timeline(events, 150_000), sounds.__getitem__, sounds, chunk_samples=4096)
    assert len(out) == 150_000
    for event in events:
        if event.kind != HOLD:
            audio = sounds[event.text or event.sound]
            assert np.array_equal(out[event.start:event.end], audio.samples), event
    loud = np.zeros(150_000, bool)
    for event in events:
        if event.kind != HOLD:
            loud[event.start:event.end] = True
    assert not out[~loud].any()


def test_chunks_are_bounded_and_cover_the_timeline_exactly():
    sounds = {"a": _marked(50_000, 500)}
    events = [Event(i * 60_000, 50_000, SPEECH, 0, text="a") for i in range(5)]
    timeline = _timeline(events, 300_001)
    chunks = list(render_chunks(timeline, sounds.__getitem__, {}, chunk_samples=8192))
    assert all(len(c) <= 8192 and c.dtype == np.int16 for c in chunks)
    assert sum(len(c) for c in chunks) == 300_001
    whole = _render(timeline, sounds.__getitem__, {}, chunk_samples=10**7)
    assert np.array_equal(np.concatenate(chunks), whole)


def test_a_window_renders_the_same_samples_as_the_whole():
    sounds = {"a": _marked(3000, 700)}
    events = [Event(i * 2500, 3000, SPEECH, 0, text="a") for i in range(8)]  # overlapping
    timeline = _timeline(events, 25_000)
    whole = _render(timeline, sounds.__getitem__, {})
    part = _render(timeline, sounds.__getitem__, {}, start=4321, end=17_777, chunk_samples=1000)
    assert np.array_equal(part, whole[4321:17_777])


def test_overlapping_sounds_add_up_and_clip():
    sounds = {"loud": Audio(np.full(100, 20000, np.int16))}
    events = [Event(0, 100, SPEECH, 0, text="loud"), Event(50, 100, SPEECH, 0, text="loud")]
    out = _render(_timeline(events, 200), sounds.__getitem__, {})
    assert out[:50].tolist() == [20000] * 50
    assert out[50:100].tolist() == [32767] * 50
    assert out[100:150].tolist() == [20000] * 50 and not out[150:].any()


def test_a_sound_of_another_length_than_planned_is_a_bug_not_a_drift():
    events = [Event(0, 100, SPEECH, 0, text="a")]
    with pytest.raises(AssertionError, match="is 99 samples, planned 100"):
        _render(_timeline(events, 100), lambda text: Audio.silence(99), {})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 900), st.integers(-30000, 30000)),
                max_size=12),
       st.integers(1, 3000), st.integers(0, 200))
def test_rendering_equals_a_naive_mix(sounds, chunk, tail):
    events, library = [], {}
    for index, (start, length, value) in enumerate(sounds):
        library[str(index)] = Audio(np.full(length, value, np.int16))
        events.append(Event(start, length, SPEECH, 0, text=str(index)))
    total = max((e.end for e in events), default=0) + tail
    expected = np.zeros(total, np.int64)
    for event in events:
        expected[event.start:event.end] += library[event.text].samples
    out = _render(_timeline(sorted(events, key=lambda e: -e.start), total), library.__getitem__, {},
                  chunk_samples=chunk)
    assert np.array_equal(out, np.clip(expected, -32768, 32767))


def test_a_two_hour_session_never_sits_whole_in_memory():
    speech = {"Breathe in.": _marked(SAMPLE_RATE, 3000)}
    total = 2 * 3600 * SAMPLE_RATE
    events = [Event(start, SAMPLE_RATE, SPEECH, 0, text="Breathe in.")
              for start in range(0, total - SAMPLE_RATE, 10 * SAMPLE_RATE)]
    timeline = _timeline(events, total)
    rendered = loud = 0
    tracemalloc.start()
    try:
        for chunk in render_chunks(timeline, speech.__getitem__, {}):
            rendered += len(chunk)
            loud += int(np.count_nonzero(chunk))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rendered == total and loud == len(events) * SAMPLE_RATE
    whole_bytes = 2 * total  # 317 MB of int16
    assert peak < 8 * 4 * CHUNK_SAMPLES, f"peak {peak} bytes while rendering {whole_bytes} bytes"


def test_a_prepared_session_renders_its_timeline_with_the_fake_voice(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text("title: T\nexercises:\n  - name: Press\n    cue: Press down.\n    hold: 1s\n")
    session = prepare(str(routine), synthesizer=FakeSynthesizer())
    out = np.concatenate(list(session.chunks()))
    assert len(out) == session.timeline.total
    for event in session.timeline.events:
        if event.kind == SPEECH:
            assert np.array_equal(out[event.start:event.end], session.speech.audio(event.text).samples)
        if event.kind == CHIME:
            assert np.array_equal(out[event.start:event.end], session.chimes[event.sound].samples)
