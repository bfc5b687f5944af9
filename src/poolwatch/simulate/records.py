"""poolwatch monitor's records over the same window: every run's process at each sample."""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from poolwatch.simulate.fleet import Fleet
from poolwatch.simulate.numbers import (
    HOST_BASE_THREADS,
    HOSTNAME,
    MONITOR_INTERVAL_SECONDS,
    PID_FIRST,
    PIDS_PER_ITERATION,
    SAMPLED_RSS,
    SAMPLED_STEADY_THREADS,
    SAMPLED_WORKERS,
)
from poolwatch.simulate.truth import RunTruth, SnapshotTruth

# --- poolwatch monitor's records --------------------------------------------------------------


_COUNT_KEYS = ("overload", "processpool_failed", "threadpool_failed")


@dataclass(frozen=True)
class _Runs:
    """An instance's runs (``truths``, in their order) and where each starts, for finding
    the few that a moment or a window meets without going through all of them."""

    truths: list[RunTruth]
    epoch0: float
    order: list[int]
    """The places of ``truths`` by start."""
    starts: list[float]
    """Each start, in seconds after ``epoch0``, in ``order``."""
    longest: float

    @classmethod
    def of(cls, truths: list[RunTruth], epoch0: float) -> _Runs:
        """The runs of ``truths``, indexed by start."""
        offsets = [r.started_at.timestamp() - epoch0 for r in truths]
        order = sorted(range(len(truths)), key=offsets.__getitem__)
        longest = max((max(r.seconds, 0.0) for r in truths), default=0.0)
        return cls(truths, epoch0, order, [offsets[k] for k in order], longest)

    def near(self, t0: float, t1: float) -> list[int]:
        """The places, in order, of every run that may be going between ``t0`` and ``t1``
        (those started by ``t1`` and not ended before ``t0``, and maybe a few more)."""
        first = bisect_left(self.starts, t0 - self.longest - 1.0)
        last = bisect_right(self.starts, t1)
        return sorted(self.order[first:last])


def _going(runs: _Runs, t: float) -> list[tuple[int, RunTruth]]:
    """The runs (their place among ``truths``) in progress at ``t`` seconds after start."""
    epoch0 = runs.epoch0
    return [
        (k, r) for k in runs.near(t, t) if (r := runs.truths[k]).started_at.timestamp() - epoch0
        <= t < r.started_at.timestamp() - epoch0 + r.seconds
    ]  # fmt: skip


def _lines_between(truth: RunTruth, epoch0: float, t0: float, t1: float) -> dict[str, int]:
    """A run's fallback lines written between two samples, spread evenly over its time."""
    start = truth.started_at.timestamp() - epoch0

    def written(t: float) -> float:
        return min(1.0, max(0.0, (t - start) / truth.seconds)) if truth.seconds > 0 else 1.0

    counts = (truth.overloads, truth.processpool_failed, truth.threadpool_failed)
    return {key: math.floor(n * written(t1)) - math.floor(n * written(t0))
            for key, n in zip(_COUNT_KEYS, counts, strict=True)}  # fmt: skip


def _sampled_threads(rng: random.Random, truth: RunTruth, leak: SnapshotTruth | None, *,
                     at: datetime, overload: tuple[int, int]) -> int:  # fmt: skip
    """A run's own thread count at a sample: the leaking instance's snapshot count then,
    a count like its overload lines' (the scenario's ``overload`` range, up to the highest
    they report) when most of its tasks print one, else a steady one."""
    if leak is not None:
        k = max(0, bisect_right(leak.taken_at, at) - 1)
        return leak.threads[k]
    if truth.max_threads is not None and truth.overloads * 2 > truth.tasks:
        low = max(overload[0], truth.overload_above + 1)
        return rng.randint(min(low, truth.max_threads), truth.max_threads)
    return rng.randint(*SAMPLED_STEADY_THREADS)


@dataclass(frozen=True)
class _Sampled:
    """A run_batt.py process at a sample, as the monitor records it."""

    pid: int
    ppid: int
    instance: str
    worker: bool
    threads: int
    rss: int
    age: float


