"""The run_batt.py processes running now, and the host around them (psutil).

A run_batt.py process is a Python interpreter whose script is ``run_batt.py``: the
``timeout 600s python -u run_batt.py ...`` wrapper that starts it names the script too
but is not one. Its instance is the ``-b tmp_batt_<id>_run`` of its command line
(``tmp_batt_<id>``). A ProcessPool worker forked by a run has the same command line: it
is a ``worker`` (its parent is a run_batt.py process of the same instance), and only the
others are runs in progress. A process that ends, or becomes unreadable, while it is
being sampled is left out and counted (``skipped``); it is never an error.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import psutil

#: An interpreter's name (``python``, ``python3``, ``python3.11``, ``pypy3``).
_PYTHON = re.compile(r"(?:python|pypy)[0-9.]*")
#: Interpreter options that take the next argument as their value.
_WITH_VALUE = frozenset({"-W", "-X", "-Q"})
#: ``-b tmp_batt_<id>_run`` (a path in front is allowed) gives ``tmp_batt_<id>``.
_BATT = re.compile(r"(?:.*/)?(.+?)(?:_run)?")

#: What is read of every process in one pass (psutil's ``ppid`` costs a check of the
#: process's identity: it is read of run_batt.py processes only).
_ATTRS = ["cmdline", "num_threads"]
_GONE = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)


@dataclass(frozen=True)
class Process:
    """One run_batt.py process."""

    pid: int
    ppid: int
    instance: str | None
    threads: int
    """Its thread count, as ``ps -o nlwp`` shows it."""
    rss: int
    """Resident memory, bytes."""
    age: float
    """Seconds since it started."""
    worker: bool = False


@dataclass(frozen=True)
class Host:
    """The host's figures at the sample."""

    threads: int
    """Threads of every process (``ps -eLf | wc -l`` prints this plus its header)."""
    processes: int
    memory_available: int
    memory_total: int
    load: tuple[float, float, float]
    cpus: int


@dataclass(frozen=True)
class Census:
    """The run_batt.py processes and the host, sampled together."""

    processes: tuple[Process, ...]
    host: Host
    skipped: int
    """run_batt.py processes that ended or could not be read during the sample."""

    @property
    def runs(self) -> tuple[Process, ...]:
        """The runs in progress: run_batt.py processes that are not workers."""
        return tuple(p for p in self.processes if not p.worker)


def _name(path: str) -> str:
    """A path's last component (a string method: this runs for every process)."""
    return path.rpartition("/")[2]


def instance_of(cmdline: Sequence[str]) -> tuple[bool, str | None]:
    """Whether the command line is a run_batt.py process, and the instance its ``-b``
    names (None without one)."""
    if not cmdline or not _PYTHON.fullmatch(_name(cmdline[0])):
        return False, None
    args = iter(cmdline[1:])
    script = None
    for arg in args:
        if arg in ("-c", "-m"):
            return False, None
        if arg in _WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            script = arg
            break
    if script is None or _name(script) != "run_batt.py":
        return False, None
    rest = list(args)
    for flag, value in itertools.pairwise(rest):
        if flag == "-b":
            named = _BATT.fullmatch(value)
            return True, named.group(1) if named else value
    return True, None


def census(now: float | None = None) -> Census:
    """Every run_batt.py process and the host's threads, memory and load, in one pass
    over the process table."""
    now = time.time() if now is None else now
    threads = count = skipped = 0
    found: list[Process] = []
    for proc in psutil.process_iter(_ATTRS, ad_value=None):
        info = proc.info
        count += 1
        threads += info["num_threads"] or 0
        batt, instance = instance_of(info["cmdline"] or ())
        if not batt:
            continue
        described = describe(proc, instance, now)
        if described is None:
            skipped += 1
        else:
            found.append(described)
    return Census(_mark_workers(found), _host(threads, count), skipped)


def describe(proc: psutil.Process, instance: str | None, now: float) -> Process | None:
    """One run_batt.py process, or None when it ended or cannot be read meanwhile."""
    try:
        with proc.oneshot():
            return Process(
                pid=proc.pid,
                ppid=proc.ppid(),
                instance=instance,
                threads=proc.num_threads(),
                rss=proc.memory_info().rss,
                age=max(0.0, now - proc.create_time()),
            )
    except _GONE:
        return None


def _mark_workers(found: list[Process]) -> tuple[Process, ...]:
    """The processes, those forked by a run of the same instance marked as workers."""
    by_pid = {p.pid: p for p in found}
    return tuple(
        replace(proc, worker=proc.ppid in by_pid and by_pid[proc.ppid].instance == proc.instance)
        for proc in found
    )


def _host(threads: int, processes: int) -> Host:
    """The host's figures, with the thread count of the pass over its processes."""
    memory = psutil.virtual_memory()
    one, five, fifteen = os.getloadavg()
    return Host(threads, processes, int(memory.available), int(memory.total),
                (one, five, fifteen), os.cpu_count() or 1)  # fmt: skip
