"""Which day each run and monitor record belongs to, and the logs of one day.

A run belongs to the day it started (its iteration's ``date`` line), even when it ends
after midnight; a run without a start time (a run log alone) belongs to the day its
file was last modified; monitor records to the day of their timestamp. Days are
calendar days in the timezone the user gives (by default the machine's own).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, tzinfo

import pandas as pd

from poolwatch.ingest.parse import Ingest


def run_days(result: Ingest, zone: tzinfo) -> pd.Series:
    """The day of every run, aligned with ``result.runs`` (missing when nothing dates it)."""
    runs = result.runs
    files = result.files.drop_duplicates("path").set_index("path")["mtime"]
    modified = runs["file"].astype(str).map(files)
    when = runs["started_at"].fillna(pd.to_datetime(modified, utc=True))
    return _days(when, zone)


def _days(times: pd.Series, zone: tzinfo) -> pd.Series:
    """Calendar days of UTC times in ``zone``."""
    local = pd.to_datetime(times, utc=True).dt.tz_convert(zone)
    return pd.Series(
        [None if pd.isna(t) else t.date() for t in local], index=times.index, dtype=object
    )


def days_in(result: Ingest, zone: tzinfo) -> list[date]:
    """Every day the logs hold runs or monitor records of, in order."""
    found = set(run_days(result, zone).dropna())
    found |= set(_days(result.monitor["timestamp"], zone).dropna())
    return sorted(found)


def only_day(result: Ingest, day: date, zone: tzinfo) -> Ingest:
    """The logs of one day: its runs with their tasks and events, its monitor records.

    The files table is kept whole: it says what was read.
    """
    runs = result.runs[(run_days(result, zone) == day).to_numpy()]
    keys = pd.MultiIndex.from_frame(runs[["file", "run"]].astype({"file": str}))
    events = result.events
    in_run = _among(events, keys)
    unattached = events["run"].isna() & (_days(events["timestamp"], zone) == day).to_numpy()
    monitor = result.monitor
    return replace(
        result,
        runs=runs.reset_index(drop=True),
        tasks=result.tasks[_among(result.tasks, keys)].reset_index(drop=True),
        events=events[in_run | unattached.to_numpy()].reset_index(drop=True),
        monitor=monitor[(_days(monitor["timestamp"], zone) == day).to_numpy()].reset_index(
            drop=True
        ),
    )


def _among(frame: pd.DataFrame, keys: pd.MultiIndex) -> pd.Series:
    """Rows whose (file, run) is one of ``keys``."""
    index = pd.MultiIndex.from_frame(frame[["file", "run"]].astype({"file": str}))
    return pd.Series(index.isin(keys), index=frame.index)
