"""Reading the small files that are not logs (a ``poolwatch.toml``, the templates and
assets poolwatch ships): whole, but only from a regular file and never more than a bound,
so that ``/dev/zero``, a FIFO or a huge file is refused instead of read until memory runs out.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from poolwatch.errors import PoolwatchError

KIB = 1024
MIB = 1024 * KIB

#: What a file that is not regular is, by its mode.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


class SmallFileError(PoolwatchError):
    """A small file that cannot be used; the message names it and says why."""


def read_small(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, refused if larger than ``limit``.

    The file is opened without blocking (a FIFO would wait for a writer) and checked on
    the open descriptor, so what is read is what was checked. OSError propagates.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((words for test, words in _KINDS if test(mode)), "not a file")
            raise SmallFileError(f"{path}: not a regular file ({kind})")
        data = _read_at_most(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise SmallFileError(f"{path}: larger than {size_words(limit)}")
    return data


def _read_at_most(fd: int, count: int) -> bytes:
    """Up to ``count`` bytes from ``fd``, fewer only at its end."""
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = os.read(fd, min(left, MIB))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def size_words(limit: int) -> str:
    """``256 KiB``, ``4 MiB``: a bound as people read it."""
    if limit % MIB == 0:
        return f"{limit // MIB} MiB"
    if limit % KIB == 0:
        return f"{limit // KIB} KiB"
    return f"{limit} bytes"
