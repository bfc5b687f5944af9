"""The series behind the report's charts, downsampled so that a report's size and
render time do not grow with the logs.

Run logs carry no time per line (log-formats.md): a line's time is estimated from
its run's start and end, by its position between the run's first and last lines.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import Fleet, run_keys, run_rows
from poolwatch.findings import Charts, RunTime, ThreadPoint, TimePoint
from poolwatch.states import ExecutorPath

#: Points drawn per chart, at most: enough to show every peak on a page-wide chart.
MAX_POINTS = 400
#: Runs drawn on the durations chart (each a marker and a range bar), at most.
MAX_RUNS = 150


def charts(fleet: Fleet, timed: pd.DataFrame) -> Charts:
    """Every chart's series; ``timed`` is ``run_times``, the completed runs with a time."""
    band = fleet.config.bands.thread_count
    sampled = fleet.sampled_running
    running = sampled if not sampled.empty else fleet.concurrency
    return Charts(
        threads=thread_points(fleet),
        running=_steps(running["time"], running["running"]),
        running_measured=not sampled.empty,
        threads_measured=not fleet.readings.empty,
        durations=durations(timed),
        timed_runs=len(timed),
        host_threads=_host_threads(fleet),
        thread_band=(band.warning, band.critical),
        instances=fleet.config.settings.instances.value,
    )


def thread_points(fleet: Fleet) -> tuple[ThreadPoint, ...]:
    """Per-process thread counts: the runs' in the monitor's samples when there are some,
    else those of the overload messages; the highest of each stretch kept."""
    found = fleet.readings.dropna(subset=["instance"])
    if not found.empty:
        placed = found.assign(run=0, at=found["timestamp"]).reset_index(drop=True)
        return _points(placed)
    counts = fleet.of_kind("overload")[["file", "run", "line", "instance", "threads"]]
    counts = counts.dropna(subset=["threads", "instance"])
    if counts.empty:
        return ()
    return _points(counts.assign(at=line_times(fleet, counts)))


def _points(placed: pd.DataFrame) -> tuple[ThreadPoint, ...]:
    """Thread counts (``instance``, ``run``, ``line``, ``at``, ``threads``) as points, the
    highest of each stretch kept."""
    placed = placed.iloc[_in_order(placed, ("instance", "run", "line"))].reset_index(drop=True)
    kept = placed.loc[_peaks(placed["instance"], placed["threads"], MAX_POINTS)]
    return tuple(
        ThreadPoint(str(name), int(run), when(at), int(threads))
        for name, run, at, threads in zip(
            kept["instance"], kept["run"], kept["at"], kept["threads"], strict=True
        )
    )


def _in_order(frame: pd.DataFrame, keys: tuple[str, ...]) -> np.ndarray:
    """The positions that sort ``frame`` by ``keys`` stably, missing values last, as
    ``sort_values`` orders them (a categorical by its categories): one ``lexsort`` of
    integer codes (measured: half the time on 1.4 million overload lines)."""
    sort_keys: list[np.ndarray] = []
    for key in reversed(keys):  # lexsort's last key is its first
        column = frame[key]
        if isinstance(column.dtype, pd.CategoricalDtype):
            code = column.cat.codes.to_numpy().astype(np.int64)
        elif pd.api.types.is_numeric_dtype(column.dtype):
            code = column.to_numpy(dtype=np.int64, na_value=0)
        else:
            code = pd.factorize(column, sort=True)[0].astype(np.int64)
        sort_keys += [code, column.isna().to_numpy()]
    return np.lexsort(sort_keys)


def line_times(fleet: Fleet, lines: pd.DataFrame) -> pd.Series:
    """The estimated time of each line (``file``, ``run``, ``line``), aligned with ``lines``.

    A line is placed between its run's start and end by its position between the
    run's first and last lines; unknown (NaT) when the run's start is unknown.
    """
    keys = run_keys(lines, fleet.files)
    runs, intervals = fleet.result.runs, fleet.intervals
    run = run_rows(runs, keys, fleet.files)
    interval = run_rows(intervals, keys, fleet.files)
    first = _take(runs["line"], run).to_numpy(dtype="float64", na_value=np.nan)
    last = _take(runs["last_line"], run).to_numpy(dtype="float64", na_value=np.nan)
    line = lines["line"].to_numpy(dtype="float64", na_value=np.nan)
    share = np.clip((line - first) / np.maximum(last - first, 1), 0, 1)
    start = _take(intervals["start"], interval)
    times: pd.Series = start + (_take(intervals["end"], interval) - start) * share
    return times.set_axis(lines.index)


def _take(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """``column``'s values at ``rows``, missing where a row is -1."""
    if not len(column):
        column = pd.Series([None], dtype=column.dtype)
    values = column.iloc[np.maximum(rows, 0)].reset_index(drop=True)
    chosen: pd.Series = values.mask(rows < 0)
    return chosen


def _peaks(groups: pd.Series, values: pd.Series, limit: int) -> pd.Index:
    """Rows keeping the highest value of each of ``limit`` equal stretches, shared by groups
    (the first such row where several have it)."""
    if groups.empty:
        return values.index[:0]
    group, distinct = pd.factorize(groups, use_na_sentinel=False)
    per_group = max(1, limit // max(1, len(distinct)))
    size = np.bincount(group, minlength=len(distinct))
    # Each row's place within its group, then its stretch of the group.
    place = np.empty(len(group), np.int64)
    place[np.argsort(group, kind="stable")] = np.arange(len(group)) - np.repeat(
        np.cumsum(size) - size, size
    )
    bucket = group.astype(np.int64) * per_group + place * per_group // size[group]
    value = values.to_numpy(dtype="float64", na_value=np.nan)
    # By stretch, highest value first, ties in row order: each stretch's first row wins.
    ranked = np.lexsort((-value, bucket))
    first = ranked[np.r_[True, bucket[ranked][1:] != bucket[ranked][:-1]]]
    return values.index[np.sort(first)]


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
        RunTime(str(name), int(run), float(took), float(low), float(high), ExecutorPath(path))
        for name, run, took, low, high, path in zip(
            timed["instance"], timed["run"], timed["took"], timed["low"], timed["high"],
            timed["path"], strict=True,
        )
    )  # fmt: skip


def _host_threads(fleet: Fleet) -> tuple[TimePoint, ...]:
    """The guide's monitor's System= over time; without it, the host's threads in
    poolwatch monitor's samples."""
    monitor = fleet.result.monitor
    samples = monitor[monitor["record"] == "sample"]
    if samples.empty:
        host = fleet.result.host_samples
        return _steps(host["timestamp"], host["host_threads"])
    return _steps(samples["timestamp"], samples["system_threads"])


def when(value: object) -> datetime | None:
    """A timestamp as a datetime, or None when unknown."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return pd.Timestamp(value).round("ms").to_pydatetime()  # type: ignore[arg-type]
