"""Docs and code must not drift: the README's commands are the ones CI and the CLI have."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from voicecoach.cli import cli

from support import requires_espeak

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, re.S)[:2]


def test_readme_test_command_is_what_ci_runs():
    test_command = _readme_commands()[1]
    assert test_command == "bash scripts/install.sh && .venv/bin/python -m pytest -q -p no:cacheprovider"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for part in test_command.split(" && "):
        assert part.strip() in ci, f"{part!r} from the README is not in .ci/run"
    # Then the README's two commands on a fresh Debian, after the suite has passed.
    assert ci.index("bash scripts/fresh-debian.sh") > ci.index(".venv/bin/python -m pytest -q -p no:cacheprovider")


def test_readme_main_command_plays_the_builtin_routine_from_the_venv():
    """Debian's python3 has no pip and refuses installs outside a venv: the commands use the
    clone's .venv, which scripts/install.sh makes, and never a bare ``voicecoach``."""
    main = _readme_commands()[0]
    assert main == ("bash scripts/install.sh && (.venv/bin/voicecoach play back-pain || "
                    ".venv/bin/voicecoach export back-pain -o back-pain.mp3)")
    install = (ROOT / "scripts" / "install.sh").read_text()
    assert 'venv=.venv' in install and '"$venv/bin/python" -m pip install' in install
    assert "python3 -m pip" not in install  # nothing into the system's Python
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_readme_says_how_to_put_voicecoach_on_the_path():
    after = README.split(_readme_commands()[1], 1)[1].split("\n## ", 1)[0]
    assert "`. .venv/bin/activate`" in after and "`pipx install .`" in after


def test_every_command_is_documented_in_the_readme():
    for name in cli.commands:
        assert f"voicecoach {name}" in README, f"'voicecoach {name}' is not documented in README.md"


def _readme_sample(command: str) -> list[str]:
    """The lines the README shows under ``$ COMMAND`` in a console block."""
    after = README.split(f"\n$ {command}\n", 1)
    assert len(after) == 2, f"the README has no '$ {command}' sample"
    return re.split(r"\n(?:\$ |```)", after[1], 1)[0].split("\n")


@requires_espeak
def test_readme_plan_sample_is_the_real_output():
    """The README's plan sample, run with the real espeak-ng on a fresh history and cache
    (the tests' user folders)."""
    command = next(line[2:] for line in README.splitlines()
                   if line.startswith("$ voicecoach plan back-pain") and " | head -" in line)
    words, head = command.split(" | ")
    count = int(re.fullmatch(r"head -(\d+)", head)[1])
    args = shlex.split(words)[1:]
    assert args == ["plan", "back-pain", "--engine", "espeak"]
    # A process of its own, as the user's: espeak-ng in a process that spoke before (other
    # tests, other rates) may say a text a few samples differently.
    done = subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert _readme_sample(command) == done.stdout.splitlines()[:count]
