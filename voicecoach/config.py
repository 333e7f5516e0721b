"""The user's settings: ``config.yaml`` (``paths.config_file()``) over the shipped
defaults (``defaults``), read through the routine's hardened YAML loader and checked as
strictly: a bad value is one ``SettingsError`` line naming the file, the line, the key and
what would be right. The CLI applies the result as click's ``default_map``, so an option
given on the command line always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .defaults import DEFAULTS, ENGINE_CHOICES, MAX_RATE, MIN_RATE
from .errors import RoutineError, SettingsError
from .paths import config_file
from .plan.phrases import language_code, languages, no_pack
from .routine.nodes import NodeReader, Noted
from .routine.yamlsafe import compose
from .text import clip

MAX_CONFIG_BYTES = 100_000
FORMATS = ("wav", "mp3", "ogg", "opus", "m4a")
# the command options each setting is the default of
OPTIONS = {"engine": ("plan", "export", "play", "voices", "feed", "serve"),
           "voice": ("plan", "export", "play", "feed", "serve"),
           "rate": ("plan", "export", "play", "feed", "serve"),
           "language": ("plan", "export", "play", "feed", "serve"),
           "lead_in": ("play",), "format": ("export",), "listen": ("play",),
           "schedule": ()}  # no option: the programme's (history, the intro, the report)
PARAMETERS = {"format": "output_format"}  # a setting whose option's parameter has another name


@dataclass(frozen=True)
class Setting:
    """One setting's value and where it came from (``default`` or ``FILE line N``)."""

    key: str
    value: object
    source: str


def load_settings(path: Path | None = None) -> dict[str, Setting]:
    """The merged settings, key -> ``Setting``; a bad file raises a one-line ``SettingsError``."""
    settings = {key: Setting(key, value, "default") for key, value in DEFAULTS.items()}
    path = config_file() if path is None else Path(path)
    if not path.is_file():
        if path.exists():
            raise SettingsError("is not a regular file; make it a YAML file of settings", path=str(path))
        return settings
    try:
        raw = path.read_bytes()[: MAX_CONFIG_BYTES + 1]
    except OSError as error:
        raise SettingsError(f"cannot be read: {error.strerror}", path=str(path)) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise SettingsError("is larger than 100 kB; a settings file is a few lines", path=str(path))
    try:
        node = compose(raw, str(path))
    except RoutineError as error:  # the YAML reader's refusal, already one placed line
        raise SettingsError(str(error)) from None
    if node is None or node.tag.endswith(":null"):
        return settings  # an empty file changes nothing
    if not isinstance(node, yaml.MappingNode):
        raise SettingsError(f"must be a mapping of settings such as rate: 130; keys: {', '.join(settings)}",
                           path=str(path), line=node.start_mark.line + 1)
    reader = _SettingsReader(str(path))
    fields = reader.mapping(node, None, tuple(settings), (), "of settings")  # refuses doubled, unknown keys
    if reader.errors:
        raise reader.errors[0]
    for key, value_node in fields.items():
        settings[key] = Setting(key, _check(reader, key, value_node), f"{path} line {value_node.start_mark.line + 1}")
    return settings


class _SettingsReader(NodeReader):
    """The routine's readers of keys and values, speaking of settings."""

    error_type = SettingsError
    document = "the settings file"
    missing = {"per_week": "add per_week: with the sessions a week, e.g. {per_week: 3}"}


def default_map(settings: dict[str, Setting]) -> dict[str, dict[str, object]]:
    """click's ``default_map``: command -> option -> default (None values are left out)."""
    commands: dict[str, dict[str, object]] = {}
    for key, setting in settings.items():
        for command in OPTIONS.get(key, ()):
            if setting.value is not None:
                commands.setdefault(command, {})[PARAMETERS.get(key, key)] = setting.value
    return commands


def _check(reader: NodeReader, key: str, node) -> object:
    """The value of ``key`` from its node, or a one-line error saying what would be right."""
    if key == "schedule" and not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return _schedule(reader, node)
    value = reader.scalar(node)
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int") and \
            not re.fullmatch(r"[+-]?(0|[1-9][0-9]*)", node.value):  # YAML 1.1 reads 010 as 8
        raise reader.error(node, key, f"write the number in plain decimal digits, got {clip(node.value)}")
    rules = {
        "engine": (lambda v: v in ENGINE_CHOICES, f"one of {', '.join(ENGINE_CHOICES)}"),
        "voice": (lambda v: v is None or (isinstance(v, str) and v.strip() != ""), "a voice id, or null"),
        "rate": (lambda v: isinstance(v, int) and not isinstance(v, bool) and MIN_RATE <= v <= MAX_RATE,
                 f"a whole number of words per minute from {MIN_RATE} to {MAX_RATE}"),
        "lead_in": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 10,
                    "a number of seconds from 0 to 10"),
        "language": (lambda v: v is None or isinstance(v, str) and not no_pack(v),
                     f"one of {', '.join(languages())}, or null"),
        "format": (lambda v: v in FORMATS, f"one of {', '.join(FORMATS)}"),
        "listen": (lambda v: isinstance(v, bool), "true or false"),
        "schedule": (lambda v: v is None, "a mapping such as {per_week: 3}, or null"),
    }
    valid, expected = rules[key]
    if not valid(value):
        shown = clip(node.value) if isinstance(node, yaml.ScalarNode) else "a list or mapping"
        raise reader.error(node, key, f"must be {expected}, got {shown!r}" if isinstance(node, yaml.ScalarNode)
                           else f"must be {expected}, got {shown}")
    if key == "language" and value is not None:
        return language_code(value)
    return float(value) if key == "lead_in" else value


def _schedule(reader: NodeReader, node) -> dict:
    """``schedule: {per_week: N}``, read as a routine's is (``routine.schedule``)."""
    from .routine.schedule import read_schedule
    try:
        per_week = read_schedule(reader, node, "schedule")
    except Noted:
        per_week = None
    if reader.errors:  # an unknown key is noted, not raised: the first error is the line
        raise reader.errors[0]
    return {"per_week": per_week}


def shown(value) -> str:
    """A setting's value as ``config`` shows it: null, true, 130, {per_week: 3}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def per_week_setting(settings: dict[str, Setting] | None = None) -> int | None:
    """The settings' sessions a week (``schedule: {per_week: N}``), or None."""
    schedule = (load_settings() if settings is None else settings)["schedule"].value
    return schedule["per_week"] if schedule else None
