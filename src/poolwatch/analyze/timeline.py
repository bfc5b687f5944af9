"""The timeline of notable events: each instance's first overload, every run the
timeout killed (hung or still working), critical memory errors, leaked semaphores.

A huge input must not make a huge report: at most ``PER_KIND`` moments of each kind
are kept (the first ones), and the rest are counted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import KILLED, Fleet
from poolwatch.analyze.series import line_times, when
from poolwatch.findings import Moment, Ref

#: Moments kept of each kind.
PER_KIND = 12
#: Event kinds on the timeline, and how each reads.
_EVENTS = {
    "critical_memory": "critical memory error",
    "leaked_semaphores": "leaked semaphores at shutdown",
}


def timeline(fleet: Fleet) -> tuple[tuple[Moment, ...], int]:
    """The moments in time order (unknown times last), and how many were left out."""
    found = [*_first_overloads(fleet), *_killed_runs(fleet)]
    for kind, what in _EVENTS.items():
        found += _events(fleet, kind, what)
    kept: list[Moment] = []
    omitted = 0
    for kind in dict.fromkeys(m.kind for m in found):
        of_kind = [m for m in found if m.kind == kind]
        kept += of_kind[:PER_KIND]
        omitted += max(0, len(of_kind) - PER_KIND)
    kept.sort(key=lambda m: (m.at is None, m.at or datetime.min, m.instance, m.run, m.ref.line))
    return tuple(kept), omitted


def _first_overloads(fleet: Fleet) -> list[Moment]:
    """Each instance's first "System overloaded" line."""
    events = fleet.of_kind("overload")
    overloads = events[events["instance"].notna()]
    # The least (run, line) of each instance, as one number (a run unknown sorts last):
    # grouped, not sorted (an overloaded fleet has an overload line for every task).
    run = overloads["run"].to_numpy(dtype=np.int64, na_value=np.iinfo(np.int32).max)
    order = pd.Series((run << 32) | overloads["line"].to_numpy(dtype=np.int64), overloads.index)
    first = overloads.loc[order.groupby(overloads["instance"], observed=True).idxmin()]
    return _moments(fleet, first, "first_overload", lambda row: (
        f"first overload: {row['threads']} threads per process, tasks run sequentially"
        if pd.notna(row["threads"]) else "first overload"))  # fmt: skip


def _events(fleet: Fleet, kind: str, what: str) -> list[Moment]:
    """Every event of one kind."""
    chosen = fleet.of_kind(kind).sort_values(["file", "line"]).head(PER_KIND * 4)
    return _moments(fleet, chosen, kind, lambda row: what)


def _moments(
    fleet: Fleet, rows: pd.DataFrame, kind: str, text: Callable[[Any], str]
) -> list[Moment]:
    """Moments for event rows, timed by their position in their run."""
    if rows.empty:
        return []
    times = line_times(fleet, rows)
    lines = fleet.text_of(rows)
    return [
        Moment(when(at), str(row["instance"]), int(row["run"]), kind, text(row),
               Ref(str(row["file"]), int(row["line"]), line))
        for row, at, line in zip(rows.to_dict("records"), times, lines, strict=True)
    ]  # fmt: skip


def _killed_runs(fleet: Fleet) -> list[Moment]:
    """The first runs the timeout killed, of each outcome, at the time they were killed."""
    finished = fleet.finished
    runs = (
        finished[finished["outcome"].isin(KILLED)].groupby("outcome", observed=True).head(PER_KIND)
    )
    ends = fleet.intervals.set_index(["file", "run"])["end"]
    timeout = fleet.config.settings.timeout.value
    moments = []
    for row in runs.to_dict("records"):
        how = "hung" if row["outcome"] == "hung" else "timed out while working"
        moments.append(Moment(
            when(ends.get((row["file"], row["run"]))), str(row["instance"]), int(row["run"]),
            str(row["outcome"]), f"run {row['run']} {how}; killed by the {timeout:g} s timeout",
            Ref(str(row["file"]), int(row["last_line"]), _text(row["end_evidence"])),
        ))  # fmt: skip
    return moments


def _text(value: object) -> str | None:
    """A line's text, or None when missing."""
    return None if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]
