"""The ground truth of a simulation: each run's, each snapshot file's, and the whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class RunTruth:
    """Ground truth of one simulated run, for checking a parser against what was written.

    ``exited``: ended by one of run_batt.py's out-of-memory exits, without a closing line.
    ``stuck_task``: the task id a hung run stopped in; ``silent``: it hung without a word
    (no thread-exhaustion line).  ``version`` is the run_batt.py it ran ("first" or "later")
    with that version's limits: ``timeout_seconds`` (None: no limit) and ``overload_above``
    (the thread count it reports overload above).  ``stderr_lines``: its lines that only
    the console shows (tracebacks, warnings, timeout's message), never the run log.
    ``host``: the host whose directory holds its files (``""``: a corpus of one host).
    """

    instance: str
    run: int
    console: str
    started_at: datetime
    seconds: float
    path: str
    tasks: int
    overloads: int
    processpool_failed: int
    threadpool_failed: int
    parallel_failed: int
    sample_timeouts: int
    sample_failures: int
    killed: bool
    hang: bool
    incomplete: bool
    max_threads: int | None
    exited: bool
    stuck_task: str | None
    silent: bool
    version: str
    timeout_seconds: int | None
    overload_above: int
    stderr_lines: int
    host: str = ""


@dataclass(frozen=True)
class SnapshotTruth:
    """Ground truth of one pasted thread-snapshot file: whose threads, when, how many.

    ``style`` is "active" (a loop of ``date`` and ``Active threads: <n>``) or "nlwp"
    (``$ date; ps -o nlwp <PID>`` blocks); ``leak`` marks the instance whose count climbs.
    """

    instance: str
    file: str
    style: str
    taken_at: tuple[datetime, ...]
    threads: tuple[int, ...]
    leak: bool
    host: str = ""


@dataclass(frozen=True)
class SimulationResult:
    """Files written by one simulation, their total size and line count, every run, the
    thread snapshots if any were pasted, and the instances (``tmp_batt_<id>``, in order;
    a host's, after its name, in a corpus of several hosts)."""

    files: tuple[Path, ...]
    bytes: int
    lines: int
    runs: tuple[RunTruth, ...]
    snapshots: tuple[SnapshotTruth, ...] = ()
    instances: tuple[tuple[str, str], ...] = ()
    """(host, instance) of every instance, host by host (host ``""``: one host)."""
