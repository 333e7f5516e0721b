"""User directories. Every path we write outside the user's own output comes from here.

Each honours an environment variable so tests (and careful users) can point it elsewhere:
``VOICECOACH_CACHE_DIR``, ``VOICECOACH_STATE_DIR``, ``VOICECOACH_DATA_DIR`` and
``VOICECOACH_CONFIG_DIR``. Otherwise the XDG defaults apply. Folders we write are created
private to the user (mode 0700); the config folder is only read, never created.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserDirUnavailable


def _user_dir(env_var: str, xdg_var: str, fallback: str, create: bool = True) -> Path:
    """The folder (created unless ``create`` is false), or ``UserDirUnavailable`` saying why
    not and which variable moves it."""
    explicit = os.environ.get(env_var)
    moved_by = env_var if explicit else xdg_var
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get(xdg_var)
        try:
            base = base or str(Path.home() / fallback)
        except RuntimeError:  # HOME unset and no passwd entry
            raise UserDirUnavailable(f"cannot find the home folder; set {moved_by} to a folder "
                                     "you can write") from None
        path = Path(base) / "voicecoach"
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:  # a file in the way, a read-only or missing HOME
            raise UserDirUnavailable(f"cannot create the folder {path} ({error.strerror or error}: "
                                     f"{error.filename or path}); set {moved_by} to a folder you "
                                     "can write") from None
    return path


def cache_dir() -> Path:
    """Where synthesized speech is cached (``$VOICECOACH_CACHE_DIR``)."""
    return _user_dir("VOICECOACH_CACHE_DIR", "XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    """Where session state for ``play --resume`` is kept (``$VOICECOACH_STATE_DIR``)."""
    return _user_dir("VOICECOACH_STATE_DIR", "XDG_STATE_HOME", ".local/state")


def data_dir(create: bool = True) -> Path:
    """Where the session history is kept (``$VOICECOACH_DATA_DIR``): the user's own data,
    never cleaned like a cache. ``create=False`` only to read: nothing is made."""
    return _user_dir("VOICECOACH_DATA_DIR", "XDG_DATA_HOME", ".local/share", create)


def config_file() -> Path:
    """The user's settings, ``config.yaml`` in ``$VOICECOACH_CONFIG_DIR`` (else
    ``$XDG_CONFIG_HOME/voicecoach``); it may not exist."""
    return _user_dir("VOICECOACH_CONFIG_DIR", "XDG_CONFIG_HOME", ".config", create=False) / "config.yaml"
