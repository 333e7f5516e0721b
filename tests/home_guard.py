"""No test may touch the user's own voicecoach folders (their history is health data).

Loaded from ``conftest.py`` as a plugin. The run, and then every test, gets a private,
empty ``HOME`` and the XDG base folders voicecoach reads (cache, state, data, config) and
``XDG_RUNTIME_DIR`` inside it (the run also ``VOICECOACH_*_DIR``), so a test or a
child process that forgets ``VOICECOACH_*_DIR`` writes there, not under the real home.
And the guard checks that it held: the real home's voicecoach folders are listed when the
run starts and again when it ends, and a run that changed them fails, naming the files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

XDG = {"XDG_CACHE_HOME": ".cache", "XDG_STATE_HOME": ".local/state",
       "XDG_DATA_HOME": ".local/share", "XDG_CONFIG_HOME": ".config"}
OURS = ("VOICECOACH_CACHE_DIR", "VOICECOACH_STATE_DIR", "VOICECOACH_DATA_DIR",
        "VOICECOACH_CONFIG_DIR")


def real_folders(environ=os.environ) -> list[Path]:
    """The user's voicecoach folders as voicecoach itself would find them (``paths.py``),
    and any the user's own ``VOICECOACH_*_DIR`` name."""
    home = Path(environ.get("HOME") or Path.home())
    folders = {Path(environ.get(name) or home / default) / "voicecoach"
               for name, default in XDG.items()}
    return sorted(folders | {Path(environ[name]) for name in OURS if environ.get(name)})


def point_into(home: Path, environ=os.environ) -> None:
    """HOME, the XDG folders and ours into ``home`` (``XDG_RUNTIME_DIR`` too: without it,
    libpulse under espeak-ng makes a pulse-* folder in TMPDIR for a home it has not seen,
    where tests check that nothing is left)."""
    environ["HOME"] = str(home)
    for name, default in XDG.items():
        environ[name] = str(home / default)
    for name in OURS:
        environ[name] = str(home / "voicecoach" / name.split("_")[1].lower())
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    environ["XDG_RUNTIME_DIR"] = str(runtime)


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
    config._home_guard = (folders, snapshot(folders), dict(os.environ))
    # For the whole run too: module- and session-scoped fixtures run before any test's own
    # fixtures, and would otherwise find the real home (a speech cache made there, say).
    run_home = Path(tempfile.mkdtemp(prefix="voicecoach-tests-home-"))
    config._home_guard_run = run_home
    point_into(run_home)


def pytest_unconfigure(config):
    folders, before, environ = config._home_guard
    os.environ.clear()
    os.environ.update(environ)
    shutil.rmtree(config._home_guard_run, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory, monkeypatch):
    """HOME and the XDG base folders point into a new private folder for each test (the
    conftest's ``user_dirs`` then gives each test its own voicecoach folders)."""
    home = tmp_path_factory.mktemp("home")
    environ = dict(os.environ)
    point_into(home, environ)
    for name in ("HOME", "XDG_RUNTIME_DIR", *XDG):
        monkeypatch.setenv(name, environ[name])
    return home


def pytest_sessionfinish(session, exitstatus):
    folders, before, _ = session.config._home_guard
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
