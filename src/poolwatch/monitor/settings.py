"""The monitor's options, checked once before the first sample, and where its files go.

Every mistake a user can make here (an interval that is not a number of seconds, a
``--log`` in a directory that cannot be written, a ``--textfile`` the textfile collector
would not read, an ``--on-alert`` command that does not exist) is a :class:`MonitorError`
whose message is one line naming the option.
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from poolwatch.config import MONITOR_INTERVAL
from poolwatch.errors import PoolwatchError

#: The interval's bounds, in seconds: short enough for tests, at most a day.
SHORTEST_INTERVAL = 0.1
LONGEST_INTERVAL = 86400.0
#: The run logs the guide's script reads, in the working directory.
DEFAULT_LOGS = ("tmp_batt_*_run.log",)
DEFAULT_INTERVAL = MONITOR_INTERVAL
DEFAULT_LOG = Path("poolwatch-monitor.jsonl")
DEFAULT_SYSLOG = "/dev/log"


class MonitorError(PoolwatchError):
    """The monitor cannot start or go on: the message names the option or file."""


class MonitorUsageError(MonitorError):
    """An option's value cannot be used (exit 2, as click's usage errors)."""

    exit_code = 2


@dataclass(frozen=True)
class Files:
    """Where the monitor writes, all beside ``--log``."""

    records: Path
    """The JSON records, one a line (``--log``)."""
    human: Path
    """The same samples in the guide's human format."""
    state: Path
    """Offsets, fingerprints and totals, so that ``--once`` under cron goes on."""
    lock: Path
    """Held while a monitor uses these files: two monitors never share them."""

    @classmethod
    def beside(cls, log: Path) -> Files:
        """``x.jsonl`` gives ``x.log``, ``x.state.json`` and ``x.lock`` beside it."""
        stem = log.name.removesuffix(".jsonl")
        return cls(
            records=log,
            human=log.with_name(f"{stem}.log"),
            state=log.with_name(f"{stem}.state.json"),
            lock=log.with_name(f"{stem}.lock"),
        )


@dataclass(frozen=True)
class Options:
    """What ``poolwatch monitor`` was asked to do, checked."""

    files: Files
    patterns: tuple[str, ...] = DEFAULT_LOGS
    interval: float = DEFAULT_INTERVAL
    once: bool = False
    textfile: Path | None = None
    syslog: str | None = None
    """The syslog socket to send alerts to (``--syslog``), or None."""
    on_alert: tuple[str, ...] = field(default_factory=tuple)
    """The ``--on-alert`` command as argv (never run through a shell), or empty."""


def parse_interval(text: str) -> float:
    """``--interval``: seconds, a finite number from 0.1 to 86400."""
    try:
        seconds = float(text)
    except ValueError:
        raise MonitorUsageError(
            f"--interval: not a number of seconds: {text!r} (e.g. 60)"
        ) from None
    if not math.isfinite(seconds) or not SHORTEST_INTERVAL <= seconds <= LONGEST_INTERVAL:
        raise MonitorUsageError(
            f"--interval: {text!r} is out of range (from {SHORTEST_INTERVAL:g} to "
            f"{LONGEST_INTERVAL:g} seconds)"
        )
    return seconds


def parse_command(text: str) -> tuple[str, ...]:
    """``--on-alert``: split as a shell would split it, but never run by one; the
    program must exist."""
    try:
        argv = tuple(shlex.split(text))
    except ValueError as err:
        raise MonitorUsageError(f"--on-alert: cannot split {text!r}: {err}") from None
    if not argv:
        raise MonitorUsageError("--on-alert: the command is empty")
    if shutil.which(argv[0]) is None:
        raise MonitorUsageError(f"--on-alert: {argv[0]}: no such program (or not executable)")
    return argv


def check_log(log: Path) -> Files:
    """The files beside ``--log``, refused when its directory cannot hold them."""
    if not log.name or log.name.endswith((".log", ".state.json", ".lock")):
        raise MonitorUsageError(
            f"--log: {log}: give a file name such as poolwatch-monitor.jsonl (the human log, "
            "the state and the lock take .log, .state.json and .lock beside it)"
        )
    folder = log.parent
    if not folder.is_dir():
        raise MonitorError(f"--log: {folder}: no such directory")
    if log.is_dir():
        raise MonitorError(f"--log: {log} is a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MonitorError(f"--log: {folder}: cannot write there (permission denied)")
    return Files.beside(log)


def check_textfile(path: Path) -> Path:
    """``--textfile``: a ``.prom`` file in a directory that can be written."""
    if path.suffix != ".prom":
        raise MonitorUsageError(
            f"--textfile: {path}: the name must end in .prom (node_exporter's textfile "
            "collector reads only *.prom)"
        )
    if not path.parent.is_dir():
        raise MonitorError(f"--textfile: {path.parent}: no such directory")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise MonitorError(f"--textfile: {path.parent}: cannot write there (permission denied)")
    return path


def check_syslog(address: str) -> str:
    """``--syslog``: the socket must exist (it is opened at start, and a refusal is
    reported then)."""
    if not Path(address).exists():
        raise MonitorError(
            f"--syslog: {address} does not exist (no syslog daemon or journald socket on "
            "this host; --syslog-socket names another)"
        )
    return address
