"""Naming a routine: names too long for the file system, a .yml/.yaml mix-up, and shell
completion of ROUTINE arguments."""

import pytest

from support import cli_runner
from voicecoach.cli import cli
from voicecoach.errors import RoutineError
from voicecoach.routine import resolve


@pytest.mark.parametrize("name, part, size", [("a" * 300 + ".yaml", "a" * 37, 305),
                                              ("folder/" + "é" * 200 + "/x.yaml", "é" * 37, 400)])
def test_a_name_too_long_for_the_file_system_is_one_line_from_resolve(name, part, size):
    with pytest.raises(RoutineError) as caught:
        resolve(name)
    assert str(caught.value) == (f"the name '{part}...' is too long for the file system ({size} bytes); "
                                 "give a shorter one")
    for command in ("check", "plan", "export", "play"):
        result = cli_runner().invoke(cli, [command, name])
        assert (result.exit_code, result.stderr) == (2, f"Error: {caught.value}\n")


def test_a_name_of_255_bytes_is_only_missing():
    with pytest.raises(RoutineError, match="^no such file or built-in routine"):
        resolve("a" * 255)


@pytest.mark.parametrize("given, there", [("neck.yml", "neck.yaml"), ("neck.yaml", "neck.yml"),
                                          ("neck", "neck.yaml"), ("sub/neck.yml", "sub/neck.yaml")])
def test_the_same_name_with_the_other_extension_is_suggested(tmp_path, monkeypatch, given, there):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / there).write_text("title: N\nexercises:\n  - name: A\n")
    result = cli_runner().invoke(cli, ["check", given])
    assert (result.exit_code, result.stderr) == (
        2, f"Error: no such file or built-in routine; did you mean {there!r}? ({given})\n")


@pytest.mark.slow
def test_routine_arguments_complete_to_built_in_names_routine_files_and_folders(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    for name in ("neck.yaml", "notes.txt", "sub/a.yml", ".hidden.yaml"):
        (tmp_path / name).write_text("")

    def completed(*words: str) -> list[str]:
        env = {**os.environ, "COMP_WORDS": " ".join(("voicecoach", *words)), "COMP_CWORD": str(len(words)),
               "_VOICECOACH_COMPLETE": "bash_complete"}
        done = subprocess.run([sys.executable, "-c", "from voicecoach.cli import main; main()"], env=env,
                              capture_output=True, text=True, timeout=60)
        return done.stdout.splitlines()
    assert completed("check", "") == ["plain,back-pain", "plain,neck.yaml", "plain,sub/"]
    assert completed("play", "b") == ["plain,back-pain"]
    assert completed("export", "sub/") == ["plain,sub/a.yml"]
    assert completed("plan", "n") == ["plain,neck.yaml"]  # not notes.txt


def test_play_help_reads_cleanly():
    shown = cli_runner().invoke(cli, ["play", "--help"]).output
    assert "default: the routine's own." in " ".join(shown.split()) and ":." not in shown


@pytest.mark.slow
def test_the_readme_completion_line_makes_a_completion_script():
    import os
    import re
    import subprocess
    import sys
    from support import REPO
    line = re.search(r'^eval "\$\((\w+)=(\w+) voicecoach\)"$', (REPO / "README.md").read_text(), re.M)
    assert line is not None, "the README shows how to turn on shell completion"
    done = subprocess.run([sys.executable, "-c", "from voicecoach.cli import main; main()"],
                          env={**os.environ, line[1]: line[2]}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "complete -o nosort -F _voicecoach_completion voicecoach" in done.stdout
