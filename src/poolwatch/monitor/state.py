"""What the monitor remembers between samples, kept beside its log.

The state file holds the sample count, the time of the last sample, each log file's
mark (offset, identity, digests; see ``logfiles``) and each instance's running totals
(the Prometheus counters). It is replaced atomically (written to a temporary file,
synced, renamed), so a monitor killed at any moment leaves the previous state or the
new one. A lock file beside it, held with ``flock`` while a monitor runs (released by
the kernel if it dies), keeps two monitors from sharing one log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from poolwatch.monitor.fallbacks import Fallbacks
from poolwatch.monitor.logfiles import Mark, MarkJson
from poolwatch.monitor.settings import MonitorError

VERSION = 1
#: An instance neither running nor in any log for this long is forgotten.
FORGET_AFTER = 7 * 86400.0


class TotalsJson(TypedDict):
    """An instance's :class:`Totals` in the state file."""

    fallbacks: dict[str, int]
    alerts: dict[str, int]
    last_seen: float


@dataclass
class Totals:
    """An instance's counts since the state was created."""

    fallbacks: Fallbacks = field(default_factory=Fallbacks)
    alerts: dict[str, int] = field(default_factory=dict)
    last_seen: float = 0.0

    def to_json(self) -> TotalsJson:
        """The totals as the state file keeps them."""
        return TotalsJson(fallbacks=self.fallbacks.as_dict(), alerts=dict(self.alerts),
                          last_seen=self.last_seen)  # fmt: skip

    @classmethod
    def from_json(cls, data: TotalsJson) -> Totals:
        """Totals read back from the state file."""
        alerts = {str(rule): int(n) for rule, n in data["alerts"].items()}
        return cls(Fallbacks.from_dict(data["fallbacks"]), alerts, float(data["last_seen"]))


@dataclass
class State:
    """The monitor's memory: samples taken, the last one's time, marks and totals."""

    samples: int = 0
    last_time: float | None = None
    marks: dict[str, Mark] = field(default_factory=dict)
    totals: dict[str, Totals] = field(default_factory=dict)

    def forget_old(self, now: float) -> None:
        """Drop the totals of instances not seen for :data:`FORGET_AFTER` seconds."""
        self.totals = {
            name: totals
            for name, totals in self.totals.items()
            if now - totals.last_seen <= FORGET_AFTER
        }


def load(path: Path) -> State:
    """The state at ``path``; a new one when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State()
    except OSError as err:
        raise MonitorError(f"{path}: cannot read the monitor's state: {err.strerror}") from err
    try:
        return _parse(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise MonitorError(
            f"{path}: not a poolwatch monitor state ({err}); move it away to start over"
        ) from err


def _parse(data: Any) -> State:
    """A state document, checked for its version."""
    version = data["version"]
    if version != VERSION:
        raise ValueError(f"version {version!r}, this poolwatch reads version {VERSION}")
    marks: dict[str, MarkJson] = data["files"]
    totals: dict[str, TotalsJson] = data["totals"]
    return State(
        samples=int(data["samples"]),
        last_time=None if data["last_time"] is None else float(data["last_time"]),
        marks={str(path): Mark.from_json(mark) for path, mark in marks.items()},
        totals={str(name): Totals.from_json(t) for name, t in totals.items()},
    )


def save(path: Path, state: State) -> None:
    """Replace the state at ``path`` atomically (temporary file, fsync, rename)."""
    document = {
        "version": VERSION,
        "samples": state.samples,
        "last_time": state.last_time,
        "files": {name: mark.to_json() for name, mark in state.marks.items()},
        "totals": {name: totals.to_json() for name, totals in state.totals.items()},
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(document, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise MonitorError(f"{path}: cannot write the monitor's state: {err.strerror}") from err


@contextlib.contextmanager
def locked(lock: Path, records: Path) -> Iterator[None]:
    """Hold ``lock`` (flock) for as long as the block runs; refuse when another monitor
    holds it."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise MonitorError(f"{lock}: cannot create the monitor's lock: {err.strerror}") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise MonitorError(
                f"{records}: another poolwatch monitor (pid {holder}) is using it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
