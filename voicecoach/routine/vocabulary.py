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
MAX_DURATION_S = {"hold": MAX_HOLD_S, "rest": MAX_REST_S, "rest_between_sets": MAX_REST_S}  # each duration key's
# A whole session: beyond these it is a typing slip (reps: 1000), and the export would be
# gigabytes (22050 Hz 16-bit mono is 159 MB an hour).
MAX_CUES = 20_000
MAX_TIMED_S = 6 * 3600.0
# Speech counts towards that limit, estimated before it is made from the letters and digits
# spoken: espeak-ng at 300 WPM (the fastest rate) speaks ordinary text at about 25 a second and
# the fastest text measured ("x" * 5000, en and de) at 130; twice that is surely an underestimate.
MAX_SOUNDED_CHARS_PER_S = 250.0
PLACEHOLDERS = ("side",)
CHIME_NAMES = ("start", "hold_end", "next", "end")
DEFAULT_LANGUAGE = "en"

# key -> (kind, what it is). The kinds are checked by ``validate`` and described by
# ``schema``: text, name (short text), language, duration, count, reps, flag, sides,
# exercises, steps, sounds, schedule.
ROUTINE_FIELDS = {
    "title": ("name", "The routine's name, said in the intro and used as the file's title."),
    "language": ("language", "Language of the coach's own words (en, de); default en."),
    "intro": ("text", "What the coach says first; default: a short welcome."),
    "outro": ("text", "What the coach says last; default: a short goodbye."),
    "rest": ("duration", "Rest between exercises, e.g. 20s or 1m."),
    "exercises": ("exercises", "The exercises, in order."),
    "sounds": ("sounds", "Your own WAV files for the chimes: start, hold_end, next, end."),
    "schedule": ("schedule", "How often: {per_week: 3} sessions a week (1 to 14); history, the "
                 "report and the intro measure the weeks against it. Default: the settings'."),
}
EXERCISE_FIELDS = {
    "name": ("name", "The exercise's name, announced and used as its chapter title."),
    "instructions": ("text", "How to get into position, said once before the first rep."),
    "reps": ("reps", "Repetitions per side per set; or {start: 2, max: 15} to build up from "
             "start to max over the sessions, with per_set: N to split them into sets."),
    "sets": ("count", "How many sets of the repetitions."),
    "rest_between_sets": ("duration", "Rest between sets, e.g. 30s."),
    "sides": ("sides", "Sides to do it on, e.g. [right, left]; {side} in a text says which."),
    "alternate": ("flag", "With sides: alternate the sides rep by rep (right, left, right...) "
                  "instead of doing all reps on one side, then the other."),
    "steps": ("steps", "What one repetition is, step by step."),
    "cue": ("text", "Shorthand for one step: what to say for each repetition."),
    "hold": ("duration", "Shorthand for one step: how long to hold, e.g. 5s."),
    "release": ("text", "Shorthand for one step: what to say after the hold."),
    "count": ("flag", "Shorthand for one step: count down the last seconds of the hold."),
}
STEP_FIELDS = {
    "say": ("text", "What to say; {side} is replaced by the side."),
    "hold": ("duration", "How long to hold after saying it, e.g. 5s."),
    "release": ("text", "What to say after the hold, e.g. And relax."),
    "count": ("flag", "Count down the last seconds of the hold (default true)."),
}
ROUTINE_KEYS, EXERCISE_KEYS, STEP_KEYS = tuple(ROUTINE_FIELDS), tuple(EXERCISE_FIELDS), tuple(STEP_FIELDS)
SHORTHAND = ("cue", "hold", "release", "count")
# Words people write for our keys, when difflib finds nothing close.
SYNONYMS = {"say": "cue", "cue": "say", "text": "say", "name": "title", "title": "name",
             "repetitions": "reps", "repeat": "reps", "times": "reps", "duration": "hold",
             "description": "instructions", "exercise": "exercises", "step": "steps",
             "side": "sides", "sound": "sounds", "rounds": "sets"}
MISSING = {"title": "add title: with the routine's name",
            "exercises": "add exercises: with a list of exercises",
            "name": "add name: with the exercise's name", "say": "add say: with the words to speak",
            "start": "add start: with the reps to begin with",
            "per_week": "add per_week: with the sessions a week, e.g. {per_week: 3}", "max": "add max: with the most reps "
            "to build up to"}
SHAPES = {None: "with title: and exercises:", "sounds": "of chime names (start, hold_end, next, "
           "end) to WAV files", "exercise": "with name: and cue: or steps:",
           "step": "with say: and optionally hold:, release:, count:"}
