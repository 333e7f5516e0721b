"""User directories. Every path we write outside the user's own output comes from here.

Each honours an environment variable so tests (and careful users) can point it elsewhere:
``VOICECOACH_CACHE_DIR`` and ``VOICECOACH_STATE_DIR``. Otherwise the XDG defaults apply.
Folders are created private to the user (mode 0700).
"""

from __future__ import annotations

import os
from pathlib import Path


def _user_dir(env_var: str, xdg_var: str, fallback: str) -> Path:
    explicit = os.environ.get(env_var)
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get(xdg_var) or str(Path.home() / fallback)
        path = Path(base) / "voicecoach"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def cache_dir() -> Path:
    """Where synthesized speech is cached (``$VOICECOACH_CACHE_DIR``)."""
    return _user_dir("VOICECOACH_CACHE_DIR", "XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    """Where session state for ``play --resume`` is kept (``$VOICECOACH_STATE_DIR``)."""
    return _user_dir("VOICECOACH_STATE_DIR", "XDG_STATE_HOME", ".local/state")
