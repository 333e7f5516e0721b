"""D-Bus plumbing for publishing one object on the session bus: owning a name, answering
method calls, the standard Properties, Peer and Introspectable interfaces, and signals.
It knows nothing of MPRIS (``mpris`` does).

jeepney is imported lazily, here and in ``mpris`` only: it is pure Python (no libdbus, no
GLib main loop), and its threading connection can send from the player's thread while
our own daemon thread receives.
"""

from __future__ import annotations

from typing import Callable

PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
FAILED = "org.freedesktop.DBus.Error.Failed"

_DO_NOT_QUEUE = 4                         # RequestName flag: fail rather than wait in line
_PRIMARY_OWNER, _ALREADY_OWNER = 1, 4     # RequestName replies that mean the name is ours

DOCTYPE = ('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" '
           '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n')

# (interface or None, member, arguments, object path) -> (reply signature or None, reply body)
Call = Callable[[str | None, str, tuple, str], tuple[str | None, tuple]]
# an interface -> its properties, name -> (signature, value)
Table = Callable[[str], dict]
# (interface, member) -> the signature of the arguments it takes
Signatures = dict[tuple[str, str], str]


class DBusError(Exception):
    """Answered to the caller as the D-Bus error ``name`` with ``text``."""

    def __init__(self, name: str, text: str):
        super().__init__(text)
        self.name, self.text = name, text


def own_name(connection, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` the bus gives us (not waiting in line for one that is taken);
    None when all are taken."""
    from jeepney import message_bus
    from jeepney.io.threading import DBusRouter
    with DBusRouter(connection) as router:  # replies are matched by the router, then it is let go
        for name in names:
            reply = router.send_and_get_reply(
                message_bus.RequestName(name, _DO_NOT_QUEUE), timeout=2.0)
            if reply.body and reply.body[0] in (_PRIMARY_OWNER, _ALREADY_OWNER):
                return name
    return None


def serve(connection, object_path: str, call: Call, signatures: Signatures | None = None) -> None:
    """Answer method calls to ``object_path`` with ``call`` until the connection closes (run
    it in its own thread). ``call`` raises ``DBusError`` to answer with an error. A call
    whose arguments are not those of ``signatures`` is answered InvalidArgs before ``call``
    sees it; anything else going wrong in ``call`` is answered Failed: whatever a client
    sends, it gets a reply and the object goes on answering."""
    from jeepney.io.threading import ReceiveStopped
    from jeepney.low_level import MessageType
    while True:
        try:
            message = connection.receive()
        except (ReceiveStopped, OSError, ValueError):
            return  # closed, or the bus went away: the object is gone, the rest goes on
        if message.header.message_type == MessageType.method_call:
            try:
                _answer(connection, message, object_path, call, signatures or {})
            except OSError:
                return


def _answer(connection, message, object_path: str, call: Call, signatures: Signatures) -> None:
    from jeepney import new_error
    from jeepney.low_level import HeaderFields, MessageFlag
    fields = message.header.fields
    path = fields.get(HeaderFields.path)
    interface = fields.get(HeaderFields.interface)
    member = fields.get(HeaderFields.member)
    parent = object_path.startswith(path.rstrip("/") + "/") if path else False
    if path != object_path and not (interface == PEER or (member == "Introspect" and parent)):
        reply = new_error(message, "org.freedesktop.DBus.Error.UnknownObject", "s",
                          (f"no object at {path}",))
    else:
        reply = _reply(message, interface, member, path, call, signatures)
    if not message.header.flags & MessageFlag.no_reply_expected:
        connection.send(reply)


def _reply(message, interface: str | None, member: str, path: str, call: Call,
           signatures: Signatures):
    from jeepney import new_error, new_method_return
    from jeepney.low_level import HeaderFields
    try:
        check_arguments(signatures, interface, member, message.header.fields.get(HeaderFields.signature, ""))
        signature, body = call(interface, member, message.body, path)
        return new_method_return(message, signature, body)
    except DBusError as error:
        return new_error(message, error.name, "s", (error.text,))
    except Exception as error:  # a fault of ours must cost this call only, not the buttons
        return new_error(message, FAILED, "s", (f"{member} failed: {type(error).__name__}",))


def in_signatures(interfaces_xml: str) -> Signatures:
    """The arguments each method of ``interfaces_xml`` (introspection XML) takes, as
    (interface, member) -> signature: the one description of what a call may carry."""
    import xml.etree.ElementTree as ElementTree
    signatures = {}
    for interface in ElementTree.fromstring(interfaces_xml).iter("interface"):
        for method in interface.iter("method"):
            args = [arg.get("type", "") for arg in method.iter("arg") if arg.get("direction", "in") == "in"]
            signatures[interface.get("name"), method.get("name")] = "".join(args)
    return signatures


def check_arguments(signatures: Signatures, interface: str | None, member: str, signature: str) -> None:
    """Raise InvalidArgs when ``signature`` is not what the method takes (a method without
    an interface is looked up by name alone, as D-Bus allows; unknown ones are left to the
    object, which answers UnknownMethod)."""
    if interface is not None:
        expected = {signatures[interface, member]} if (interface, member) in signatures else set()
    else:
        expected = {s for (_, name), s in signatures.items() if name == member}
    if expected and signature not in expected:
        wanted = " or ".join(f"({s})" for s in sorted(expected))
        raise DBusError(INVALID_ARGS, f"{member} takes {wanted}, got ({signature})")


def standard_call(interface: str | None, member: str, args: tuple, table: Table
                  ) -> tuple[str | None, tuple] | None:
    """The answer of the Peer and Properties interfaces, or None for a call to neither.
    (Introspect is the object's own: see ``introspection``.)"""
    if interface == PEER or (interface is None and member in ("Ping", "GetMachineId")):
        if member == "Ping":
            return None, ()
        raise DBusError(UNKNOWN_METHOD, f"no method {member}")
    if interface == PROPERTIES or (interface is None and member in ("Get", "GetAll", "Set")):
        return _properties(member, args, table)
    return None


def _properties(member: str, args: tuple, table: Table) -> tuple[str, tuple]:
    interface = args[0] if args else ""
    properties = table(interface)
    if member == "GetAll":
        return "a{sv}", (properties,)
    if member == "Get" and len(args) >= 2:
        if args[1] not in properties:
            raise DBusError("org.freedesktop.DBus.Error.UnknownProperty",
                            f"no property {args[1]} on {interface}")
        return "v", (properties[args[1]],)
    if member == "Set":
        raise DBusError("org.freedesktop.DBus.Error.PropertyReadOnly",
                        "voicecoach's properties are read-only")
    raise DBusError(INVALID_ARGS, f"bad arguments to {member}")


def introspection(path: str, object_path: str, interfaces_xml: str) -> str:
    """What Introspect answers at ``path``: ``interfaces_xml`` at our object, and at each of
    its parents the next node down, so tools can walk down to it."""
    if path != object_path:
        child = object_path[len(path.rstrip("/")) + 1:].split("/")[0]
        return f'{DOCTYPE}<node><node name="{child}"/></node>'
    return DOCTYPE + interfaces_xml


def emit_properties_changed(connection, object_path: str, interface: str, changed: dict) -> None:
    """Tell listeners that ``changed`` (name -> (signature, value)) properties changed;
    nothing if the bus went away."""
    from jeepney import DBusAddress, new_signal
    emitter = DBusAddress(object_path, interface=PROPERTIES)
    signal = new_signal(emitter, "PropertiesChanged", "sa{sv}as", (interface, changed, []))
    try:
        connection.send(signal)
    except OSError:
        pass
