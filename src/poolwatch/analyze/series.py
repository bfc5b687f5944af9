"""The series behind the report's charts, downsampled so that a report's size and
render time do not grow with the logs.

Run logs carry no time per line (log-formats.md): a line's time is estimated from
its run's start and end, by its position between the run's first and last lines.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import Fleet
from poolwatch.findings import Charts, RunTime, ThreadPoint, TimePoint

#: Points drawn per chart, at most: enough to show every peak on a page-wide chart.
MAX_POINTS = 400
#: Runs drawn on the durations chart (each a marker and a range bar), at most.
MAX_RUNS = 150


def charts(fleet: Fleet, timed: pd.DataFrame) -> Charts:
    """Every chart's series; ``timed`` is ``run_times``, the completed runs with a time."""
    band = fleet.config.band("thread_count")
    return Charts(
        threads=thread_points(fleet),
        running=_steps(fleet.concurrency["time"], fleet.concurrency["running"]),
        durations=durations(timed),
        timed_runs=len(timed),
        host_threads=_host_threads(fleet),
        thread_band=(band.warning, band.critical),
        instances=fleet.config.setting("instances"),
    )


def thread_points(fleet: Fleet) -> tuple[ThreadPoint, ...]:
    """Per-process thread counts of the overload messages, the highest of each stretch kept."""
    events = fleet.notable
    counts = events.loc[
        events["kind"] == "overload", ["file", "run", "line", "instance", "threads"]
    ]
    counts = counts.dropna(subset=["threads", "instance"])
    if counts.empty:
        return ()
    placed = counts.assign(at=line_times(fleet, counts))
    placed = placed.sort_values(["instance", "run", "line"], kind="stable").reset_index(drop=True)
    kept = placed.loc[_peaks(placed["instance"].astype(str), placed["threads"], MAX_POINTS)]
    return tuple(
        ThreadPoint(str(name), int(run), when(at), int(threads))
        for name, run, at, threads in zip(
            kept["instance"], kept["run"], kept["at"], kept["threads"], strict=True
        )
    )


def line_times(fleet: Fleet, lines: pd.DataFrame) -> pd.Series:
    """The estimated time of each line (``file``, ``run``, ``line``), aligned with ``lines``.

    A line is placed between its run's start and end by its position between the
    run's first and last lines; unknown (NaT) when the run's start is unknown.
    """
    runs = fleet.result.runs[["file", "run", "line", "last_line"]].rename(
        columns={"line": "first", "last_line": "last"}
    )
    placed = (
        lines[["file", "run", "line"]]
        .merge(runs, on=["file", "run"], how="left")
        .merge(fleet.intervals[["file", "run", "start", "end"]], on=["file", "run"], how="left")
    )
    span = (placed["last"].astype("float64") - placed["first"].astype("float64")).clip(lower=1)
    share = ((placed["line"].astype("float64") - placed["first"].astype("float64")) / span).clip(
        0, 1
    )
    length = placed["end"] - placed["start"]
    times = placed["start"] + length * share.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(times.to_numpy(), index=lines.index)


def _peaks(groups: pd.Series, values: pd.Series, limit: int) -> pd.Index:
    """Rows keeping the highest value of each of ``limit`` equal stretches, shared by groups."""
    per_group = max(1, limit // max(1, groups.nunique()))
    order = groups.groupby(groups, sort=False).cumcount()
    size = groups.map(groups.value_counts())
    stretch = (order * per_group // size.clip(lower=1)).astype("int64")
    frame = pd.DataFrame({"group": groups, "stretch": stretch, "value": values.astype("float64")})
    best = frame.groupby(["group", "stretch"], sort=True)["value"].idxmax()
    kept: pd.Index = pd.Index(best.sort_values().to_numpy())
    return kept


def _steps(times: pd.Series, values: pd.Series) -> tuple[TimePoint, ...]:
    """A time series kept to ``MAX_POINTS``, the highest value of each stretch."""
    frame = pd.DataFrame({"at": times, "value": values}).dropna().reset_index(drop=True)
    if frame.empty:
        return ()
    keep = _peaks(pd.Series("all", index=frame.index), frame["value"], MAX_POINTS)
    kept = frame.loc[keep]
    return tuple(
        TimePoint(when(at) or datetime.min, float(value))
        for at, value in zip(kept["at"], kept["value"], strict=True)
    )


def durations(timed: pd.DataFrame) -> tuple[RunTime, ...]:
    """Completed runs' durations (``run_times``) beside the guide's expectation, evenly
    thinned to ``MAX_RUNS``."""
    if len(timed) > MAX_RUNS:
        timed = timed.iloc[np.linspace(0, len(timed) - 1, MAX_RUNS).round().astype(int)]
    return tuple(
        RunTime(str(name), int(run), float(took), float(low), float(high), str(path))
        for name, run, took, low, high, path in zip(
            timed["instance"], timed["run"], timed["took"], timed["low"], timed["high"],
            timed["path"], strict=True,
        )
    )  # fmt: skip


def _host_threads(fleet: Fleet) -> tuple[TimePoint, ...]:
    """The monitor's System= over time."""
    monitor = fleet.result.monitor
    samples = monitor[monitor["record"] == "sample"]
    return _steps(samples["timestamp"], samples["system_threads"])


def when(value: object) -> datetime | None:
    """A timestamp as a datetime, or None when unknown."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return pd.Timestamp(value).round("ms").to_pydatetime()  # type: ignore[arg-type]
