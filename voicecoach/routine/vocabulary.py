"""The routine format's words: its keys, what each holds, its limits, and the hints given
when a key is misspelt. The validator (``validate``) and the JSON Schema (``schema``) are
both made from these tables, so they cannot disagree.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1_000_000
# Spoken texts: real exercise instructions run up to about 3,200 characters (some 4 minutes
# of speech), so the limit only stops runaway content such as a pasted document.
MAX_TEXT_CHARS = 5_000
MAX_NAME_CHARS = 200  # titles, exercise and side names are announced and become chapter titles
MAX_EXERCISES = 5_000
MAX_REPS = 100
MAX_SETS = 20
MAX_SIDES = 4
MIN_DURATION_S = 0.5  # a shorter hold or rest cannot be heard as one
MAX_HOLD_S = 600.0
MAX_REST_S = 1_800.0
# A whole session: beyond these it is a typing slip (reps: 1000), and the export would be
# gigabytes (22050 Hz 16-bit mono is 159 MB an hour).
MAX_CUES = 20_000
MAX_TIMED_S = 6 * 3600.0
PLACEHOLDERS = ("side",)
CHIME_NAMES = ("start", "hold_end", "next", "end")
DEFAULT_LANGUAGE = "en"


ROUTINE_KEYS = ("title", "language", "intro", "outro", "rest", "exercises", "sounds")
EXERCISE_KEYS = ("name", "instructions", "reps", "sets", "rest_between_sets", "sides",
                  "steps", "cue", "hold", "release", "count")
STEP_KEYS = ("say", "hold", "release", "count")
SHORTHAND = ("cue", "hold", "release", "count")
# Words people write for our keys, when difflib finds nothing close.
SYNONYMS = {"say": "cue", "cue": "say", "text": "say", "name": "title", "title": "name",
             "repetitions": "reps", "repeat": "reps", "times": "reps", "duration": "hold",
             "description": "instructions", "exercise": "exercises", "step": "steps",
             "side": "sides", "sound": "sounds", "rounds": "sets"}
MISSING = {"title": "add title: with the routine's name",
            "exercises": "add exercises: with a list of exercises",
            "name": "add name: with the exercise's name", "say": "add say: with the words to speak"}
SHAPES = {None: "with title: and exercises:", "sounds": "of chime names (start, hold_end, next, "
           "end) to WAV files", "exercise": "with name: and cue: or steps:",
           "step": "with say: and optionally hold:, release:, count:"}
