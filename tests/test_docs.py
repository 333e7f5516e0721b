"""Docs and code must not drift: the README's commands are the ones CI and the CLI have."""

from __future__ import annotations

import re
from pathlib import Path

from voicecoach.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, re.S)[:2]


def test_readme_test_command_is_what_ci_runs():
    test_command = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for part in test_command.split(" && "):
        assert part.strip() in ci, f"{part!r} from the README is not in .ci/run"


def test_readme_main_command_plays_the_builtin_routine():
    assert "voicecoach play back-pain" in _readme_commands()[0]


def test_every_command_is_documented_in_the_readme():
    for name in cli.commands:
        assert f"voicecoach {name}" in README, f"'voicecoach {name}' is not documented in README.md"
