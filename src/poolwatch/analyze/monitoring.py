"""The monitor logs against the run logs of the same period: is the monitoring blind, and
which monitor measured what?

The guide's ``monitor_week6b.sh`` counts fallbacks with ``tail -100 tmp_batt_*_run.log``;
GNU tail rejects ``-100`` as soon as two or more run logs exist (``option used in
invalid context``), so in exactly the multi-instance case it was written for every
count reads 0 and no alert fires (log-formats.md). When it reports no fallbacks while
the run logs show them, the monitoring is blind, and the finding says why.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import Fleet
from poolwatch.findings import MetricRow, MonitorCheck, Sampling
from poolwatch.ingest.grammar import RUN_LOG_NAME
from poolwatch.states import FileStatus

_FAILS = ("process_fails", "thread_fails", "overload")


def monitor_check(fleet: Fleet) -> MonitorCheck | None:
    """What the monitor saw, and whether the run logs show fallbacks it missed.

    With two or more run logs among the inputs the blindness is structural: GNU tail
    refuses ``tail -100 tmp_batt_*_run.log`` whenever two exist, so it holds when every
    count reads 0 while the logs show fallbacks at all, whatever their times. With one
    run log, only the fallbacks of the runs going while the monitor sampled count.
    """
    monitor = fleet.result.monitor
    if monitor.empty:
        return None
    samples = monitor[monitor["record"] == "sample"]
    alerts = int((monitor["record"] == "alert").sum())
    reported = int(samples[list(_FAILS)].fillna(0).to_numpy().sum())
    host = samples["system_threads"].dropna()
    span = (int(host.min()), int(host.max())) if len(host) else None
    run_logs = _run_logs(fleet)
    structural = run_logs >= 2
    missed = _fallbacks(fleet.runs) if structural else _fallbacks_while_monitoring(fleet, samples)
    if reported or alerts or not missed:
        return MonitorCheck(len(samples), alerts, blind=False, reason=None, host_threads=span)
    why = (
        f"with {run_logs} run logs (tmp_batt_*_run.log), GNU tail rejects `tail -100 "
        "tmp_batt_*_run.log` (option used in invalid context), so every count reads 0 and no "
        "alert can fire"
        if structural
        else "its counts stayed 0"
    )
    return MonitorCheck(
        len(samples),
        alerts,
        blind=True,
        reason=f"the monitor reported no fallback in {len(samples)} samples while the run logs "
        f"show {missed:,} fallback lines: {why}; its Python= is always 1 and its System= counts "
        "every thread on the host, so neither shows a worker's threads",
        host_threads=span,
    )


def _run_logs(fleet: Fleet) -> int:
    """Run logs among the inputs, tee copies counted once included: what the glob
    ``tmp_batt_*_run.log`` matches on the host."""
    files = fleet.result.files
    family = files["family"].astype(str) == "run_batt"
    named = np.array(
        [re.search(RUN_LOG_NAME, path) is not None for path in files["path"].astype(str)],
        dtype=bool,
    )
    return int((family & named & (files["status"] != FileStatus.SKIPPED)).sum())


def _fallbacks(runs: pd.DataFrame) -> int:
    """Fallback lines of these runs, as the monitor's three greps count them."""
    return int(runs[["overloads", "processpool_failed", "threadpool_failed"]].to_numpy().sum())


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
    return _fallbacks(runs)


def sampling(fleet: Fleet, rows: tuple[MetricRow, ...]) -> Sampling | None:
    """What poolwatch monitor's samples measured (None without any), and that the guide's
    monitor log, when given too, measured none of it."""
    host = fleet.result.host_samples
    if host.empty:
        return None
    found = fleet.readings
    measured = tuple(row.name for row in rows if row.measured_by == "monitor_samples")
    times = host["timestamp"].dropna()
    first, last = (times.min(), times.max()) if len(times) else (None, None)
    instances = int(found["instance"].dropna().nunique())
    titles = " and ".join(f'"{row.title}"' for row in rows if row.name in measured)
    what = (
        f"{len(host):,} samples, {len(found):,} readings of runs of {instances} instances, "
        "each run's own thread count (what `ps -o nlwp <PID>` shows)"
    )
    graded = (
        f"; {titles} graded from them, the fallback and timeout rates from the run logs"
        if titles
        else "; no run was in progress in any of them, so nothing is graded from them"
    )
    old = fleet.result.monitor
    beside = (
        "; the guide's monitor_week6b.sh log beside them measured neither: its Python= "
        "counts a freshly started interpreter's threads (always 1) and its System= every "
        "thread on the host"
        if (old["record"] == "sample").any()
        else ""
    )
    return Sampling(
        samples=len(host),
        readings=len(found),
        instances=instances,
        first=None if first is None else first.to_pydatetime(),
        last=None if last is None else last.to_pydatetime(),
        measured=measured,
        text=what + graded + beside,
    )
