"""The thread snapshots an operator pastes, steady or leaking."""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import UTC, datetime

from poolwatch.simulate.fleet import Fleet, Instance
from poolwatch.simulate.numbers import (
    PID_FIRST,
    PIDS_PER_ITERATION,
    SNAPSHOT_FEWEST,
    SNAPSHOT_LEAK_THREADS,
    SNAPSHOT_LOOP_LAG,
    SNAPSHOT_MOST,
    SNAPSHOT_SLEEP_SECONDS,
    SNAPSHOT_STEADY_THREADS,
    SNAPSHOT_STYLES,
    SNAPSHOT_TYPING,
)
from poolwatch.simulate.pieces import date_line, pick, uniform
from poolwatch.simulate.truth import SnapshotTruth

# --- Thread snapshots ------------------------------------------------------------------------


def _snapshot_times(rng: random.Random, inst: Instance, style: str) -> list[float]:
    """When an operator took the snapshots of one instance, over its run window.

    A loop (``active``) sleeps a fixed time, plus what each iteration takes; by hand
    (``nlwp``) the intervals vary.  A long window spaces them out, a short one packs them.
    """
    first, last = inst.run_starts[0], inst.end
    window = last - first
    spread = min(max(SNAPSHOT_SLEEP_SECONDS, window / SNAPSHOT_MOST), window / SNAPSHOT_FEWEST)
    interval = max(1.0, spread)
    sleep = max(1, round(interval))
    times, t = [], first
    while t <= last:
        times.append(t)
        if style == "active":
            t += sleep + uniform(rng, SNAPSHOT_LOOP_LAG)
        else:
            t += interval * uniform(rng, SNAPSHOT_TYPING)
    return times


def _leak_counts(rng: random.Random, n: int) -> list[int]:
    """Thread counts that climb from the first snapshot to the last (a resource leak)."""
    low, high = SNAPSHOT_LEAK_THREADS
    if n < 2:
        return [low] * n
    counts = [low]
    for k in range(1, n - 1):
        counts.append(max(counts[-1], round(low + (high - low) * k / (n - 1)) + rng.randint(-1, 1)))
    return [*counts, high]


def _snapshot_text(
    fleet: Fleet, inst: Instance, style: str, snaps: list[tuple[float, int]], *, pid0: int
) -> str:
    """The pasted snapshots of one instance, as the operator's terminal printed them."""
    parts = []
    for t, n in snaps:
        date = date_line(fleet.epoch0 + t)
        if style == "active":
            parts.append(f"{date}Active threads: {n}\n")
        else:  # the PID of the python running then: each iteration starts a new one
            k = max(0, bisect_right(inst.run_starts, t) - 1)
            pid = pid0 + k * PIDS_PER_ITERATION * len(fleet.instances) + inst.number
            parts.append(f"$ date; ps -o nlwp {pid}\n{date}NLWP\n{n:>4}\n")
    return "".join(parts)


def write_snapshots(fleet: Fleet, kind: str) -> list[SnapshotTruth]:
    """One ``threads_tmp_batt_<id>.txt`` per instance; with ``leak``, one instance climbs."""
    rng = fleet.extra_rng
    leaker = rng.randrange(len(fleet.instances)) if kind == "leak" else -1
    truths = []
    for k, inst in enumerate(fleet.instances):
        style = pick(rng, SNAPSHOT_STYLES)
        times = _snapshot_times(rng, inst, style)
        if k == leaker:
            counts = _leak_counts(rng, len(times))
        else:
            counts = [rng.randint(*SNAPSHOT_STEADY_THREADS) for _ in times]
        path = fleet.out / inst.snapshot_file
        fleet.writer.create(path)
        pid0 = rng.randint(*PID_FIRST)
        fleet.writer.append(
            path,
            _snapshot_text(fleet, inst, style, list(zip(times, counts, strict=True)), pid0=pid0),
        )
        taken = tuple(datetime.fromtimestamp((fleet.epoch0 + t) // 1, UTC) for t in times)
        truths.append(
            SnapshotTruth(
                f"tmp_batt_{inst.iid}",
                path.name,
                style,
                taken,
                tuple(counts),
                k == leaker,
                host=fleet.host,
            )
        )
    return truths
