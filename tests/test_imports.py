"""How the package's modules import each other: no circle (an import inside a function
counts too: it only hides one), and the defaults load without the rest."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

PACKAGE = REPO / "voicecoach"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (its file, whether it is a package's ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _imported(node: ast.AST, package: str) -> list[str]:
    """The names ``node`` (an import statement) may load, absolute: the module and, for
    ``from X import y``, the submodule ``X.y`` in case ``y`` is one."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{alias.name}" for alias in node.names]


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its text."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        graph[name] = {target for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                       for target in _imported(node, package) if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_circle_and_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    hidden = ast.parse("def f():\n    from ..config import DEFAULTS\n")
    assert [t for node in ast.walk(hidden) for t in _imported(node, "voicecoach.speech")] == \
        ["voicecoach.config", "voicecoach.config.DEFAULTS"]


def test_the_graph_sees_the_package_as_it_is():
    graph = import_graph()
    assert "voicecoach.defaults" in graph["voicecoach.speech.engines"]
    assert "voicecoach.session.request" in graph["voicecoach.live.play"]
    assert "voicecoach.session.request" in graph["voicecoach.cli"]  # imported inside functions


def test_no_module_imports_itself_through_others():
    assert cycles(import_graph()) == []


def test_the_defaults_import_nothing_of_ours():
    assert import_graph()["voicecoach.defaults"] == set()


@pytest.mark.slow  # a fresh interpreter in a subprocess
def test_the_speech_engines_load_neither_the_settings_nor_the_routine_package():
    code = ("import json, sys; import voicecoach.speech.engines; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('voicecoach'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    assert "voicecoach.speech.engines" in loaded
    assert [m for m in loaded if m == "voicecoach.config" or m.startswith("voicecoach.routine")] == []
