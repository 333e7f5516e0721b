"""User directories. Every path we write outside the user's own output comes from here.

Each honours an environment variable so tests (and careful users) can point it elsewhere:
``VOICECOACH_CACHE_DIR``, ``VOICECOACH_STATE_DIR``, ``VOICECOACH_DATA_DIR`` and
``VOICECOACH_CONFIG_DIR``. Otherwise the XDG defaults apply. Folders we write are created
private to the user (mode 0700); the config folder is only read, never created.
"""

from __future__ import annotations

import os
from pathlib import Path


def _user_dir(env_var: str, xdg_var: str, fallback: str, create: bool = True) -> Path:
    explicit = os.environ.get(env_var)
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get(xdg_var) or str(Path.home() / fallback)
        path = Path(base) / "voicecoach"
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def cache_dir() -> Path:
    """Where synthesized speech is cached (``$VOICECOACH_CACHE_DIR``)."""
    return _user_dir("VOICECOACH_CACHE_DIR", "XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    """Where session state for ``play --resume`` is kept (``$VOICECOACH_STATE_DIR``)."""
    return _user_dir("VOICECOACH_STATE_DIR", "XDG_STATE_HOME", ".local/state")


def data_dir() -> Path:
    """Where the session history is kept (``$VOICECOACH_DATA_DIR``): the user's own data,
    never cleaned like a cache."""
    return _user_dir("VOICECOACH_DATA_DIR", "XDG_DATA_HOME", ".local/share")


def config_file() -> Path:
    """The user's settings, ``config.yaml`` in ``$VOICECOACH_CONFIG_DIR`` (else
    ``$XDG_CONFIG_HOME/voicecoach``); it may not exist."""
    return _user_dir("VOICECOACH_CONFIG_DIR", "XDG_CONFIG_HOME", ".config", create=False) / "config.yaml"
