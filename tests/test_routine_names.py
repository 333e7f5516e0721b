"""Naming a routine: names too long for the file system, a .yml/.yaml mix-up, and shell
completion of ROUTINE arguments."""

import pytest

from conftest import cli_runner
from voicecoach.cli import cli
from voicecoach.errors import RoutineError
from voicecoach.routine import resolve


@pytest.mark.parametrize("name, size", [("a" * 300 + ".yaml", 305), ("folder/" + "é" * 200 + "/x.yaml", 400)])
def test_a_name_too_long_for_the_file_system_is_one_line_from_resolve(name, size):
    with pytest.raises(RoutineError) as caught:
        resolve(name)
    assert str(caught.value) == (f"has a name of {size} bytes, longer than the file system takes (255); "
                                 f"give a shorter one ({name[:37]}...)")
    for command in ("check", "plan", "export", "play"):
        result = cli_runner().invoke(cli, [command, name])
        assert (result.exit_code, result.stderr) == (2, f"Error: {caught.value}\n")


def test_a_name_of_255_bytes_is_only_missing():
    with pytest.raises(RoutineError, match="^no such file or built-in routine"):
        resolve("a" * 255)
