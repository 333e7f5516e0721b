"""A private D-Bus session bus, for the media-button tests and the benchmark.

``SessionBus`` starts its own ``dbus-daemon`` with a minimal session config listening on a
socket in a temporary folder: the user's own session bus is never touched.

    with SessionBus() as bus:
        subprocess.run(["playerctl", "--list-all"], env=bus.env())
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from voicecoach.processes import stop_process

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SessionBus:
    """A running private dbus-daemon; ``address`` once entered. Use as a context manager."""

    def __init__(self):
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None
        self.address = ""

    def __enter__(self) -> "SessionBus":
        if not shutil.which("dbus-daemon"):
            raise RuntimeError("dbus-daemon is needed: apt-get install dbus-daemon")
        self.folder = Path(tempfile.mkdtemp(prefix="voicecoach-dbus-"))
        config = self.folder / "session.conf"
        config.write_text(CONFIG.format(socket=self.folder / "bus"))
        with open(self.folder / "dbus-daemon.log", "wb") as log:  # e.g. "Failed to set fd limit"
            self.process = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork",
                                             "--print-address=1"], stdout=subprocess.PIPE,
                                            stderr=log, stdin=subprocess.DEVNULL, text=True)
        self.address = self.process.stdout.readline().strip()  # printed once it listens
        if not self.address.startswith("unix:"):
            self.stop()
            raise RuntimeError("dbus-daemon did not start")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, base: dict | None = None) -> dict:
        """``base`` (default: this process's environment) aimed at this bus only."""
        return {**(os.environ if base is None else base), "DBUS_SESSION_BUS_ADDRESS": self.address}

    def stop(self) -> None:
        stop_process(self.process)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
