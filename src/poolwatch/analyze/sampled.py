"""The live monitor's samples: the per-process thread counts the thresholds table grades.

``poolwatch monitor`` reads each run_batt.py process's threads (what ``ps -o nlwp <PID>``
shows) at every sample, so its samples measure the guide's "Thread count" and "Active
threads per instance" directly, where the logs show a count only when it passed the
overload check. A *reading* is one run (a process that is not a ProcessPool worker) in
one sample. The guide's "most of the time" and "frequently" are shares of readings
(the watch settings ``most_of_the_time`` and ``frequent``): more than that share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from poolwatch.config import LEAK_SAMPLES, Config
from poolwatch.ingest.parse import Ingest

#: How reports name the samples as the source of a value.
SOURCE = "poolwatch monitor samples"


def readings(result: Ingest) -> pd.DataFrame:
    """Each run's thread count in each sample (workers left out), in time order:
    ``file``, ``line``, ``timestamp``, ``instance``, ``pid``, ``threads``."""
    samples = result.samples
    run = ~samples["worker"].fillna(False).astype(bool) & samples["threads"].notna()
    chosen = samples.loc[run, ["file", "line", "timestamp", "instance", "pid", "threads"]]
    return chosen.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _lowest_count(threads: np.ndarray, share: float, *, strict: bool) -> int:
    """The fewest threads that the readings are above in at most ``share`` % of them
    (in fewer than ``share`` % when ``strict``)."""
    values = np.sort(threads)
    distinct = np.unique(values)
    above = (len(values) - np.searchsorted(values, distinct, side="right")) * 100.0
    limit = share * len(values)
    fits = above < limit if strict else above <= limit
    return int(distinct[np.argmax(fits)])


@dataclass(frozen=True)
class ThreadShares:
    """How the readings' thread counts spread, in the guide's words."""

    readings: int
    samples: int
    most: int
    """The fewest threads the runs stayed at or under most of the time (in more than the
    ``most_of_the_time`` share of readings)."""
    most_count: int
    frequent: int
    """The most threads the runs reached frequently (in more than the ``frequent`` share
    of readings)."""
    frequent_count: int
    over_critical: int
    """Readings above the thresholds table's critical thread count."""


def thread_shares(found: pd.DataFrame, config: Config) -> ThreadShares | None:
    """The spread of the readings (``readings``), or None without any."""
    if found.empty:
        return None
    threads = found["threads"].to_numpy(dtype=np.int64)
    # At or under ``most`` in more than 50 % of readings: above it in fewer than 50 %.
    most = _lowest_count(threads, 100.0 - config.watch.most_of_the_time.value, strict=True)
    # ``frequent`` or more in more than 30 %: any higher count is reached in at most 30 %.
    frequent = _lowest_count(threads, config.watch.frequent.value, strict=False)
    critical = config.bands.thread_count.critical
    return ThreadShares(
        readings=len(threads),
        samples=int(found[["file", "line"]].drop_duplicates().shape[0]),
        most=most,
        most_count=int((threads <= most).sum()),
        frequent=frequent,
        frequent_count=int((threads >= frequent).sum()),
        over_critical=int((threads > critical).sum()),
    )


def thread_count(found: pd.DataFrame, config: Config) -> tuple[float | None, str]:
    """The thresholds table's "Thread count" from the readings, and how it was read.

    Critical when the runs are above the critical count frequently; healthy when they are
    below the warning count most of the time; a warning otherwise. The value is the count
    that decides: the one reached frequently when it is above the critical count, else
    the one the runs stay at or under most of the time.
    """
    shares = thread_shares(found, config)
    if shares is None:
        return None, f"{SOURCE}: no run in progress in any sample"
    band = config.bands.thread_count
    most, frequent = config.watch.most_of_the_time.value, config.watch.frequent.value
    n = shares.readings
    head = f"{SOURCE} ({n:,} readings of runs in {shares.samples:,} samples with a run going)"
    usual = (
        f"at most {shares.most} threads most of the time ({shares.most_count:,} of {n:,}, "
        f"more than {most:g} %)"
    )
    over = (
        f"over {band.critical:g} in {shares.over_critical:,} of {n:,} "
        f"(frequently: more than {frequent:g} %)"
    )
    if shares.frequent > band.critical:
        reached = (
            f"{shares.frequent} threads or more frequently ({shares.frequent_count:,} of "
            f"{n:,}, more than {frequent:g} %)"
        )
        return float(shares.frequent), f"{head}: {reached}; {usual}"
    return float(shares.most), f"{head}: {usual}; {over}"


@dataclass(frozen=True)
class Active:
    """One instance's "Active threads per instance": its run's highest reading, and the
    run (PID) whose count climbed, if one did."""

    instance: str
    highest: int
    pid: int | None
    """The process of the highest reading (of the climb, when there is one)."""
    first: int
    """The climbing run's first reading (else the instance's first)."""
    readings: int
    """The climbing run's readings (else the instance's)."""
    climbs: bool
    """One run's count rose at every one of at least ``LEAK_SAMPLES`` samples."""
    line: int
    file: str


def active_threads(found: pd.DataFrame) -> tuple[Active, ...]:
    """Each instance's active threads, highest first (instances without a name left out)."""
    named = found[found["instance"].notna()].copy()
    if named.empty:
        return ()
    named["instance"] = named["instance"].astype(str)
    named["run"] = named["pid"].astype("Float64").fillna(-1).astype("int64")
    step = named.groupby(["instance", "run"], sort=False)["threads"].diff()
    named["flat"] = (step.fillna(1) <= 0).astype(int)
    runs = named.groupby(["instance", "run"], sort=False).agg(
        first=("threads", "first"),
        last=("threads", "last"),
        highest=("threads", "max"),
        readings=("threads", "size"),
        flat=("flat", "sum"),
    )
    runs["climbs"] = (runs["readings"] >= LEAK_SAMPLES) & (runs["flat"] == 0)
    out = [_active(name, named[named["instance"] == name], runs.loc[name]) for name in
           named["instance"].unique()]  # fmt: skip
    return tuple(sorted(out, key=lambda a: (-a.highest, a.instance)))


def _active(name: str, mine: pd.DataFrame, runs: pd.DataFrame) -> Active:
    """One instance's figures, from its readings and its runs' (by PID)."""
    climbing = runs[runs["climbs"]]
    chosen = climbing if not climbing.empty else runs
    row = chosen.iloc[int(np.argmax(chosen["highest"].to_numpy(dtype=np.int64)))]
    run = int(chosen.index[int(np.argmax(chosen["highest"].to_numpy(dtype=np.int64)))])
    peak = mine[mine["run"] == run]
    at = int(np.argmax(peak["threads"].to_numpy(dtype=np.int64)))
    return Active(
        instance=name,
        highest=int(mine["threads"].max()),
        pid=None if run < 0 else run,
        first=int(row["first"]),
        readings=int(row["readings"]),
        climbs=not climbing.empty,
        line=int(peak["line"].iloc[at]),
        file=str(peak["file"].iloc[at]),
    )


def concurrency(result: Ingest) -> pd.DataFrame:
    """Runs in progress at each sample, as ``time``, ``running`` (empty without samples)."""
    host = result.host_samples.dropna(subset=["timestamp", "runs"])
    host = host.sort_values("timestamp", kind="stable")
    return pd.DataFrame(
        {"time": host["timestamp"].to_numpy(), "running": host["runs"].to_numpy(dtype=np.int64)}
    )
