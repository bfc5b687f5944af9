"""The guide's five health metrics, each with its value, grade and source.

The rows of the "Health Check Thresholds" table, computed from the tables ingest
publishes and the run outcomes. Percentages are of runs (the guide's unit: "appearing
in > 30% of runs"), leaving out runs still going when the logs were collected.

Thread counts are graded on per-process counts only: the ``(<n> threads)`` of an
overload message, ``Active threads:`` and ``ps -o nlwp`` snapshots. The monitor's
``System=`` counts every thread on the host and its ``Python=`` a fresh interpreter's,
so neither is read against the per-process limits (log-formats.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from poolwatch.config import Config
from poolwatch.ingest.parse import Ingest

_PER_PROCESS_SNAPSHOTS = ("threading.active_count()", "ps -o nlwp")


@dataclass(frozen=True)
class Metric:
    """One graded row of the health check."""

    name: str
    value: float | None
    unit: str
    grade: str
    source: str
    action: str


def metrics(result: Ingest, outcomes: pd.DataFrame, config: Config) -> tuple[Metric, ...]:
    """The five rows of the guide's "Health Check Thresholds" table, graded."""
    finished = outcomes[outcomes["outcome"] != "incomplete"]
    runs = len(finished)
    values = {
        "thread_count": _thread_count(result),
        "processpool_fallback_rate": _share_of_runs(result, finished, "processpool_failed"),
        "threadpool_fallback_rate": _share_of_runs(result, finished, "threadpool_failed"),
        "timeout_rate": _timeout_rate(finished),
        "threads_per_instance": _threads_per_instance(result),
    }
    out: list[Metric] = []
    for band in config.bands:
        value, source = values[band.name]
        if band.unit == "%" and runs == 0:
            value, source = None, "no finished runs"
        out.append(Metric(band.name, value, band.unit, band.grade(value), source, band.action))
    return tuple(out)


def _thread_count(result: Ingest) -> tuple[float | None, str]:
    """The highest per-process thread count the logs show, and where it comes from.

    run_batt.py prints its count only when it is over the overload threshold, so
    when no overload line exists every decision it made saw at most that many threads.
    """
    events = result.events
    overload = events.loc[events["kind"] == "overload", "threads"].dropna()
    snapshots = events.loc[
        (events["kind"] == "thread_snapshot") & events["message"].isin(_PER_PROCESS_SNAPSHOTS),
        "threads",
    ].dropna()
    seen = pd.concat([overload, snapshots])
    if seen.empty:
        return None, "no per-process thread counts in the logs"
    parts = [f"{len(overload):,} overload messages"] if len(overload) else []
    parts += [f"{len(snapshots):,} thread snapshots"] if len(snapshots) else []
    return float(seen.max()), "highest of " + " and ".join(parts)


def _share_of_runs(result: Ingest, finished: pd.DataFrame, column: str) -> tuple[float | None, str]:
    """The percentage of finished runs with at least one such fallback line."""
    tasks = result.tasks
    hit = tasks[tasks[column].fillna(0) > 0]
    keys = set(zip(hit["file"], hit["run"], strict=True))
    count = sum(key in keys for key in zip(finished["file"], finished["run"], strict=True))
    total = len(finished)
    phrase = column.replace("_", " ")
    return (100.0 * count / total if total else None), f"{count} of {total} runs with {phrase}"


def _timeout_rate(finished: pd.DataFrame) -> tuple[float | None, str]:
    """The percentage of finished runs killed by the timeout (hung or not)."""
    killed = int(finished["outcome"].isin(["timed_out", "hung"]).sum())
    total = len(finished)
    return (100.0 * killed / total if total else None), f"{killed} of {total} runs killed"


def _threads_per_instance(result: Ingest) -> tuple[float | None, str]:
    """The highest ``Active threads:`` / ``nlwp`` snapshot: one process is one instance."""
    events = result.events
    snapshots = events.loc[
        (events["kind"] == "thread_snapshot") & events["message"].isin(_PER_PROCESS_SNAPSHOTS),
        "threads",
    ].dropna()
    if snapshots.empty:
        return None, "no Active threads / nlwp snapshots"
    return float(snapshots.max()), f"highest of {len(snapshots)} thread snapshots"
