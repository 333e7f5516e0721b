"""Routines for the benchmark, generated from a real exercise database.

The text comes from free-exercise-db (873 exercises, each a name and a list of
instruction sentences), so speech is real and varied, not one sentence repeated. Sizes
are chosen by exercise count: the smallest count whose planned length reaches the
target, estimated from word counts so that no speech has to be synthesized to pick it.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import yaml

from voicecoach.session.chimes import load_chimes
from voicecoach.routine import parse_routine
from voicecoach.routine.vocabulary import MAX_TEXT_CHARS
from voicecoach.plan.timeline import build_timeline

# free-exercise-db's names and instructions, shipped with the tests (tests/data/README.md).
_REPO = Path(__file__).resolve().parent.parent
DATABASE_CANDIDATES = (_REPO / "tests" / "data" / "free-exercise-db-texts.json",)
ESTIMATE_RATE = 22_050
WORDS_PER_S = 2.6  # espeak-ng at the default 140 wpm, measured on the built-in routine
REST = "15s"
RELEASES = ("And relax.", "And slowly release.", "And let go, gently.")


def database() -> Path:
    """The exercise database's path, or ``FileNotFoundError`` naming where it was looked for."""
    for path in DATABASE_CANDIDATES:
        if path.exists():
            return path
    raise FileNotFoundError(f"the free-exercise-db texts are not found; looked at {', '.join(map(str, DATABASE_CANDIDATES))}")


def load_exercises(path: Path | None = None) -> list[dict]:
    """The database's exercises that have at least two usable instruction sentences."""
    path = path or database()
    usable = []
    for item in json.loads(Path(path).read_text(encoding="utf-8")):
        sentences = [s.strip() for s in item.get("instructions", []) if _speakable(s)]
        if item.get("name") and len(sentences) >= 2:
            usable.append({"name": item["name"].strip(), "instructions": sentences})
    # A fixed shuffle: varied text (the file is sorted by name), the same on every run.
    random.Random(5).shuffle(usable)
    return usable


def _speakable(sentence: str) -> bool:
    # Braces would be read as {side} placeholders; very long sentences exceed the text limit.
    return bool(sentence.strip()) and "{" not in sentence and "}" not in sentence \
        and len(sentence) < MAX_TEXT_CHARS // 2


def exercise_entry(item: dict, index: int) -> dict:
    """One routine exercise from one database entry; holds of 3-9 s, 2-3 reps."""
    sentences = item["instructions"]
    entry = {"name": item["name"], "instructions": sentences[0], "reps": 2 + index % 2}
    step = {"say": sentences[1], "hold": f"{3 + 2 * (index % 4)}s",
            "release": RELEASES[index % len(RELEASES)]}
    steps = [step]
    if len(sentences) > 2 and index % 3 == 0:
        steps.append({"say": sentences[2], "hold": "4s"})
    entry["steps"] = steps
    if index % 5 == 2:
        entry["sides"] = ["left", "right"]
        step["say"] = "On the {side} side. " + step["say"]
    return entry


def routine_yaml(exercises: list[dict], title: str) -> str:
    """YAML text of a routine made of ``exercises`` (database entries), in order."""
    data = {"title": title, "rest": REST,
            "exercises": [exercise_entry(item, i) for i, item in enumerate(exercises)]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def estimated_seconds(text: str) -> float:
    """Planned length of a routine in seconds, with speech lengths guessed from word counts."""
    routine = parse_routine(text, name="<generated>")
    chimes = load_chimes(routine, ESTIMATE_RATE)
    timeline = build_timeline(routine, lambda t: round(len(t.split()) / WORDS_PER_S * ESTIMATE_RATE),
                              lambda name: len(chimes[name]), ESTIMATE_RATE)
    return timeline.total_s


def routine_of_length(target_s: float, exercises: list[dict], title: str) -> str:
    """The shortest prefix of ``exercises`` whose estimated length reaches ``target_s``."""
    def long_enough(count: int) -> bool:
        return estimated_seconds(routine_yaml(exercises[:count], title)) >= target_s

    high = 1
    while high < len(exercises) and not long_enough(high):  # the estimate grows with the count
        high = min(2 * high, len(exercises))
    low = high // 2 + 1 if high > 1 else 1
    while low < high:
        middle = (low + high) // 2
        if long_enough(middle):
            high = middle
        else:
            low = middle + 1
    return routine_yaml(exercises[:low], title)


def live_routine(exercises: list[dict], count: int = 2, reps: int = 2) -> str:
    """A short routine for the live recordings: cues, holds of 3 s and 4 s, a rest."""
    data = {"title": "Live timing check", "intro": "Let us begin.", "outro": "That is all. Well done.",
            "rest": "3s", "exercises": []}
    for index, item in enumerate(_short_cued(exercises)[:count]):
        data["exercises"].append({
            "name": item["name"], "reps": reps,
            "steps": [{"say": _first_sentence(item["instructions"][1]), "hold": f"{3 + index}s",
                       "release": RELEASES[index]}]})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def holds_routine(exercises: list[dict], reps: int = 5) -> str:
    """One exercise of ``reps`` 2-second holds and little else: for the speech-rate runs."""
    item = _short_cued(exercises)[2]
    data = {"title": "Hold timing check", "intro": "Begin.", "outro": "Done.", "exercises": [
        {"name": item["name"], "reps": reps,
         "steps": [{"say": _first_sentence(item["instructions"][1]), "hold": "2s"}]}]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _short_cued(exercises: list[dict]) -> list[dict]:
    """Exercises with the shortest first cue sentences first (a few seconds of speech)."""
    return sorted(exercises[:40], key=lambda item: len(_first_sentence(item["instructions"][1])))


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", text.strip())[0]


def write_routines(folder: Path, sizes: dict[str, float], quick: bool = False) -> dict[str, Path]:
    """Write one generated routine per ``sizes`` entry (label -> seconds), plus ``live`` and
    ``holds`` for the recordings (one rep each when ``quick``)."""
    exercises = load_exercises()
    texts = {label: routine_of_length(seconds, exercises, f"Generated {label}")
             for label, seconds in sizes.items()}
    texts["live"] = live_routine(exercises, count=1 if quick else 2, reps=1 if quick else 2)
    texts["holds"] = holds_routine(exercises, reps=1 if quick else 5)
    paths = {}
    for label, text in texts.items():
        paths[label] = folder / f"{label}.yaml"
        paths[label].write_text(text, encoding="utf-8")
    return paths
