"""When the logs were collected, and which files' modification times can be believed.

A file's modification time is the only clock a bare run log carries, and it tells
whether the last run of a file may still be running. But ``cp``, ``scp``, ``tar``
without ``-p``, a git checkout or an upload set it to the copy's time, often months
after the log's own last ``date`` line (log-formats.md). So a file's mtime is believed
only where it agrees with the file's own times: not before its last ``date`` line and
not after its last run's start plus that run's timeout (an unfinished run cannot
outlast its timeout). A file with no time of its own is believed only when no other
file's mtime is a copy's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from poolwatch.ingest.parse import Ingest
from poolwatch.states import FileStatus

#: Leeway between a file's own last time and its modification time: clock steps, the
#: seconds run_card.sh takes between runs, a monitor pass.
SLACK = pd.Timedelta(minutes=5)


@dataclass(frozen=True)
class Collection:
    """When the logs were collected, as far as their files' times can be believed."""

    at: pd.Timestamp | None
    """The newest believed modification time; None when none can be believed."""
    believed: frozenset[str]
    """Files whose modification time is believed."""
    note: str | None
    """Why some modification times were not used, for the report."""


def collection(result: Ingest, timeouts: pd.Series, snapshots: pd.DataFrame) -> Collection:
    """Which files' mtimes agree with their own times, and when the logs were taken.

    ``timeouts`` is each run's timeout (aligned with ``result.runs``); ``snapshots`` the
    thread snapshots' ``file`` and ``timestamp``: the only events besides the monitor's
    with a time of their own.
    """
    files = result.files[result.files["status"] == FileStatus.READ]
    mtime = pd.Series(files["mtime"].to_numpy(), index=files["path"].astype(str)).dropna()
    first, last = _own_times(result, timeouts, snapshots)
    known = mtime.index.intersection(first.index)
    agrees = (mtime[known] >= first[known] - SLACK) & (mtime[known] <= last[known] + SLACK)
    copied = agrees.index[~agrees.to_numpy(dtype=bool)]
    unchecked = mtime.index.difference(known)
    believed = set(agrees.index[agrees.to_numpy(dtype=bool)])
    if copied.empty:
        believed |= set(unchecked)
    stamps = mtime[sorted(believed)].dropna()
    at = None if stamps.empty else pd.Timestamp(stamps.max())
    return Collection(at, frozenset(believed), _note(copied, mtime, first, len(mtime)))


def _own_times(
    result: Ingest, timeouts: pd.Series, snapshots: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """Per file, the last time its lines give and the latest it can have been written:
    the last run's start and that plus its timeout; a monitor's or snapshot's last time."""
    runs = result.runs.assign(until=result.runs["started_at"] + pd.to_timedelta(timeouts, "s"))
    runs = runs.dropna(subset=["started_at"])
    by_file = runs.groupby(runs["file"].astype(str), observed=True)
    first, last = by_file["started_at"].max(), by_file["until"].max()
    stamped = snapshots.loc[snapshots["timestamp"].notna(), ["file", "timestamp"]]
    records = pd.concat([stamped, result.monitor[["file", "timestamp"]].dropna()])
    other = records.groupby(records["file"].astype(str), observed=True)["timestamp"].max()
    other = other[other.index.difference(first.index)]
    return pd.concat([first, other]), pd.concat([last, other])


def _note(copied: pd.Index, mtime: pd.Series, first: pd.Series, total: int) -> str | None:
    """Why the copies' modification times were not used."""
    if copied.empty:
        return None
    name = copied[0]
    return (
        f"{len(copied)} of {total} files were modified long after their own last times "
        f"(e.g. {name}: modified {mtime[name]:%Y-%m-%d %H:%M} UTC, its last date line "
        f"{first[name]:%Y-%m-%d %H:%M} UTC): a copy's time. Their modification times are not "
        "used: when the logs were taken, and whether their last runs were still going, is "
        "unknown."
    )
