"""Loading a routine: a built-in name or a file path -> the validated ``Routine``."""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
from pathlib import Path

from ..errors import RoutineError
from ..text import clip, printable
from .model import Routine
from .nodes import suggest
from .validate import Builder
from .vocabulary import MAX_FILE_BYTES
from .yamlsafe import compose

BUILTIN_DIR = Path(__file__).parent / "builtin"
NAME_MAX = 255  # bytes in one file name, on Linux's file systems (os.pathconf(..., "PC_NAME_MAX"))


def builtin_names() -> list[str]:
    """Names of the built-in routines, e.g. ``back-pain``."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def routine_completions(incomplete: str) -> list[str]:
    """What a shell may complete ``incomplete`` to as a ROUTINE: the built-in names, the
    routine files (``.yaml``, ``.yml``) and the folders (``name/``) it begins."""
    folder, _, start = incomplete.rpartition("/")
    base = Path(folder + "/" if folder else ".")
    try:
        entries = sorted(base.iterdir())
    except OSError:
        entries = []
    found = [name for name in builtin_names() if name.startswith(incomplete)] if not folder else []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start.startswith(".")):
            continue
        shown = f"{folder}/{entry.name}" if folder else entry.name
        with contextlib.suppress(OSError):
            if entry.is_dir():
                found.append(shown + "/")
            elif entry.suffix in (".yaml", ".yml"):
                found.append(shown)
    return found


def resolve(source: str | Path) -> Path:
    """A built-in name or a file path -> the routine file, or a clear error."""
    text = str(source)
    if text in builtin_names():
        return BUILTIN_DIR / f"{text}.yaml"
    path, shown = Path(text), printable(text)
    _check_name_lengths(path)
    if path.is_dir():
        raise RoutineError("is a directory; give a routine file (.yaml)", path=shown)
    if not path.exists():
        raise RoutineError(f"no such file or built-in routine{_missing_hint(path)}", path=shown)
    if not path.is_file():
        raise RoutineError("is not a regular file; give a routine file (.yaml)", path=shown)
    return path


def _check_name_lengths(path: Path) -> None:
    """Refuse a name longer than the file system takes (``NAME_MAX``, 255 bytes on Linux)
    before asking it, which would only say ENAMETOOLONG."""
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            # worded as the CLI words a too long output name
            raise RoutineError(f"the name {clip(part)!r} is too long for the file system ({size} bytes); "
                               "give a shorter one")


def _missing_hint(path: Path) -> str:
    """'; did you mean ...?' from the same name with the other extension (``neck.yml`` for
    ``neck.yaml`` and the reverse, ``neck.yaml`` for ``neck``), the built-in names or the
    files next to ``path``."""
    text = str(path)
    other = _with_other_extension(path)
    if other is not None:
        return f"; did you mean {other!r}?"
    if len(path.parts) == 1:
        hint = suggest(text, builtin_names())
        if hint or text.endswith((".yaml", ".yml")):
            return hint
        return f"; built-in routines: {', '.join(builtin_names())}"
    try:
        neighbours = [p.name for p in path.parent.iterdir() if p.suffix in (".yaml", ".yml")]
    except OSError:
        return ""
    match = difflib.get_close_matches(path.name, neighbours, n=1, cutoff=0.6)
    return f"; did you mean {str(path.parent / match[0])!r}?" if match else ""


def _with_other_extension(path: Path) -> str | None:
    names = {".yaml": (".yml",), ".yml": (".yaml",), "": (".yaml", ".yml")}.get(path.suffix, ())
    try:
        found = [path.with_name(path.name + e if not path.suffix else path.stem + e) for e in names]
        return next((str(p) for p in found if p.is_file()), None)
    except (OSError, ValueError):
        return None


def load_routine(source: str | Path) -> Routine:
    """Load and validate a routine from a built-in name or a YAML file path."""
    path = resolve(source)
    shown = printable(str(source))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise RoutineError(f"cannot be read: {error.strerror}", path=shown) from None
    if len(raw) > MAX_FILE_BYTES:
        raise RoutineError(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
                           "a routine file should be a few kilobytes", path=shown)
    builtin = str(source) in builtin_names()
    display = f"{source} (built-in)" if builtin else shown
    routine = parse_routine(raw, name=display, folder=path.resolve().parent)
    return dataclasses.replace(routine, path=None if builtin else path.resolve())


def parse_routine(raw: bytes | str, *, name: str = "<routine>", folder: Path | None = None) -> Routine:
    """Validate routine text (YAML) and build the frozen ``Routine``; ``RoutineErrors``
    names every error found, in line order (``str``: the first)."""
    node = compose(raw, name)
    if node is None or node.tag == "tag:yaml.org,2002:null" and node.value == "":  # "" or "---"
        raise RoutineError("the routine file is empty; a routine needs at least a title and exercises",
                           path=name)
    return Builder(name, folder).build(node)

