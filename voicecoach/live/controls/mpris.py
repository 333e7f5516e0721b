"""Media and headset buttons: the live session published over MPRIS on the D-Bus session bus.

Desktops route media keys and Bluetooth headset buttons (AVRCP) to the MPRIS player on the
session bus, and ``playerctl`` speaks to it too. The session appears there as
``org.mpris.MediaPlayer2.voicecoach`` (a second one as ``...voicecoach.instance<pid>``, as
the MPRIS spec allows), with the exercise as the track's title and the routine as its album.

jeepney is imported lazily, here only: it is pure Python (no libdbus, no GLib main loop),
and its threading connection can send from the player's thread while our own daemon
thread receives. Button presses become the same commands as the keys (``PAUSE``,
``NEXT``...), put into a thread-safe queue that ``wait(timeout_s)`` reads.

    media = connect_mpris()
    if isinstance(media, MediaButtonsOff):
        screen.note(media.line)          # "Media buttons: no D-Bus session bus, so they are off."
    else:
        media.update("Playing", "Back basics", "Cat-cow", 40.0)
        command = media.wait(0.1)        # "pause", "next", ... or None
        media.close()
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass

from .keys import NEXT, PAUSE, PREVIOUS, QUIT

BUS_NAME = "org.mpris.MediaPlayer2.voicecoach"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT = "org.mpris.MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
TRACK_PREFIX = "/org/voicecoach/exercise/"
PLAYING, PAUSED, STOPPED = "Playing", "Paused", "Stopped"
INSTALL_HINT = "install it with: pip install jeepney"

_DO_NOT_QUEUE = 4                         # RequestName flag: fail rather than wait in line
_PRIMARY_OWNER, _ALREADY_OWNER = 1, 4     # RequestName replies that mean the name is ours


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
        name = _own_name(connection)
    except Exception as error:  # a bus that misbehaves: not worth stopping the session for
        connection.close()
        return MediaButtonsOff("the D-Bus session bus refused our name", str(error))
    return Mpris(connection, name)


def _own_name(connection) -> str:
    from jeepney import message_bus
    from jeepney.io.threading import DBusRouter
    with DBusRouter(connection) as router:  # replies are matched by the router, then it is let go
        for name in (BUS_NAME, f"{BUS_NAME}.instance{os.getpid()}"):
            reply = router.send_and_get_reply(
                message_bus.RequestName(name, _DO_NOT_QUEUE), timeout=2.0)
            if reply.body and reply.body[0] in (_PRIMARY_OWNER, _ALREADY_OWNER):
                return name
    raise RuntimeError(f"{BUS_NAME} and its instance name are both taken")


@dataclass(frozen=True)
class NowPlaying:
    """What the session is doing, as the player last said (see ``Mpris.update``)."""
    status: str = STOPPED
    title: str = ""           # the routine
    exercise: str = ""
    length_s: float = 0.0     # the exercise's length
    track: int = 0            # changes with the exercise: MPRIS clients key on the track id
    position_s: float = 0.0   # into the exercise, when this was said
    said_at: float = 0.0      # monotonic instant


class Mpris:
    """The published session: ``wait(timeout_s)`` for a button's command, ``update(...)`` to
    say what plays, ``close()`` to leave the bus. Made by ``connect_mpris``."""

    def __init__(self, connection, name: str):
        self.connection, self.name = connection, name
        self.commands: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._now = NowPlaying()
        self._expected = STOPPED   # the status after the commands sent so far are obeyed
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="mpris", daemon=True)
        self._thread.start()

    # -- the player's side -------------------------------------------------------------

    def wait(self, timeout_s: float) -> str | None:
        """The next button's command (``PAUSE``, ``NEXT``, ``PREVIOUS``, ``QUIT``), or None
        after ``timeout_s`` (0: do not wait)."""
        try:
            if timeout_s <= 0:
                return self.commands.get_nowait()
            return self.commands.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def update(self, status: str, title: str, exercise: str, length_s: float,
               position_s: float = 0.0, track: int | None = None) -> None:
        """Say what plays now: ``status`` is "Playing", "Paused" or "Stopped"; ``length_s``
        the exercise's length, ``position_s`` how far into it. Cheap when nothing changed
        (call it every tick); emits PropertiesChanged when status or metadata change."""
        if status not in (PLAYING, PAUSED, STOPPED):
            raise ValueError(f"status must be Playing, Paused or Stopped, got {status!r}")
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
                changed["PlaybackStatus"] = ("s", status)
            if (title, exercise, float(length_s), track) != (old.title, old.exercise,
                                                              old.length_s, old.track):
                changed["Metadata"] = ("a{sv}", _metadata(self._now))
        if changed:
            self._emit_changed(changed)

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

    def _serve(self) -> None:
        from jeepney.io.threading import ReceiveStopped
        from jeepney.low_level import MessageType
        while True:
            try:
                message = self.connection.receive()
            except (ReceiveStopped, OSError, ValueError):
                return  # closed, or the bus went away: the buttons stop, the session goes on
            if message.header.message_type == MessageType.method_call:
                try:
                    self._answer(message)
                except OSError:
                    return

    def _answer(self, message) -> None:
        from jeepney import new_error, new_method_return
        from jeepney.low_level import HeaderFields, MessageFlag
        fields = message.header.fields
        path = fields.get(HeaderFields.path)
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        parent = OBJECT_PATH.startswith(path.rstrip("/") + "/") if path else False
        if path != OBJECT_PATH and not (interface == PEER or (member == "Introspect" and parent)):
            reply = new_error(message, "org.freedesktop.DBus.Error.UnknownObject", "s",
                              (f"no object at {path}",))
        else:
            try:
                signature, body = self._call(interface, member, message.body, path)
                reply = new_method_return(message, signature, body)
            except _DBusError as error:
                reply = new_error(message, error.name, "s", (error.text,))
        if not message.header.flags & MessageFlag.no_reply_expected:
            self.connection.send(reply)

    def _call(self, interface, member, args, path) -> tuple[str | None, tuple]:
        if member == "Introspect" and interface in (INTROSPECTABLE, None):
            return "s", (_introspection(path),)
        if interface == PEER or (interface is None and member in ("Ping", "GetMachineId")):
            if member == "Ping":
                return None, ()
            raise _DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")
        if interface == PROPERTIES or (interface is None and member in ("Get", "GetAll", "Set")):
            return self._properties(member, args)
        if interface in (PLAYER, None) and member in _PLAYER_METHODS:
            self._press(member)
            return None, ()
        if interface in (ROOT, None) and member in ("Raise", "Quit"):
            return None, ()  # CanRaise and CanQuit are false: nothing to do
        raise _DBusError("org.freedesktop.DBus.Error.UnknownMethod",
                         f"no method {member} on interface {interface}")

    def _press(self, member: str) -> None:
        """A button: the player's pause is a toggle, so Play while playing (or Pause while
        paused) is dropped. The status expected after the queued commands is what counts,
        so two quick Pause presses do not pause and resume."""
        with self._lock:
            expected = self._expected
            command = None
            if member == "PlayPause" and expected != STOPPED:
                command, self._expected = PAUSE, PAUSED if expected == PLAYING else PLAYING
            elif member == "Play" and expected == PAUSED:
                command, self._expected = PAUSE, PLAYING
            elif member == "Pause" and expected == PLAYING:
                command, self._expected = PAUSE, PAUSED
            elif member in _MOVES:
                command = _MOVES[member]
            if command is not None:
                self.commands.put(command)

    def _properties(self, member: str, args: tuple) -> tuple[str, tuple]:
        interface = args[0] if args else ""
        table = self._table(interface)
        if member == "GetAll":
            return "a{sv}", (table,)
        if member == "Get" and len(args) >= 2:
            if args[1] not in table:
                raise _DBusError("org.freedesktop.DBus.Error.UnknownProperty",
                                 f"no property {args[1]} on {interface}")
            return "v", (table[args[1]],)
        if member == "Set":
            raise _DBusError("org.freedesktop.DBus.Error.PropertyReadOnly",
                             "voicecoach's properties are read-only")
        raise _DBusError("org.freedesktop.DBus.Error.InvalidArgs", f"bad arguments to {member}")

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
            return {"PlaybackStatus": ("s", now.status), "Metadata": ("a{sv}", _metadata(now)),
                    "Position": ("x", _position_us(now)), "Rate": ("d", 1.0),
                    "MinimumRate": ("d", 1.0), "MaximumRate": ("d", 1.0), "Volume": ("d", 1.0),
                    "CanSeek": ("b", False), **flags}
        raise _DBusError("org.freedesktop.DBus.Error.UnknownInterface",
                         f"no interface {interface!r}")

    def _emit_changed(self, changed: dict) -> None:
        from jeepney import DBusAddress, new_signal
        emitter = DBusAddress(OBJECT_PATH, interface=PROPERTIES)
        signal = new_signal(emitter, "PropertiesChanged", "sa{sv}as", (PLAYER, changed, []))
        try:
            self.connection.send(signal)
        except OSError:
            pass  # the bus went away: the session goes on without buttons


class _DBusError(Exception):
    def __init__(self, name: str, text: str):
        super().__init__(text)
        self.name, self.text = name, text


_MOVES = {"Next": NEXT, "Previous": PREVIOUS, "Stop": QUIT}
_PLAYER_METHODS = ("PlayPause", "Play", "Pause", "Next", "Previous", "Stop",
                   "Seek", "SetPosition", "OpenUri")  # the last three: CanSeek is false


def _metadata(now: NowPlaying) -> dict:
    if not now.exercise and not now.title:
        return {"mpris:trackid": ("o", NO_TRACK)}
    return {"mpris:trackid": ("o", f"{TRACK_PREFIX}{now.track}"),
            "mpris:length": ("x", round(now.length_s * 1_000_000)),
            "xesam:title": ("s", now.exercise or now.title),
            "xesam:album": ("s", now.title)}


def _position_us(now: NowPlaying) -> int:
    position_s = now.position_s
    if now.status == PLAYING:
        position_s += time.monotonic() - now.said_at
    return round(max(0.0, min(position_s, now.length_s or position_s)) * 1_000_000)


def _introspection(path: str) -> str:
    if path != OBJECT_PATH:  # the parents of our object, so tools can walk down to it
        child = OBJECT_PATH[len(path.rstrip("/")) + 1:].split("/")[0]
        return f'{_DOCTYPE}<node><node name="{child}"/></node>'
    return _DOCTYPE + _INTERFACES


_DOCTYPE = ('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" '
            '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n')
_INTERFACES = """<node>
 <interface name="org.freedesktop.DBus.Introspectable">
  <method name="Introspect"><arg name="xml" type="s" direction="out"/></method>
 </interface>
 <interface name="org.freedesktop.DBus.Peer"><method name="Ping"/></interface>
 <interface name="org.freedesktop.DBus.Properties">
  <method name="Get"><arg name="interface" type="s" direction="in"/>
   <arg name="property" type="s" direction="in"/><arg name="value" type="v" direction="out"/></method>
  <method name="GetAll"><arg name="interface" type="s" direction="in"/>
   <arg name="properties" type="a{sv}" direction="out"/></method>
  <method name="Set"><arg name="interface" type="s" direction="in"/>
   <arg name="property" type="s" direction="in"/><arg name="value" type="v" direction="in"/></method>
  <signal name="PropertiesChanged"><arg name="interface" type="s"/>
   <arg name="changed" type="a{sv}"/><arg name="invalidated" type="as"/></signal>
 </interface>
 <interface name="org.mpris.MediaPlayer2">
  <method name="Raise"/><method name="Quit"/>
  <property name="CanQuit" type="b" access="read"/>
  <property name="CanRaise" type="b" access="read"/>
  <property name="HasTrackList" type="b" access="read"/>
  <property name="Identity" type="s" access="read"/>
  <property name="SupportedUriSchemes" type="as" access="read"/>
  <property name="SupportedMimeTypes" type="as" access="read"/>
 </interface>
 <interface name="org.mpris.MediaPlayer2.Player">
  <method name="Next"/><method name="Previous"/><method name="Pause"/>
  <method name="PlayPause"/><method name="Stop"/><method name="Play"/>
  <method name="Seek"><arg name="Offset" type="x" direction="in"/></method>
  <method name="SetPosition"><arg name="TrackId" type="o" direction="in"/>
   <arg name="Position" type="x" direction="in"/></method>
  <method name="OpenUri"><arg name="Uri" type="s" direction="in"/></method>
  <signal name="Seeked"><arg name="Position" type="x"/></signal>
  <property name="PlaybackStatus" type="s" access="read"/>
  <property name="Rate" type="d" access="read"/>
  <property name="Metadata" type="a{sv}" access="read"/>
  <property name="Volume" type="d" access="read"/>
  <property name="Position" type="x" access="read"/>
  <property name="MinimumRate" type="d" access="read"/>
  <property name="MaximumRate" type="d" access="read"/>
  <property name="CanGoNext" type="b" access="read"/>
  <property name="CanGoPrevious" type="b" access="read"/>
  <property name="CanPlay" type="b" access="read"/>
  <property name="CanPause" type="b" access="read"/>
  <property name="CanSeek" type="b" access="read"/>
  <property name="CanControl" type="b" access="read"/>
 </interface>
</node>
"""
