"""Shared fixtures: private folders for every test, the fake synthesizer, the private audio
servers and session bus, and the fast lane (``pytest -m "not slow"``, see ``lanes.py``).

Unit tests use the fakes in ``fakes.py``: no sound card, no TTS engine. Shared paths, marks
and the CLI runner are in ``support.py``.
"""

from __future__ import annotations

import contextlib
import sys

import pytest

from fakes import FakeSynthesizer
from lanes import FakesOnly, is_slow
from support import SCRIPTS

sys.path.insert(0, str(SCRIPTS))  # pulse_server and dbus_session, for the fixtures and the tests
pytest_plugins = ["home_guard"]  # a private HOME for every test, and a check that it held


@pytest.fixture(scope="session")
def espeak_settings(tmp_path_factory):
    """A settings folder saying ``engine: espeak`` (outside every test's own tmp_path)."""
    folder = tmp_path_factory.mktemp("settings")
    (folder / "config.yaml").write_text("engine: espeak\n")
    return folder


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch, espeak_settings):
    """Every test gets its own empty cache, state and data folders."""
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VOICECOACH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    # The default engine is auto (Piper where installed, as in CI). Tests speak with espeak-ng,
    # the fast engine every install has, unless they ask for another; tests/test_config.py
    # points this at a folder of its own.
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(espeak_settings))
    return tmp_path


@pytest.fixture
def fake_synth():
    return FakeSynthesizer()


# -- the two lanes ------------------------------------------------------------------------

def pytest_collection_modifyitems(items):
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed


@pytest.fixture(autouse=True)
def fakes_only(request):
    """Outside the slow lane, reaching for a process, an engine or a sound device fails the
    test; also where the code under test caught the error (then at teardown)."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    with FakesOnly() as fence:
        yield
    if fence.reached and not request.node.stash.get(CALL_FAILED, False):
        pytest.fail(f"reached for {', '.join(fence.reached)} without the slow mark (see tests/lanes.py)")


# -- private servers ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def pulse():
    """A private PulseAudio server for the module (``scripts/pulse_server.py``)."""
    from pulse_server import PulseServer
    with PulseServer() as server:
        yield server


@pytest.fixture(scope="module")
def microphone_pulse():
    """A private PulseAudio server whose default source is a second null sink's monitor: what
    is played into ``pulse_server.MICROPHONE`` is what a program recording 'default' hears."""
    from pulse_server import PulseServer
    with PulseServer(microphone=True) as server:
        yield server


@pytest.fixture
def bus():
    """A private session bus's address (nothing of the user's bus is touched)."""
    from dbus_session import SessionBus
    with SessionBus() as private:
        yield private.address


@pytest.fixture
def recorded_session(pulse):
    """``recorded_session(routine)``: ``voicecoach play ROUTINE`` (espeak-ng, lead-in 0.2 s)
    in a 30x100 terminal through ``pulse``, its sound recorded; yields ``(child, env,
    recording)`` for the block to drive the pexpect child to its end. A child still running
    when the block leaves (a failed expect) is killed, so no session plays on."""
    pexpect = pytest.importorskip("pexpect")

    @contextlib.contextmanager
    def play(routine):
        env = pulse.env()
        env.pop("COLUMNS", None)
        with pulse.record() as recording:
            child = pexpect.spawn(sys.executable, ["-m", "voicecoach", "play", str(routine),
                                                   "--lead-in", "0.2", "--engine", "espeak"],
                                  env=env, dimensions=(30, 100), encoding="utf-8", timeout=40)
            try:
                yield child, env, recording
            finally:
                if child.isalive():
                    child.terminate(force=True)
    return play
