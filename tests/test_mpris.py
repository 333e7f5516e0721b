"""Media buttons over MPRIS, on a real private dbus-daemon, driven by dbus-send and playerctl;
and the ``Controls`` combinator that merges them with the keys (unit tests with fakes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from dbus_session import SessionBus  # noqa: E402

from voicecoach.live.controls.combined import Controls  # noqa: E402
from voicecoach.live.controls.mpris import (BUS_NAME, NO_TRACK, OBJECT_PATH,  # noqa: E402
                                            MediaButtonsOff, Mpris, connect_mpris)

# Skipped on a developer machine without them, never in CI (scripts/install.sh installs
# them): there a missing tool must fail, not quietly skip.
needs_bus = pytest.mark.skipif(
    (shutil.which("dbus-daemon") is None or shutil.which("dbus-send") is None) and not os.environ.get("CI"),
    reason="dbus-daemon and dbus-send are needed (apt-get install dbus-daemon dbus-bin)")
needs_playerctl = pytest.mark.skipif(shutil.which("playerctl") is None and not os.environ.get("CI"),
                                     reason="playerctl is needed (apt-get install playerctl)")


@pytest.fixture
def media(bus):
    published = connect_mpris(bus)
    assert isinstance(published, Mpris), published
    yield published
    published.close()


def run(bus: str, *command: str) -> str:
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    return done.stdout


def call(bus: str, method: str, *args: str, destination: str = BUS_NAME) -> str:
    return run(bus, "dbus-send", "--session", f"--dest={destination}", "--print-reply",
               OBJECT_PATH, method, *args)


def next_command(media, timeout_s: float = 2.0):
    return media.wait(timeout_s)


# -- no bus --------------------------------------------------------------------------------

def test_no_session_bus_is_one_info_line(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    off = connect_mpris()
    assert isinstance(off, MediaButtonsOff)
    assert off.line == "Media buttons: no D-Bus session bus, so they are off."


def test_a_bad_address_is_the_same_line():
    off = connect_mpris("nonsense-address")
    assert off.line == "Media buttons: no D-Bus session bus, so they are off."


def test_a_bus_that_is_not_there_is_the_same_line(tmp_path):
    off = connect_mpris(f"unix:path={tmp_path / 'nothing-here'}")
    assert isinstance(off, MediaButtonsOff)
    assert off.line == "Media buttons: no D-Bus session bus, so they are off."
    assert "FileNotFoundError" in off.detail or "ConnectionRefused" in off.detail


# -- buttons ---------------------------------------------------------------------------------

@needs_bus
def test_buttons_become_the_keys_commands(bus, media):
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.Next")
    assert next_command(media) == "next"
    call(bus, "org.mpris.MediaPlayer2.Player.Previous")
    assert next_command(media) == "previous"
    call(bus, "org.mpris.MediaPlayer2.Player.PlayPause")
    assert next_command(media) == "pause"
    media.update("Paused", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.PlayPause")
    assert next_command(media) == "pause"
    call(bus, "org.mpris.MediaPlayer2.Player.Stop")
    assert next_command(media) == "quit"
    assert media.wait(0.05) is None


@needs_bus
def test_play_while_playing_and_pause_while_paused_are_dropped(bus, media):
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.Play")
    assert media.wait(0.2) is None
    call(bus, "org.mpris.MediaPlayer2.Player.Pause")
    assert next_command(media) == "pause"
    media.update("Paused", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.Pause")
    assert media.wait(0.2) is None
    call(bus, "org.mpris.MediaPlayer2.Player.Play")
    assert next_command(media) == "pause"


@needs_bus
def test_two_quick_pauses_do_not_pause_and_resume(bus, media):
    """The second Pause comes before the player said it paused: it is still dropped."""
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.Pause")
    call(bus, "org.mpris.MediaPlayer2.Player.Pause")
    media.update("Playing", "Back basics", "Cat-cow", 40.0)  # a tick before the command is read
    assert next_command(media) == "pause"
    assert media.wait(0.2) is None


@needs_bus
def test_nothing_to_toggle_before_the_session_plays(bus, media):
    call(bus, "org.mpris.MediaPlayer2.Player.PlayPause")
    assert media.wait(0.2) is None


@needs_playerctl
@needs_bus
def test_playerctl_sees_and_commands_the_session(bus, media):
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    assert run(bus, "playerctl", "--list-all").split() == ["voicecoach"]
    assert run(bus, "playerctl", "-p", "voicecoach", "status").strip() == "Playing"
    shown = run(bus, "playerctl", "-p", "voicecoach", "metadata", "--format",
                "{{xesam:title}}|{{xesam:album}}|{{mpris:length}}").strip()
    assert shown == "Cat-cow|Back basics|40000000"
    run(bus, "playerctl", "-p", "voicecoach", "play-pause")
    assert next_command(media) == "pause"
    media.update("Paused", "Back basics", "Cat-cow", 40.0)
    assert run(bus, "playerctl", "-p", "voicecoach", "status").strip() == "Paused"
    run(bus, "playerctl", "-p", "voicecoach", "next")
    assert next_command(media) == "next"
    run(bus, "playerctl", "-p", "voicecoach", "stop")
    assert next_command(media) == "quit"


# -- properties ------------------------------------------------------------------------------

@needs_bus
def test_properties_read_back(bus, media):
    get = "org.freedesktop.DBus.Properties.Get"
    player = "string:org.mpris.MediaPlayer2.Player"
    assert '"Stopped"' in call(bus, get, player, "string:PlaybackStatus")
    assert NO_TRACK in call(bus, get, player, "string:Metadata")
    media.update("Playing", "Back basics", "Knee rolls", 30.5)
    assert '"Playing"' in call(bus, get, player, "string:PlaybackStatus")
    metadata = call(bus, get, player, "string:Metadata")
    assert '"Knee rolls"' in metadata and '"Back basics"' in metadata
    assert "int64 30500000" in metadata and "object path \"/org/voicecoach/exercise/" in metadata
    assert "boolean false" in call(bus, get, player, "string:CanSeek")
    assert "boolean true" in call(bus, get, player, "string:CanGoNext")
    root = call(bus, "org.freedesktop.DBus.Properties.GetAll", "string:org.mpris.MediaPlayer2")
    assert '"voicecoach"' in root and "CanQuit" in root and "SupportedMimeTypes" in root


@needs_bus
def test_properties_cannot_be_set_and_unknown_ones_are_errors(bus, media):
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus}
    done = subprocess.run(["dbus-send", "--session", f"--dest={BUS_NAME}", "--print-reply",
                           OBJECT_PATH, "org.freedesktop.DBus.Properties.Set",
                           "string:org.mpris.MediaPlayer2.Player", "string:Volume",
                           "variant:double:0.5"], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "PropertyReadOnly" in done.stderr
    done = subprocess.run(["dbus-send", "--session", f"--dest={BUS_NAME}", "--print-reply",
                           OBJECT_PATH, "org.freedesktop.DBus.Properties.Get",
                           "string:org.mpris.MediaPlayer2.Player", "string:Colour"],
                          env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "UnknownProperty" in done.stderr


@needs_bus
def test_introspection_lists_both_interfaces(bus, media):
    xml = call(bus, "org.freedesktop.DBus.Introspectable.Introspect")
    assert 'interface name="org.mpris.MediaPlayer2"' in xml
    assert 'interface name="org.mpris.MediaPlayer2.Player"' in xml
    assert '<method name="PlayPause"/>' in xml


@needs_bus
def test_properties_changed_is_emitted_on_status_and_metadata(bus, media):
    from jeepney import MatchRule, message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection
    rule = MatchRule(type="signal", interface="org.freedesktop.DBus.Properties",
                     member="PropertiesChanged", path=OBJECT_PATH)
    with open_dbus_connection(bus) as listener:
        Proxy(message_bus, listener).AddMatch(rule)
        with listener.filter(rule, bufsize=10) as signals:
            media.update("Playing", "Back basics", "Cat-cow", 40.0)
            first = listener.recv_until_filtered(signals, timeout=2).body
            media.update("Playing", "Back basics", "Cat-cow", 40.0)  # no change: no signal
            media.update("Paused", "Back basics", "Cat-cow", 40.0)
            second = listener.recv_until_filtered(signals, timeout=2).body
            media.update("Paused", "Back basics", "Knee rolls", 30.0)
            third = listener.recv_until_filtered(signals, timeout=2).body
    assert first[0] == "org.mpris.MediaPlayer2.Player"
    assert first[1]["PlaybackStatus"] == ("s", "Playing")
    assert first[1]["Metadata"][1]["xesam:title"] == ("s", "Cat-cow")
    assert second[1] == {"PlaybackStatus": ("s", "Paused")}
    assert list(third[1]) == ["Metadata"]
    assert third[1]["Metadata"][1]["xesam:title"] == ("s", "Knee rolls")
    assert third[1]["Metadata"][1]["mpris:trackid"] != first[1]["Metadata"][1]["mpris:trackid"]


@needs_bus
def test_a_second_session_takes_an_instance_name(bus, media):
    second = connect_mpris(bus)
    try:
        assert isinstance(second, Mpris)
        assert second.name == f"{BUS_NAME}.instance{os.getpid()}"
        second.update("Playing", "Back basics", "Cat-cow", 40.0)
        call(bus, "org.mpris.MediaPlayer2.Player.Next", destination=second.name)
        assert next_command(second) == "next"
        assert media.wait(0.1) is None
    finally:
        second.close()


@needs_bus
def test_the_bus_going_away_leaves_the_session_playing():
    with SessionBus() as private:
        media = connect_mpris(private.address)
        assert isinstance(media, Mpris)
    media._thread.join(timeout=2)
    assert not media._thread.is_alive()
    media.update("Playing", "Back basics", "Cat-cow", 40.0)  # no error
    assert media.wait(0.01) is None
    media.close()


def test_update_rejects_an_unknown_status():
    class Closed:
        def receive(self):
            raise OSError("closed")
    media = Mpris(Closed(), BUS_NAME)
    with pytest.raises(ValueError, match="Playing, Paused or Stopped"):
        media.update("Rewinding", "Back basics", "Cat-cow", 40.0)


# -- the combinator ---------------------------------------------------------------------------

class FakeKeys:
    """Blocks for its timeout like the terminal; returns its scripted keys, one per wait."""

    interactive = False

    def __init__(self, keys=()):
        self.keys, self.waits = list(keys), []

    def wait(self, timeout_s):
        self.waits.append(timeout_s)
        if self.keys:
            return self.keys.pop(0)
        time.sleep(timeout_s)
        return None


class FakeQueue:
    def __init__(self, commands=()):
        self.commands, self.updates, self.closed = list(commands), [], False

    def wait(self, timeout_s):
        assert timeout_s == 0, "a queued source is only polled"
        return self.commands.pop(0) if self.commands else None

    def update(self, *args, **kwargs):
        self.updates.append((args, kwargs))

    def close(self):
        self.closed = True


def test_keys_alone_are_waited_on_unsliced():
    keys = FakeKeys()
    assert Controls(keys).wait(0.05) is None
    assert keys.waits == [0.05]


def test_interactive_is_the_keys_own():
    keys = FakeKeys()
    assert Controls(keys, FakeQueue()).interactive is False
    keys.interactive = True
    assert Controls(keys, FakeQueue()).interactive is True


def test_a_queued_command_comes_before_the_keys_are_waited_on():
    keys, buttons = FakeKeys(["next"]), FakeQueue(["pause"])
    controls = Controls(keys, buttons)
    assert controls.wait(1.0) == "pause"
    assert keys.waits == []
    assert controls.wait(1.0) == "next"


def test_keys_are_waited_on_in_slices_until_the_timeout():
    keys = FakeKeys()
    controls = Controls(keys, FakeQueue(), slice_s=0.01)
    assert controls.wait(0.05) is None
    assert 4 <= len(keys.waits) <= 6
    assert all(0 < wait <= 0.01 for wait in keys.waits)


def test_a_command_arriving_mid_wait_is_returned_within_a_slice():
    class Later(FakeQueue):
        def __init__(self):
            super().__init__()
            self.polls = 0

        def wait(self, timeout_s):
            self.polls += 1
            return "quit" if self.polls == 3 else None
    keys = FakeKeys()
    assert Controls(keys, Later(), slice_s=0.01).wait(10.0) == "quit"
    assert len(keys.waits) == 2


def test_sources_are_polled_in_order_and_a_zero_timeout_still_polls():
    controls = Controls(FakeKeys(), FakeQueue(["previous"]), FakeQueue(["repeat"]))
    assert controls.wait(0) == "previous"
    assert controls.wait(0) == "repeat"
    assert controls.wait(0) is None


def test_update_and_close_reach_the_sources_that_have_them():
    buttons = FakeQueue()
    controls = Controls(FakeKeys(), buttons)
    controls.update("Playing", "Back basics", "Cat-cow", 40.0)
    controls.close()
    assert buttons.updates == [(("Playing", "Back basics", "Cat-cow", 40.0), {})]
    assert buttons.closed


@needs_bus
def test_a_button_reaches_the_combined_wait(bus, media):
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.Next")
    assert Controls(FakeKeys(), media).wait(2.0) == "next"


# -- malformed calls and storms of presses ------------------------------------------------------

def send(bus: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus}
    return subprocess.run(["dbus-send", "--session", f"--dest={BUS_NAME}", "--print-reply", OBJECT_PATH,
                           *args], env=env, capture_output=True, text=True, timeout=10)


@needs_bus
@pytest.mark.parametrize("call_args", [
    ("org.freedesktop.DBus.Properties.Get", "array:string:org.mpris.MediaPlayer2.Player", "string:Metadata"),
    ("org.freedesktop.DBus.Properties.Get", "string:org.mpris.MediaPlayer2.Player", "array:string:Metadata"),
    ("org.freedesktop.DBus.Properties.Get", "string:org.mpris.MediaPlayer2.Player"),
    ("org.freedesktop.DBus.Properties.GetAll", "int32:7"),
    ("org.freedesktop.DBus.Properties.Set", "string:a", "string:b", "string:c"),
    ("org.mpris.MediaPlayer2.Player.PlayPause", "string:now"),
    ("org.mpris.MediaPlayer2.Player.Seek", "string:forward"),
    ("org.mpris.MediaPlayer2.Player.SetPosition", "int64:5"),
    ("org.freedesktop.DBus.Peer.Ping", "dict:string:string:a,b"),
])
def test_a_malformed_call_gets_an_error_reply_and_the_buttons_go_on(bus, media, capfd, call_args):
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    done = send(bus, *call_args)
    assert done.returncode != 0 and "org.freedesktop.DBus.Error.InvalidArgs" in done.stderr, done.stderr
    assert "takes (" in done.stderr  # says what the method takes
    assert media.wait(0.1) is None  # nothing was pressed
    call(bus, "org.mpris.MediaPlayer2.Player.Next")
    assert next_command(media) == "next"
    assert media._thread.is_alive()
    assert "Traceback" not in capfd.readouterr().err


@needs_bus
def test_a_fault_inside_a_call_is_a_failed_reply_not_a_dead_thread(bus, media, monkeypatch, capfd):
    def broken(interface):
        raise TypeError("unhashable type: 'list'")
    monkeypatch.setattr(media, "_table", broken)
    done = send(bus, "org.freedesktop.DBus.Properties.GetAll", "string:org.mpris.MediaPlayer2")
    assert done.returncode != 0 and "org.freedesktop.DBus.Error.Failed" in done.stderr
    media.update("Playing", "Back basics", "Cat-cow", 40.0)
    call(bus, "org.mpris.MediaPlayer2.Player.Stop")
    assert next_command(media) == "quit"
    assert "Traceback" not in capfd.readouterr().err


def test_waiting_toggles_cancel_out_and_a_stop_drops_what_waits_before_it():
    from voicecoach.live.commands import Command
    from voicecoach.live.controls.presses import Presses
    presses = Presses()
    for _ in range(7):
        presses.put(Command.PAUSE)
    assert len(presses) == 1  # an odd number of toggles: one
    presses.put(Command.PAUSE)
    assert presses.empty()  # an even number: none
    for command in (Command.PAUSE, Command.NEXT, Command.PAUSE, Command.NEXT):
        presses.put(command)
    assert [presses.get(0) for _ in range(5)] == [Command.PAUSE, Command.NEXT, Command.PAUSE, Command.NEXT, None]
    for command in (Command.NEXT, Command.PAUSE, Command.QUIT, Command.PAUSE):
        presses.put(command)
    assert [presses.get(0) for _ in range(3)] == [Command.QUIT, Command.PAUSE, None]


def test_get_waits_for_a_press_from_another_thread():
    import threading
    from voicecoach.live.commands import Command
    from voicecoach.live.controls.presses import Presses
    presses = Presses()
    threading.Timer(0.05, presses.put, (Command.NEXT,)).start()
    started = time.monotonic()
    assert presses.get(2.0) == Command.NEXT
    assert time.monotonic() - started < 1.0
    assert presses.get(0.05) is None


@pytest.mark.slow
@needs_bus
@pytest.mark.parametrize("presses, final", [(2000, "Playing"), (2001, "Paused")])
def test_a_storm_of_play_pause_presses_settles_at_once_in_the_state_their_parity_gives(presses, final):
    import bench_pause
    storm = bench_pause.measure_press_storm(presses=presses, clients=20)
    assert storm.final == final
    assert storm.obeyed < presses / 10  # coalesced (one command a press: all 2000)
    assert storm.settle_s < 0.5, storm
