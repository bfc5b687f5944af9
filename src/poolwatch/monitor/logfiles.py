"""Reading run logs and run_card.sh consoles from where the previous sample left them.

Each file is read from its remembered offset to its last complete line (a line still
being written waits for the next sample). A file starts again at 0 when it is not the
file it was (another inode: ``replaced``), when it is shorter than the offset
(``truncated``: tee starting a new run), or when its first bytes, or the bytes just
before the offset, are no longer the ones read (``rewritten``: truncated and grown
past the offset between two samples). A file never seen before is read from the start
of its latest run: a run log (``tmp_batt_<id>_run.log``, which holds one run) from 0, a
console from its last ``Running:`` line (looked for in its last 16 MiB; without one,
from its end).

A run log's lines belong to the instance its name gives; a console's to the instance
named by the ``-b tmp_batt_<id>_run`` of the latest ``Running:`` line above them (the
one remembered from the previous sample for lines above the first new one).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TypedDict, cast

from poolwatch.monitor.fallbacks import Fallbacks, count

Kind = Literal["run_log", "console"]
Reset = Literal["new", "replaced", "truncated", "rewritten"]

#: A run log's name gives its instance (``tmp_batt_Xa3k9Q_run.log``: ``tmp_batt_Xa3k9Q``).
RUN_LOG_NAME = re.compile(r"^(tmp_batt_[A-Za-z0-9]+?)_run\.log$")
#: A console's ``Running:`` line, and the instance its ``-b`` names.
RUNNING = re.compile(rb"^Running: [^\n]*", re.MULTILINE)
RUNNING_INSTANCE = re.compile(rb"-b +(?:\S*/)?(tmp_batt_\w+?)(?:_run)?(?:\s|$)")

HEAD = 1024
"""Bytes at the start of a file whose digest tells a rewritten file."""
TAIL = 256
"""Bytes before the offset whose digest tells a rewritten file."""
BLOCK = 1 << 20
"""Bytes read at a time."""
LONGEST_LINE = 1 << 20
"""A line without an end longer than this is taken as it is, not waited for."""
LOOK_BACK = 16 << 20
"""How far back from its end a console never seen is searched for a ``Running:`` line."""

_RUNNING_AT = b"\nRunning: "


class MarkJson(TypedDict):
    """A :class:`Mark` in the state file."""

    dev: int
    ino: int
    offset: int
    head: str
    tail: str
    instance: str | None


@dataclass(frozen=True)
class Mark:
    """Where a file was left: its identity, the offset, digests of what was read."""

    dev: int
    ino: int
    offset: int
    head: str
    tail: str
    instance: str | None
    """A console's instance at the offset (a run log's, from its name)."""

    def to_json(self) -> MarkJson:
        """The mark as the state file keeps it."""
        return cast(MarkJson, asdict(self))

    @classmethod
    def from_json(cls, data: MarkJson) -> Mark:
        """A mark read back from the state file."""
        return cls(int(data["dev"]), int(data["ino"]), int(data["offset"]), str(data["head"]),
                   str(data["tail"]), data["instance"])  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """Lines of one instance read from one file, and the fallbacks among them."""

    instance: str | None
    fallbacks: Fallbacks


@dataclass(frozen=True)
class Reading:
    """What one file gave in one sample."""

    path: str
    kind: Kind
    instance: str | None
    """The file's instance after this reading (a console's latest ``Running:``)."""
    start: int
    end: int
    reset: Reset | None
    lines: int
    segments: tuple[Segment, ...]
    mark: Mark

    @property
    def fallbacks(self) -> Fallbacks:
        """The fallbacks of every segment of the file."""
        return sum((s.fallbacks for s in self.segments), Fallbacks())


def kind_of(path: str) -> tuple[Kind, str | None]:
    """A run log and the instance its name gives, or a console (instance from its lines)."""
    named = RUN_LOG_NAME.match(Path(path).name)
    return ("run_log", named.group(1)) if named else ("console", None)


def expand(
    patterns: Sequence[str], exclude: Iterable[tuple[int, int]] = ()
) -> tuple[list[str], list[str]]:
    """The regular files the globs match (absolute, each file once, by device and inode,
    and none of ``exclude``), and the patterns that matched no file."""
    skip = set(exclude)
    seen: set[tuple[int, int]] = set()
    files: list[str] = []
    unmatched: list[str] = []
    for pattern in patterns:
        hit = False
        # glob.glob, not Path.glob: a pattern may be absolute, or start with ~.
        found = glob.glob(str(Path(pattern).expanduser()), recursive=True)  # noqa: PTH207
        for match in sorted(found):
            try:
                info = Path(match).stat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            hit = True
            key = (info.st_dev, info.st_ino)
            if key not in seen and key not in skip:
                seen.add(key)
                files.append(str(Path(match).absolute()))
        if not hit:
            unmatched.append(pattern)
    return files, unmatched


def read(path: str, mark: Mark | None) -> Reading:
    """The lines ``path`` gained since ``mark`` (OSError when it cannot be read)."""
    kind, named = kind_of(path)
    with Path(path).open("rb") as handle:
        fd = handle.fileno()
        info = os.fstat(fd)
        start, reset = _start(fd, info, mark, kind)
        instance = named if kind == "run_log" else (mark.instance if mark else None)
        reader = _Lines(kind, instance)
        end = reader.read(fd, start, info.st_size)
        head, tail = _digests(fd, end)
    mark = Mark(info.st_dev, info.st_ino, end, head, tail, reader.instance)
    return Reading(path, kind, reader.instance, start, end, reset, reader.lines,
                   reader.segments(), mark)  # fmt: skip


def _start(
    fd: int, info: os.stat_result, mark: Mark | None, kind: Kind
) -> tuple[int, Reset | None]:
    """Where to read from, and why it is not the remembered offset."""
    if mark is None:
        return (0 if kind == "run_log" else _latest_run(fd, info.st_size)), "new"
    if (info.st_dev, info.st_ino) != (mark.dev, mark.ino):
        return 0, "replaced"
    if info.st_size < mark.offset:
        return 0, "truncated"
    if _digests(fd, mark.offset) != (mark.head, mark.tail):
        return 0, "rewritten"
    return mark.offset, None


def _digests(fd: int, offset: int) -> tuple[str, str]:
    """Digests of the file's first bytes and of the bytes just before ``offset``."""
    head = os.pread(fd, min(offset, HEAD), 0)
    back = min(offset, TAIL)
    tail = os.pread(fd, back, offset - back)
    return _digest(head), _digest(tail)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _latest_run(fd: int, size: int) -> int:
    """The start of a console's last ``Running:`` line, else of the line after its
    last complete one (what is already there is not read)."""
    end, after, lowest = size, b"", max(0, size - LOOK_BACK)
    last_newline = -1
    while end > lowest:
        begin = max(lowest, end - BLOCK)
        block = os.pread(fd, end - begin, begin) + after
        found = block.rfind(_RUNNING_AT)
        if found >= 0:
            return begin + found + 1
        if begin == 0 and block.startswith(_RUNNING_AT[1:]):
            return 0
        if last_newline < 0 and (newline := block.rfind(b"\n")) >= 0:
            last_newline = begin + newline
        after, end = block[: len(_RUNNING_AT) - 1], begin
    return last_newline + 1 if last_newline >= 0 else size


