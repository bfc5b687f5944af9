"""Which day each run and monitor record belongs to, and the logs of one day.

A run belongs to the day it started (its iteration's ``date`` line), even when it ends
after midnight; a run without a start time (a run log alone) belongs to the day its
file was last modified; monitor records to the day of their timestamp. Days are
calendar days in the timezone the user gives (by default the machine's own).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, tzinfo

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import file_names, run_keys
from poolwatch.ingest.parse import Ingest


def run_days(result: Ingest, zone: tzinfo) -> pd.Series:
    """The day of every run, aligned with ``result.runs`` (missing when nothing dates it)."""
    return _run_days(result.runs, result.files, zone)


def runs_on(runs: pd.DataFrame, files: pd.DataFrame, *, day: date, zone: tzinfo) -> pd.DataFrame:
    """The runs (of the ``runs`` and ``files`` tables) that belong to ``day``."""
    return runs[(_run_days(runs, files, zone) == day).to_numpy()]


def _run_days(runs: pd.DataFrame, files: pd.DataFrame, zone: tzinfo) -> pd.Series:
    """The day of every run of ``runs`` (missing when nothing dates it)."""
    modified = (
        runs["file"].astype(str).map(files.drop_duplicates("path").set_index("path")["mtime"])
    )
    when = runs["started_at"].fillna(pd.to_datetime(modified, utc=True))
    return _days(when, zone)


def _days(times: pd.Series, zone: tzinfo) -> pd.Series:
    """Calendar days of UTC times in ``zone`` (each distinct day made into a date once)."""
    local = pd.to_datetime(times, utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    midnights = local.dt.normalize()
    dates = {m: m.date() for m in midnights.dropna().unique()}
    return midnights.map(dates).astype(object).where(midnights.notna(), None)


def days_in(result: Ingest, zone: tzinfo) -> list[date]:
    """Every day the logs hold runs or monitor records of, in order."""
    found = set(run_days(result, zone).dropna())
    found |= set(_days(result.monitor["timestamp"], zone).dropna())
    found |= set(_days(result.host_samples["timestamp"], zone).dropna())
    return sorted(found)


def only_day(result: Ingest, day: date, zone: tzinfo) -> Ingest:
    """The logs of one day: its runs with their tasks and events, its monitor records and
    the monitor's samples.

    The files table is kept whole: it says what was read.
    """
    runs = runs_on(result.runs, result.files, day=day, zone=zone)
    files = file_names(result)
    keys = run_keys(runs, files)
    events = result.events
    in_run = np.isin(run_keys(events, files), keys)
    loose = events["run"].isna()
    unattached = pd.Series(False, index=events.index)
    unattached[loose] = (_days(events.loc[loose, "timestamp"], zone) == day).to_numpy()
    monitor, samples, host = result.monitor, result.samples, result.host_samples
    return replace(
        result,
        samples=samples[(_days(samples["timestamp"], zone) == day).to_numpy()].reset_index(
            drop=True
        ),
        host_samples=host[(_days(host["timestamp"], zone) == day).to_numpy()].reset_index(
            drop=True
        ),
        runs=runs.reset_index(drop=True),
        tasks=result.tasks[np.isin(run_keys(result.tasks, files), keys)].reset_index(drop=True),
        events=events[in_run | unattached].reset_index(drop=True),
        monitor=monitor[(_days(monitor["timestamp"], zone) == day).to_numpy()].reset_index(
            drop=True
        ),
    )
