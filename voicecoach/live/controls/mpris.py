"""Media and headset buttons: the live session published over MPRIS on the D-Bus session bus.

Desktops route media keys and Bluetooth headset buttons (AVRCP) to the MPRIS player on the
session bus, and ``playerctl`` speaks to it too. The session appears there as
``org.mpris.MediaPlayer2.voicecoach`` (a second one as ``...voicecoach.instance<pid>``, as
the MPRIS spec allows), with the exercise as the track's title and the routine as its album.

This module is the MPRIS behaviour: which buttons become which commands, and what the
properties say. The bus itself is ``dbus`` (jeepney, imported lazily); the interfaces we
publish are described in ``mpris.xml``. Button presses become the same commands as the
keys (``Command.PAUSE``, ``Command.NEXT``...), put into a thread-safe queue that
``wait(timeout_s)`` reads.

    media = connect_mpris()
    if isinstance(media, MediaButtonsOff):
        screen.note(media.line)          # "Media buttons: no D-Bus session bus, so they are off."
    else:
        media.update(PlayState.PLAYING, "Back basics", "Cat-cow", 40.0)
        command = media.wait(0.1)        # Command.PAUSE, Command.NEXT, ... or None
        media.close()
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from ..commands import Command, PlayState
from .dbus import (INTROSPECTABLE, UNKNOWN_METHOD, DBusError, emit_properties_changed,
                   in_signatures, introspection, own_name, serve, standard_call)
from .presses import Presses

BUS_NAME = "org.mpris.MediaPlayer2.voicecoach"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT = "org.mpris.MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
TRACK_PREFIX = "/org/voicecoach/exercise/"
INSTALL_HINT = "install it with: pip install jeepney"


@dataclass(frozen=True)
class MediaButtonsOff:
    """Why there are no media buttons; the session plays on without them."""
    reason: str               # e.g. "no D-Bus session bus"
    detail: str = ""          # the underlying error, for debugging

    @property
    def line(self) -> str:
        return f"Media buttons: {self.reason}, so they are off."


def connect_mpris(address: str | None = None) -> "Mpris | MediaButtonsOff":
    """Publish the session on the bus at ``address`` (default: ``DBUS_SESSION_BUS_ADDRESS``).
    Returns a started ``Mpris``, or ``MediaButtonsOff`` saying why not (never raises for a
    missing or broken bus: media buttons are a convenience, the session must play on)."""
    address = address or os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not address:
        return MediaButtonsOff("no D-Bus session bus")
    try:
        from jeepney.io.threading import open_dbus_connection
    except ImportError:
        return MediaButtonsOff("jeepney is not installed", INSTALL_HINT)
    try:
        connection = open_dbus_connection(address, auth_timeout=1.0)
    except Exception as error:  # unreachable, refused, a bad address, failed auth: all "no bus"
        return MediaButtonsOff("no D-Bus session bus", f"{type(error).__name__}: {error}")
    try:
        name = own_name(connection, (BUS_NAME, f"{BUS_NAME}.instance{os.getpid()}"))
        if name is None:
            raise RuntimeError(f"{BUS_NAME} and its instance name are both taken")
    except Exception as error:  # a bus that misbehaves: not worth stopping the session for
        connection.close()
        return MediaButtonsOff("the D-Bus session bus refused our name", str(error))
    return Mpris(connection, name)


@dataclass(frozen=True)
class NowPlaying:
    """What the session is doing, as the player last said (see ``Mpris.update``)."""
    status: PlayState = PlayState.STOPPED
    title: str = ""           # the routine
    exercise: str = ""
    length_s: float = 0.0     # the exercise's length
    track: int = 0            # changes with the exercise: MPRIS clients key on the track id
    position_s: float = 0.0   # into the exercise, when this was said
    said_at: float = 0.0      # monotonic instant


class Mpris:
    """The published session, a ``Control``: ``wait(timeout_s)`` for a button's command,
    ``update(...)`` to say what plays, ``close()`` to leave the bus. Made by ``connect_mpris``."""

    interactive = False  # buttons, not keys: the screen's key help is not for them

    def __init__(self, connection, name: str):
        self.connection, self.name = connection, name
        self.commands = Presses()  # coalesced: see presses.py
        self._lock = threading.Lock()
        self._now = NowPlaying()
        self._expected = PlayState.STOPPED   # the status after the commands sent so far are obeyed
        self._closed = False
        self._thread = threading.Thread(target=serve, args=(connection, OBJECT_PATH, self._call,
                                                            in_signatures(_interfaces_xml())),
                                        name="mpris", daemon=True)
        self._thread.start()

    # -- the player's side -------------------------------------------------------------

    def wait(self, timeout_s: float) -> Command | None:
        """The next button's command (``PAUSE``, ``NEXT``, ``PREVIOUS``, ``QUIT``), or None
        after ``timeout_s`` (0: do not wait)."""
        return self.commands.get(timeout_s)

    def update(self, status: PlayState | str, title: str, exercise: str, length_s: float,
               position_s: float = 0.0, track: int | None = None) -> None:
        """Say what plays now: ``status`` is "Playing", "Paused" or "Stopped"; ``length_s``
        the exercise's length, ``position_s`` how far into it. Cheap when nothing changed
        (call it every tick); emits PropertiesChanged when status or metadata change."""
        status = _play_state(status)
        with self._lock:
            old = self._now
            if track is None:
                same = (title, exercise) == (old.title, old.exercise)
                track = old.track if same else old.track + 1
            self._now = NowPlaying(status, title, exercise, float(length_s), track,
                                   float(position_s), time.monotonic())
            if self.commands.empty():  # a command still queued would change it again
                self._expected = status
            changed = {}
            if status != old.status:
                changed["PlaybackStatus"] = ("s", status.value)
            if (title, exercise, float(length_s), track) != (old.title, old.exercise,
                                                              old.length_s, old.track):
                changed["Metadata"] = ("a{sv}", _metadata(self._now))
        if changed:
            emit_properties_changed(self.connection, OBJECT_PATH, PLAYER, changed)

    def close(self) -> None:
        """Leave the bus (the name is released with the connection)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.connection.close()  # interrupts the receiving thread too
        except OSError:
            pass
        self._thread.join(timeout=1.0)

    def __enter__(self) -> "Mpris":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the bus's side (its own thread) -----------------------------------------------

    def _call(self, interface: str | None, member: str, args: tuple, path: str) -> tuple[str | None, tuple]:
        if member == "Introspect" and interface in (INTROSPECTABLE, None):
            return "s", (introspection(path, OBJECT_PATH, _interfaces_xml()),)
        standard = standard_call(interface, member, args, self._table)
        if standard is not None:
            return standard
        if interface in (PLAYER, None) and member in _PLAYER_METHODS:
            self._press(member)
            return None, ()
        if interface in (ROOT, None) and member in ("Raise", "Quit"):
            return None, ()  # CanRaise and CanQuit are false: nothing to do
        raise DBusError(UNKNOWN_METHOD, f"no method {member} on interface {interface}")

    def _press(self, member: str) -> None:
        """A button: the player's pause is a toggle, so Play while playing (or Pause while
        paused) is dropped. The status expected after the queued commands is what counts,
        so two quick Pause presses do not pause and resume; toggles not yet read cancel
        out (``Presses``)."""
        with self._lock:
            expected = self._expected
            command = None
            if member == "PlayPause" and expected != PlayState.STOPPED:
                command = Command.PAUSE
                self._expected = PlayState.PAUSED if expected == PlayState.PLAYING else PlayState.PLAYING
            elif member == "Play" and expected == PlayState.PAUSED:
                command, self._expected = Command.PAUSE, PlayState.PLAYING
            elif member == "Pause" and expected == PlayState.PLAYING:
                command, self._expected = Command.PAUSE, PlayState.PAUSED
            elif member in _MOVES:
                command = _MOVES[member]
            if command is not None:
                self.commands.put(command)

    def _table(self, interface: str) -> dict:
        if interface == ROOT:
            return {"Identity": ("s", "voicecoach"), "CanQuit": ("b", False),
                    "CanRaise": ("b", False), "HasTrackList": ("b", False),
                    "SupportedUriSchemes": ("as", []), "SupportedMimeTypes": ("as", [])}
        if interface == PLAYER:
            with self._lock:
                now = self._now
            flags = {name: ("b", True) for name in
                     ("CanGoNext", "CanGoPrevious", "CanPlay", "CanPause", "CanControl")}
            return {"PlaybackStatus": ("s", now.status.value), "Metadata": ("a{sv}", _metadata(now)),
                    "Position": ("x", _position_us(now)), "Rate": ("d", 1.0),
                    "MinimumRate": ("d", 1.0), "MaximumRate": ("d", 1.0), "Volume": ("d", 1.0),
                    "CanSeek": ("b", False), **flags}
        raise DBusError("org.freedesktop.DBus.Error.UnknownInterface", f"no interface {interface!r}")


