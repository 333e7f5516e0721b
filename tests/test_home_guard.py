"""The guard of the user's own folders (``home_guard.py``) is in force, and fails a run
that writes there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import home_guard
import pytest
from voicecoach.paths import data_dir

TESTS = Path(__file__).resolve().parent

LEAKY = '''
import os
from pathlib import Path

def test_writes_into_the_real_home():
    folder = Path(os.environ["REAL_HOME"]) / ".local/share/voicecoach"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.db").write_text("a session")
'''


def test_each_test_has_a_private_home(tmp_path, monkeypatch):
    home = Path(os.environ["HOME"])
    assert home.name.startswith("home") and [p.name for p in home.iterdir()] == ["runtime"]
    monkeypatch.delenv("VOICECOACH_DATA_DIR")  # a test that forgets it lands in the private home
    assert data_dir(create=False) == home / ".local/share/voicecoach"
    assert os.environ["XDG_CONFIG_HOME"] == str(home / ".config")


@pytest.mark.slow
def test_a_run_that_writes_under_the_real_home_fails(tmp_path):
    real_home = tmp_path / "real-home"
    (real_home / ".local/share/voicecoach").mkdir(parents=True)
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text('pytest_plugins = ["home_guard"]\n')
    (suite / "test_leaky.py").write_text(LEAKY)
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(real_home), REAL_HOME=str(real_home), PYTHONPATH=str(TESTS))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
                          env=env, cwd=suite, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout
    assert "1 passed" in done.stdout  # the test itself passed: the guard failed the run
    assert "The tests wrote into the real home's voicecoach folders" in done.stdout
    assert f"new: {real_home}/.local/share/voicecoach/history.db" in done.stdout


def test_changes_lists_new_gone_and_changed_files(tmp_path):
    folder = tmp_path / "voicecoach"
    folder.mkdir()
    (folder / "kept").write_text("a")
    (folder / "edited").write_text("a")
    (folder / "removed").write_text("a")
    before = home_guard.snapshot([folder])
    (folder / "edited").write_text("ab")
    (folder / "removed").unlink()
    (folder / "added").write_text("a")
    found = home_guard.changes(before, home_guard.snapshot([folder]))
    assert [line for line in found if "kept" not in line and line != f"changed: {folder}"] == [
        f"new: {folder / 'added'}", f"gone: {folder / 'removed'}", f"changed: {folder / 'edited'}"]


def test_the_benchmark_runs_voicecoach_with_private_folders_only(tmp_path):
    sys.path.insert(0, str(TESTS.parent / "scripts"))
    try:
        import bench
        import private_dirs
    finally:
        sys.path.pop(0)
    env = bench.Bench(tmp_path, quick=True).env
    for name in private_dirs.FOLDERS:
        assert Path(env[name]).is_relative_to(tmp_path), name
    before = dict(os.environ)
    with private_dirs.private_dirs() as folder:
        assert all(Path(os.environ[name]).parent == folder for name in private_dirs.FOLDERS)
    assert dict(os.environ) == before