class _Lines:
    """Whole lines read from an offset, split by instance and counted."""

    def __init__(self, kind: Kind, instance: str | None) -> None:
        self.kind = kind
        self.instance = instance
        self.lines = 0
        self._counts: dict[str | None, Fallbacks] = {}

    def read(self, fd: int, start: int, size: int) -> int:
        """Read ``start``..``size`` and return the offset after the last whole line."""
        pos, carry = start, b""
        while pos < size:
            block = os.pread(fd, min(BLOCK, size - pos), pos)
            if not block:  # truncated while being read: the next sample sees it
                break
            pos += len(block)
            data = carry + block
            cut = data.rfind(b"\n") + 1
            whole, carry = data[:cut], data[cut:]
            if len(carry) > LONGEST_LINE:
                whole, carry = data, b""
            self._take(whole)
        return pos - len(carry)

    def _take(self, whole: bytes) -> None:
        """Count whole lines, each for the instance of the ``Running:`` line above it."""
        if not whole:
            return
        self.lines += whole.count(b"\n") + (not whole.endswith(b"\n"))
        at = 0
        if self.kind == "console":
            for running in RUNNING.finditer(whole):
                self._add(whole[at : running.start()])
                named = RUNNING_INSTANCE.search(running.group())
                if named:
                    self.instance = named.group(1).decode("ascii")
                at = running.start()
        self._add(whole[at:])

    def _add(self, lines: bytes) -> None:
        if lines:
            before = self._counts.get(self.instance, Fallbacks())
            self._counts[self.instance] = before + count(lines)

    def segments(self) -> tuple[Segment, ...]:
        """The counts of each instance, in the order the instances appeared."""
        return tuple(Segment(instance, counts) for instance, counts in self._counts.items())
