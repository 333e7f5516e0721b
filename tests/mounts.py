"""Real read-only folders and full disks for tests, in a private mount namespace.

As root (CI, a fresh Debian root) a test cannot make a folder read-only with chmod: root
writes anyway. Mounts made inside ``unshare -m`` are real to the commands run there (EROFS,
ENOSPC from the kernel) and vanish with them, so nothing is left mounted, even after a crash.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest


def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


def read_only(folder: Path) -> str:
    """Shell lines making ``folder`` a read-only bind mount of itself."""
    q = shlex.quote(str(folder))
    return f"mount --bind {q} {q} && mount -o remount,ro,bind {q} {q}"


def full_disk(folder: Path, size_kb: int = 256) -> str:
    """Shell lines putting a ``size_kb`` tmpfs on ``folder`` (its files copied in first),
    then filling it to the last byte."""
    q, keep = shlex.quote(str(folder)), shlex.quote(str(folder) + ".keep")
    return (f"cp -a {q} {keep} && mount -t tmpfs -o size={size_kb}k,mode=0700 tmpfs {q} && "
            f"cp -a {keep}/. {q}/ && {{ cat /dev/zero > {q}/filler 2>/dev/null; true; }}")


def run_mounted(setup: str, command: list[str], env: dict, timeout: float = 60
                ) -> subprocess.CompletedProcess:
    """``command`` in a private mount namespace after the shell lines ``setup``."""
    if not can_mount():
        pytest.skip("needs root and unshare for a private mount")
    return subprocess.run(["unshare", "-m", "sh", "-c", f"{setup} && exec \"$@\"", "sh", *command],
                          env=env, capture_output=True, text=True, timeout=timeout)
