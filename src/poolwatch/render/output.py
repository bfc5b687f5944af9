"""Writing outputs safely: through temporary files renamed into place, never over an input."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from poolwatch.errors import PoolwatchError
from poolwatch.ingest.discover import discover
from poolwatch.ingest.own import is_own_file


class OutputError(PoolwatchError):
    """The output path cannot be used; the message says why."""


def refuse_inputs(targets: Sequence[Path], given: Sequence[str]) -> None:
    """Refuse to write over any file the inputs stand for (given, found in a directory or
    matched by a glob), recognised as the same file by device and inode: a hard link or
    another spelling of the path is the same input. poolwatch's own earlier outputs are
    not logs: a report rewritten where it was written is no input overwritten (a PDF is
    poolwatch's when its folder holds poolwatch's text outputs)."""
    inputs: dict[tuple[int, int], str] = {}
    for source in discover(given).sources:
        if source.path is not None:
            with contextlib.suppress(OSError):
                inputs.setdefault(_identity(source.path), source.name)
    for target in targets:
        try:
            key = _identity(target)
        except OSError:
            continue  # nothing there yet
        if key in inputs and not is_own_file(target):
            named = "" if inputs[key] == str(target) else f" ({inputs[key]})"
            raise OutputError(f"--out {target}: is one of the inputs{named}; refusing to "
                              "overwrite it")  # fmt: skip


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file beside ``target``, then rename it into place,
    so that a crash or a concurrent reader never sees half a file."""
    write_set({target: write})


def write_set(files: Mapping[Path, Callable[[Path], object]]) -> None:
    """Write each file of a set to a temporary beside its target, and rename them into
    place only once all are written: a failure or a kill while they are made leaves the
    previous set whole, never a new file beside old ones."""
    staged: dict[Path, Path] = {}
    try:
        for target, write in files.items():
            staged[target] = _staged(target, write)
        for target, temp in staged.items():
            temp.replace(target)
    except OSError as err:
        where = err.filename if err.filename is not None else next(iter(files))
        raise OutputError(f"cannot write {os.fsdecode(where)}: "
                          f"{(err.strerror or str(err)).lower()}") from err  # fmt: skip
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)


def _staged(target: Path, write: Callable[[Path], object]) -> Path:
    """``target``'s content written by ``write`` to a temporary file in its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        temp.chmod(0o644)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def write_text(target: Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    write_atomic(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_bytes(target: Path, data: bytes) -> None:
    """Write a binary file atomically."""
    write_atomic(target, lambda temp: temp.write_bytes(data))
