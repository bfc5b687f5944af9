"""The monitor log against the run logs of the same period: is the monitoring blind?

The guide's ``monitor_week6b.sh`` counts fallbacks with ``tail -100 tmp_batt_*_run.log``;
GNU tail rejects ``-100`` as soon as two or more run logs exist (``option used in
invalid context``), so in exactly the multi-instance case it was written for every
count reads 0 and no alert fires (log-formats.md). When it reports no fallbacks while
the run logs show them, the monitoring is blind, and the finding says why.
"""

from __future__ import annotations

import pandas as pd

from poolwatch.analyze.runs import Fleet
from poolwatch.findings import MonitorCheck

_FAILS = ("process_fails", "thread_fails", "overload")


def monitor_check(fleet: Fleet) -> MonitorCheck | None:
    """What the monitor saw, and whether the run logs show fallbacks it missed."""
    monitor = fleet.result.monitor
    if monitor.empty:
        return None
    samples = monitor[monitor["record"] == "sample"]
    alerts = int((monitor["record"] == "alert").sum())
    reported = int(samples[list(_FAILS)].fillna(0).to_numpy().sum())
    missed = _fallbacks_while_monitoring(fleet, samples)
    host = samples["system_threads"].dropna()
    span = (int(host.min()), int(host.max())) if len(host) else None
    if reported or alerts or not missed:
        return MonitorCheck(len(samples), alerts, blind=False, reason=None, host_threads=span)
    at_once = _instances_while_monitoring(fleet, samples)
    why = (
        f"with {at_once} run logs at once, GNU tail rejects `tail -100 tmp_batt_*_run.log` "
        "(option used in invalid context), so every count reads 0 and no alert can fire"
        if at_once >= 2
        else "its counts stayed 0"
    )
    return MonitorCheck(
        len(samples),
        alerts,
        blind=True,
        reason=f"the monitor reported no fallback in {len(samples)} samples while the run logs "
        f"show {missed:,} fallback lines in the same period: {why}; its Python= is always 1 "
        "and its System= counts every thread on the host, so neither shows a worker's threads",
        host_threads=span,
    )


def _window(samples: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last sample times, if the monitor has any."""
    times = samples["timestamp"].dropna()
    return None if times.empty else (times.min(), times.max())


def _fallbacks_while_monitoring(fleet: Fleet, samples: pd.DataFrame) -> int:
    """Fallback lines of the runs that ran while the monitor sampled (all, without times)."""
    runs = fleet.runs
    window = _window(samples)
    if window is not None and not fleet.intervals.empty:
        start, end = window
        intervals = fleet.intervals
        during = intervals[(intervals["start"] <= end) & (intervals["end"] >= start)]
        runs = runs.merge(during[["file", "run"]], on=["file", "run"], how="inner")
    columns = ["overloads", "processpool_failed", "threadpool_failed"]
    return int(runs[columns].to_numpy().sum())


def _instances_while_monitoring(fleet: Fleet, samples: pd.DataFrame) -> int:
    """The most instances running at once while the monitor sampled."""
    window = _window(samples)
    series = fleet.concurrency
    if window is None or series.empty:
        return int(fleet.runs["instance"].nunique())
    start, end = window
    during = series[(series["time"] >= start) & (series["time"] <= end)]["running"]
    return int(during.max()) if len(during) else int(fleet.runs["instance"].nunique())
