"""No test may touch the user's own voicecoach folders (their history is health data).

Loaded from ``conftest.py`` as a plugin. Every test gets a private, empty ``HOME`` and the
XDG base folders voicecoach reads (cache, state, data, config) and ``XDG_RUNTIME_DIR``
inside it, so a test or a
child process that forgets ``VOICECOACH_*_DIR`` writes there, not under the real home.
And the guard checks that it held: the real home's voicecoach folders are listed when the
run starts and again when it ends, and a run that changed them fails, naming the files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

XDG = {"XDG_CACHE_HOME": ".cache", "XDG_STATE_HOME": ".local/state",
       "XDG_DATA_HOME": ".local/share", "XDG_CONFIG_HOME": ".config"}


def real_folders(environ=os.environ) -> list[Path]:
    """The user's voicecoach folders as voicecoach itself would find them (``paths.py``)."""
    home = Path(environ.get("HOME") or Path.home())
    return sorted({Path(environ.get(name) or home / default) / "voicecoach"
                   for name, default in XDG.items()})


def snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folders``: (size, modification time in ns)."""
    found = {}
    for folder in folders:
        for place, dirs, files in os.walk(folder):
            for name in dirs + files:
                path = Path(place) / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                found[str(path)] = (info.st_size, info.st_mtime_ns)
        if folder.exists():
            found[str(folder)] = (0, folder.stat().st_mtime_ns)
    return found


def changes(before: dict, after: dict) -> list[str]:
    lines = [f"new: {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"gone: {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed: {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines


def pytest_configure(config):
    folders = real_folders()
    config._home_guard = (folders, snapshot(folders))


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory, monkeypatch):
    """HOME and the XDG base folders point into a new private folder for each test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name, default in XDG.items():
        monkeypatch.setenv(name, str(home / default))
    # Private too: without it, libpulse (under espeak-ng) would make a pulse-* folder in
    # TMPDIR for a home it has not seen, where tests check that nothing is left.
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return home


def pytest_sessionfinish(session, exitstatus):
    folders, before = session.config._home_guard
    found = changes(before, snapshot(folders))
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["The tests wrote into the real home's voicecoach folders "
             f"({', '.join(map(str, folders))}), or another program did meanwhile:", *found[:20]]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