def _sampled_processes(
    rng: random.Random, name: str, going: list[tuple[int, RunTruth]], pid0: int, *,
    at: datetime, leak: SnapshotTruth | None, stride: int, t: float, fleet: Fleet,
    levels: dict[tuple[str, int], int],
) -> list[_Sampled]:  # fmt: skip
    """One instance's run_batt.py processes at a sample: each run going, and its workers.
    A run keeps its thread count from sample to sample (``levels``), as a run does that
    neither leaks nor changes load ("Thread count: >80 threads (constant)")."""
    out: list[_Sampled] = []
    for k, truth in going:
        pid = pid0 + k * stride
        age = round(t - (truth.started_at.timestamp() - fleet.epoch0), 1)
        rss = rng.randint(*SAMPLED_RSS)
        overload = fleet.profile.overload_threads
        if (name, k) not in levels or leak is not None:
            levels[name, k] = _sampled_threads(rng, truth, leak, at=at, overload=overload)
        out.append(_Sampled(pid, pid - 1, name, False, levels[name, k], rss, age))
        if truth.path == "process":
            out += [_Sampled(pid + w, pid, name, True, 1, rss // 2, age)
                    for w in range(1, SAMPLED_WORKERS + 1)]  # fmt: skip
    return out


def _window_counts(runs: _Runs, t0: float, t1: float) -> dict[str, int]:
    """An instance's fallback lines written between two samples (a run that the window
    does not meet wrote none in it)."""
    counts = dict.fromkeys(_COUNT_KEYS, 0)
    for k in runs.near(t0, t1):
        for key, n in _lines_between(runs.truths[k], runs.epoch0, t0, t1).items():
            counts[key] += n
    return counts


def _instance_row(name: str, mine: list[_Sampled], window: dict[str, int]) -> dict[str, object]:
    """An instance's entry of a sample record."""
    runs = [p for p in mine if not p.worker]
    return {
        "instance": name, "pids": [p.pid for p in runs], "processes": len(mine),
        "threads": max((p.threads for p in runs), default=None), "fallbacks": window,
        "counted_from": "console", "fallbacks_total": window,
    }  # fmt: skip


def _sample_record(
    fleet: Fleet, number: int, t: float, window: float | None, *, processes: list[_Sampled],
    rows: list[dict[str, object]], counts: list[dict[str, int]],
) -> dict[str, object]:  # fmt: skip
    """One ``sample`` record, in the fields and order ``poolwatch monitor`` writes."""
    at = datetime.fromtimestamp(fleet.epoch0 + t, UTC)
    runs = sum(1 for p in processes if not p.worker)
    return {
        "schema": 1, "record": "sample", "time": at.isoformat(timespec="milliseconds"),
        "zone": "UTC", "hostname": fleet.host or HOSTNAME, "monitor_pid": 1201, "sample": number,
        "window": None if window is None else round(window, 3), "duration": 0.012,
        "runs": runs, "skipped_processes": 0,
        "host": {"threads": HOST_BASE_THREADS + sum(p.threads for p in processes),
                 "processes": 180 + len(processes), "memory_available": 24 << 30,
                 "memory_total": 32 << 30,
                 "load": [round(runs * 1.1, 2), round(runs * 1.0, 2), round(runs * 0.9, 2)],
                 "cpus": 8},
        "processes": [vars(p) for p in processes], "instances": rows,
        "fallbacks": {key: sum(c[key] for c in counts) for key in _COUNT_KEYS},
        "logs": {"patterns": ["run_card_*.log"], "unmatched": [], "files": [], "errors": []},
        "alerts": 0,
    }  # fmt: skip


def records_text(
    fleet: Fleet, window_end: float, snapshots: list[SnapshotTruth], rng: random.Random
) -> str:
    """poolwatch monitor's records over the window, a sample a minute: each instance's
    runs in progress, their threads and workers, and the fallback lines of each window."""
    leaks = {s.instance: s for s in snapshots if s.leak}
    stride = PIDS_PER_ITERATION * len(fleet.instances)
    named = sorted((f"tmp_batt_{inst.iid}", inst) for inst in fleet.instances)
    pids = {name: rng.randint(*PID_FIRST) + inst.number for name, inst in named}
    truths = {
        name: _Runs.of([r for r in fleet.truths if r.instance == name], fleet.epoch0)
        for name, _ in named
    }
    lines: list[str] = []
    levels: dict[tuple[str, int], int] = {}
    previous: float | None = None
    t, number = 0.0, 0
    while t <= window_end:
        number += 1
        at = datetime.fromtimestamp(fleet.epoch0 + t, UTC)
        processes: list[_Sampled] = []
        rows: list[dict[str, object]] = []
        counts: list[dict[str, int]] = []
        for name, _ in named:
            going = _going(truths[name], t)
            mine = _sampled_processes(rng, name, going, pids[name], at=at, leak=leaks.get(name),
                                      stride=stride, t=t, fleet=fleet,
                                      levels=levels)  # fmt: skip
            since = -1.0 if previous is None else previous
            counts.append(_window_counts(truths[name], since, t))
            rows.append(_instance_row(name, mine, counts[-1]))
            processes += mine
        window = None if previous is None else t - previous
        record = _sample_record(fleet, number, t, window, processes=processes, rows=rows,
                                counts=counts)  # fmt: skip
        lines.append(_json_line(record))
        previous = t
        t += MONITOR_INTERVAL_SECONDS
    return "".join(lines)


def _json_line(record: Mapping[str, object]) -> str:
    """A record as the monitor appends it: compact ASCII JSON on one line."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
