"""Writing outputs safely: through a temporary file renamed into place, never over an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from poolwatch.errors import PoolwatchError


class OutputError(PoolwatchError):
    """The output path cannot be used; the message says why."""


def refuse_inputs(targets: Sequence[Path], given: Sequence[str]) -> None:
    """Refuse to write over a file the user gave as input."""
    inputs = {Path(p).resolve() for p in given if p != "-" and Path(p).is_file()}
    for target in targets:
        if target.resolve() in inputs:
            raise OutputError(f"--out {target}: is one of the inputs; refusing to overwrite it")


def write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file beside ``target``, then rename it into place,
    so that a crash or a concurrent reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temp))
        Path(temp).chmod(0o644)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    write_atomic(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_bytes(target: Path, data: bytes) -> None:
    """Write a binary file atomically."""
    write_atomic(target, lambda temp: temp.write_bytes(data))