_MOVES = {"Next": Command.NEXT, "Previous": Command.PREVIOUS, "Stop": Command.QUIT}
_PLAYER_METHODS = ("PlayPause", "Play", "Pause", "Next", "Previous", "Stop",
                   "Seek", "SetPosition", "OpenUri")  # the last three: CanSeek is false


def _play_state(status: PlayState | str) -> PlayState:
    try:
        return PlayState(status)
    except ValueError:
        raise ValueError(f"status must be Playing, Paused or Stopped, got {status!r}") from None


def _metadata(now: NowPlaying) -> dict:
    if not now.exercise and not now.title:
        return {"mpris:trackid": ("o", NO_TRACK)}
    return {"mpris:trackid": ("o", f"{TRACK_PREFIX}{now.track}"),
            "mpris:length": ("x", round(now.length_s * 1_000_000)),
            "xesam:title": ("s", now.exercise or now.title),
            "xesam:album": ("s", now.title)}


def _position_us(now: NowPlaying) -> int:
    position_s = now.position_s
    if now.status == PlayState.PLAYING:
        position_s += time.monotonic() - now.said_at
    return round(max(0.0, min(position_s, now.length_s or position_s)) * 1_000_000)


@lru_cache(maxsize=1)
def _interfaces_xml() -> str:
    """The interfaces our object has (Introspectable, Peer, Properties, MPRIS's two), read
    once from the data file beside this module."""
    return files(__package__).joinpath("mpris.xml").read_text(encoding="utf-8")
