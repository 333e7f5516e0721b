"""The shipped defaults (``config_default.yaml``) and the limits that options and settings
are checked against.

Imports nothing of ours, so any module (the speech engines, the live session) can read a
default without loading the settings machinery, which reads YAML through the routine's
loader; ``config`` merges the user's file over these.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULTS_FILE = Path(__file__).with_name("config_default.yaml")
DEFAULTS: dict = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))  # the one home of defaults

MIN_RATE, MAX_RATE = 80, 300  # the voice speeds --rate and the rate setting allow, words per minute
# "auto" (the default): Piper where the neural extra and a voice for the language are
# installed, else espeak-ng; so the README's install speaks with the natural voice.
AUTO = "auto"
ENGINES = ("espeak", "piper")  # each has its adapter in speech/engines.py
ENGINE_CHOICES = (AUTO, *ENGINES)
