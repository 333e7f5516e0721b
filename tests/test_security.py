"""Security guarantees of issue 6, checked on the source and on real files we create."""

from __future__ import annotations

import ast
import stat
from pathlib import Path

import pytest

from voicecoach import paths
from voicecoach.speech.cache import SpeechCache

from fakes import FakeSynthesizer

SOURCE = Path(__file__).resolve().parent.parent / "voicecoach"


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(call: ast.Call) -> str:
    func = call.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


@pytest.mark.parametrize("module", sorted(SOURCE.rglob("*.py")), ids=lambda p: p.name)
def test_no_shell_and_no_unsafe_yaml(module):
    tree = ast.parse(module.read_text(), filename=str(module))
    for call in _calls(tree):
        name = _name(call)
        assert name not in {"os.system", "os.popen", "subprocess.getoutput",
                            "subprocess.getstatusoutput"}, f"{module.name}:{call.lineno} runs a shell"
        for keyword in call.keywords:
            if keyword.arg == "shell":
                assert isinstance(keyword.value, ast.Constant) and keyword.value.value is False, \
                    f"{module.name}:{call.lineno} passes shell=True"
        if name in {"yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.full_load"}:
            pytest.fail(f"{module.name}:{call.lineno} uses {name}; only safe loading is allowed")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_user_dirs_come_from_the_environment_and_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("VOICECOACH_STATE_DIR", str(tmp_path / "s"))
    assert paths.cache_dir() == tmp_path / "c"
    assert paths.state_dir() == tmp_path / "s"
    assert _mode(tmp_path / "c") == 0o700
    assert _mode(tmp_path / "s") == 0o700


def test_xdg_defaults_are_used_without_our_variables(tmp_path, monkeypatch):
    monkeypatch.delenv("VOICECOACH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir() == tmp_path / "xdg" / "voicecoach"


def test_cache_entries_are_private_to_the_user(tmp_path):
    cache = SpeechCache(FakeSynthesizer(), tmp_path / "speech")
    cache.audio("Lie on your back.")
    entry = cache.path_for("Lie on your back.")
    assert entry.is_file()
    assert _mode(entry) & 0o077 == 0, oct(_mode(entry))
    assert _mode(entry.parent) == 0o700
