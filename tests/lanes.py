"""The fast lane and the slow one: which tests are ``slow``, and the fence that keeps the
others honest.

``pytest -m "not slow"`` runs the unit tests: fakes only, in seconds. A test is slow when
it needs espeak-ng, Piper, PulseAudio, D-Bus, a terminal (pexpect), ffmpeg, or starts a
process; and a property test (hypothesis) is slow too: each tries 60 to 150 generated
cases, together half of the unit tests' time. ``is_slow`` decides from what a test already
says about itself (its markers, its skip marks, the fixtures it uses, ``@given``), and from
``SLOW_TESTS`` for the tests that say nothing (a CLI run in a subprocess, say). The full
run (``pytest`` with no ``-m``) runs both lanes. Every other test runs inside ``FakesOnly``:
reaching for a process, a speech engine or the sound device fails it with a line saying
to mark it, so a missing mark is found by the suite itself, in either lane.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from support import needs_ffmpeg, requires_espeak, requires_piper

SLOW_MARKERS = ("real", "audio", "neural")
SLOW_SKIPS = (requires_espeak.mark, requires_piper.mark, needs_ffmpeg.mark)
# A test using one of these fixtures (directly or through another fixture) is slow.
SLOW_FIXTURES = (
    "pulse", "microphone_pulse", "bus",  # conftest's private servers
    "joe",                                # test_piper: the Piper voice
    "clips",                              # test_spoken: command words said by espeak-ng
    "fake_systemctl",                     # test_remind: a stand-in systemctl (a shell script)
)
# module -> its slow tests that show none of the above; True: the whole module
SLOW_TESTS: dict[str, bool | frozenset[str]] = {
    "test_install.py": True,  # runs scripts/install.sh and scripts/make_sounds.py
    "test_export.py": frozenset({  # a stand-in ffmpeg (a shell script), a tiny disk (mount)
        "test_a_failing_encoder_leaves_no_file_and_the_old_one_untouched",
        "test_a_full_disk_leaves_no_file_and_the_old_one_untouched"}),
    "test_faults.py": frozenset({"test_an_unusable_cache_is_one_warning_line_in_the_cli"}),
    "test_faults_export.py": frozenset({
        "test_only_temporaries_nobody_holds_are_removed",
        "test_an_export_s_own_clean_up_leaves_another_live_export_s_temporaries",
        "test_an_ffmpeg_that_succeeds_without_writing_is_an_error",
        "test_an_ffmpeg_that_hangs_is_stopped_at_a_deadline_scaled_to_the_session",
        "test_output_to_a_full_device_is_one_line_and_status_1",
        "test_a_reader_that_goes_away_stops_the_command_quietly"}),
    "test_fuzz_routine.py": frozenset({"test_the_real_command_prints_one_line_and_no_traceback"}),
    "test_history.py": frozenset({"test_two_processes_writing_at_once_lose_nothing"}),
    "test_intelligibility.py": frozenset({"test_the_joined_model_is_the_upstream_file"}),  # 140 MB hashed
    "test_levels.py": frozenset({"test_plan_shows_each_level_and_why"}),  # espeak-ng through plan
    "test_mpris.py": frozenset({"test_the_bus_going_away_leaves_the_session_playing"}),  # dbus-daemon
    "test_speech.py": frozenset({
        "test_auto_is_piper_where_a_voice_for_the_language_is_installed",  # Piper's voices
        # passes only once espeak-ng is loaded in the process (by an earlier test); alone it
        # gets the "not installed" line instead of "cannot be used"
        "test_a_missing_espeak_is_a_one_line_error_with_the_install_hint"}),
    "test_spoken.py": frozenset({"test_no_server_names_each_recorder_tried",  # parec, arecord
                                 "test_the_coach_looped_back_into_the_microphone_never_commands_it"}),
}


def is_slow(item: pytest.Item) -> bool:
    """Whether ``item`` needs more than fakes (see the module's docstring)."""
    if any(item.get_closest_marker(name) for name in ("slow", *SLOW_MARKERS)):
        return True
    if any(mark in SLOW_SKIPS for mark in item.iter_markers("skipif")):
        return True
    if set(SLOW_FIXTURES) & set(getattr(item, "fixturenames", ())):
        return True
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        return True  # a property test
    listed = SLOW_TESTS.get(item.path.name, frozenset())
    return listed is True or getattr(item, "originalname", item.name) in listed


class NeedsSlowMark(Exception):
    """A test outside the slow lane reached for something real."""


class FakesOnly:
    """While entered, starting a process, a sound device or a speech engine raises
    ``NeedsSlowMark``; ``reached`` keeps each attempt, also those the code under test
    caught, so the caller can fail the test afterwards.

    An engine counts once it is loaded (``_refuse_after``): a unit test may well ask for
    one that the test has made unavailable, to see the error a user would get.
    """

    def __init__(self):
        self.reached: list[str] = []
        self._patch = pytest.MonkeyPatch()

    def __enter__(self) -> "FakesOnly":
        from voicecoach.live.device import AlsaDevice, SimpleaudioDevice
        from voicecoach.speech import piper_engine, pyttsx3_engine
        for owner, name, what in [
                (subprocess.Popen, "__init__", "a process (subprocess)"),
                (os, "fork", "a process (os.fork)"), (os, "forkpty", "a terminal (os.forkpty)"),
                (os, "posix_spawn", "a process (os.posix_spawn)"),
                (os, "posix_spawnp", "a process (os.posix_spawnp)"),
                (AlsaDevice, "__init__", "the ALSA sound device"),
                (SimpleaudioDevice, "__init__", "the simpleaudio sound device")]:
            self._patch.setattr(owner, name, self._refuse(what))
        for owner, name, what in [(pyttsx3_engine, "_worker", "espeak-ng"),
                                  (pyttsx3_engine, "shared_engine", "espeak-ng"),
                                  (piper_engine, "_load", "a Piper voice")]:
            self._patch.setattr(owner, name, self._refuse_after(getattr(owner, name), what))
        return self

    def __exit__(self, *exc) -> None:
        self._patch.undo()

    def _refuse(self, what: str):
        def refuse(*args, **kwargs):
            self.reached.append(what)
            raise NeedsSlowMark(f"this test reaches for {what}: mark it slow (tests/lanes.py says how)")
        return refuse

    def _refuse_after(self, load, what: str):
        def refuse_loaded(*args, **kwargs):
            load(*args, **kwargs)
            self._refuse(what)()
        return refuse_loaded
