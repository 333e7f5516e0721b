"""Phrase packs: every sentence the coach says itself comes from one, and a German session
plans and exports with German speech."""

import wave

import pytest
from click.testing import CliRunner

from fakes import FakeSynthesizer
from support import requires_espeak
from voicecoach.cli import cli
from voicecoach.errors import InputError, RoutineError
from voicecoach.plan import phrases as phrases_module
from voicecoach.plan.phrases import FIELDS, languages, load_phrases, parse_pack
from voicecoach.plan.model import SPEECH
from voicecoach.plan.timeline import build_timeline, script
from voicecoach.routine import Exercise, Routine, Step, load_routine
from voicecoach.session.prepare import prepare

from pathlib import Path

GERMAN = Path(__file__).parent / "data" / "german.yaml"


def test_every_pack_has_every_phrase_and_only_its_fields():
    assert languages() == ["de", "en"]
    for language in languages():
        pack = load_phrases(language)
        assert set(pack.texts) == set(FIELDS)
        assert pack.voices["espeak"]


def test_a_missing_phrase_is_refused_naming_the_key():
    text = (phrases_module.PACK_DIR / "en.yaml").read_text().replace("  halfway: Halfway.\n", "")
    with pytest.raises(InputError) as error:
        parse_pack(text, "xx.yaml")
    assert str(error.value) == "phrase pack xx.yaml: phrases.halfway is missing; add it as text"


def test_a_phrase_with_a_field_it_does_not_have_is_refused():
    text = (phrases_module.PACK_DIR / "en.yaml").read_text().replace("Rest for {duration}.", "Rest {seconds}.")
    with pytest.raises(InputError) as error:
        parse_pack(text, "xx.yaml")
    assert str(error.value) == "phrase pack xx.yaml: phrases.rest uses {seconds}; it may use {duration}"


def test_german_durations_and_counts():
    de = load_phrases("de")
    assert [de.duration(s) for s in (1, 1.5, 30, 60, 90, 125)] == [
        "1 Sekunde", "1,5 Sekunden", "30 Sekunden", "1 Minute", "1 Minute und 30 Sekunden",
        "2 Minuten und 5 Sekunden"]
    assert [de.count_word(n) for n in (3, 2, 1)] == ["Drei", "Zwei", "Eins"]


def test_a_german_routine_is_planned_in_german():
    routine = load_routine(str(GERMAN))
    assert routine.language == "de"
    session = prepare(routine, synthesizer=FakeSynthesizer())
    spoken = [e.text for e in session.timeline.events if e.kind == SPEECH]
    intro = [e.text for e in session.timeline.events if e.chapter == 0]  # a cue per sentence
    assert " ".join(intro) == load_phrases("de").say("intro") and len(intro) > 1
    assert "Nächste Übung: Beckenkippen. 2 Wiederholungen." in spoken
    assert "Letzte Wiederholung. Kipp das Becken langsam nach hinten." in spoken
    assert "Gut gemacht. Pause für 5 Sekunden. Als Nächstes: Knie zur Brust." in spoken
    assert "Nächste Übung: Knie zur Brust. 1 Wiederholung auf jeder Seite." in spoken
    assert ["Wir beginnen rechts.", "Jetzt links."] == [t for t in spoken if t.startswith(("Wir beginnen", "Jetzt"))]
    assert {"Drei", "Zwei", "Eins"} <= set(spoken)
    assert spoken[-1] == "Damit ist die Einheit zu Ende. Gut gemacht."
    assert not any(word in " ".join(spoken) for word in ("Next exercise", "Rest for", "Three", "Last one"))


def test_language_option_overrides_the_routines():
    routine = Routine("T", (Exercise("Kniekreisen", (Step(None, 2.0),)),))
    german = prepare(routine, synthesizer=FakeSynthesizer(), language="de")
    assert [e.text for e in german.timeline.events if e.kind == SPEECH and e.chapter][:2] == \
        ["Nächste Übung: Kniekreisen. 1 Wiederholung.", "Halten."]
    assert "Halten." in script(german.routine)


def test_an_unknown_language_is_one_line(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text(GERMAN.read_text().replace("language: de", "language: fr"))
    result = CliRunner().invoke(cli, ["plan", str(routine)])
    assert (result.exit_code, result.output) == (
        2, f"Error: language: no phrase pack for 'fr'; known languages: de, en ({routine} line 2)\n")
    result = CliRunner().invoke(cli, ["plan", "back-pain", "--language", "xx"])
    assert (result.exit_code, result.output) == (
        2, "Error: --language: no phrase pack for 'xx'; known languages: de, en\n")


def test_the_count_in_after_a_pause_is_the_packs():
    session = prepare(load_routine(str(GERMAN)), synthesizer=FakeSynthesizer())
    assert session.phrases.say("count_in") == "Mach dich bereit. Drei, zwei, eins."


@requires_espeak
@pytest.mark.real
def test_a_german_session_exports_with_espeaks_german_voice(tmp_path):
    result = CliRunner().invoke(cli, ["export", str(GERMAN), "-o", str(tmp_path / "de.wav"),
                                      "--timeline", str(tmp_path / "de.json")])
    assert result.exit_code == 0, result.output
    session = prepare(load_routine(str(GERMAN)), engine="espeak")
    assert session.speech.synthesizer.voice == "gmw/de"
    with wave.open(str(tmp_path / "de.wav")) as audio:
        assert audio.getnframes() == session.timeline.total
    import json
    texts = [e["text"] for e in json.loads((tmp_path / "de.json").read_text())["events"] if e["kind"] == "speech"]
    assert texts == session.timeline.spoken_texts()
    # German words take German time: espeak's German voice says "Wiederholungen" as one word
    english = prepare(load_routine(str(GERMAN)), language="en", engine="espeak")
    assert english.speech.synthesizer.voice == "gmw/en-us"
    assert english.timeline.spoken_texts() != texts
