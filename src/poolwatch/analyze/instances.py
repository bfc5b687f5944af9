"""The per-instance table: each instance's runs, executor mix, fallbacks and verdict.

An instance's verdict is the fleet's rule applied to its runs alone: the guide's
"What to Watch" flags on that instance's finished runs.
"""

from __future__ import annotations

import pandas as pd

from poolwatch.analyze.health import flags_by_instance, verdict
from poolwatch.analyze.runs import KILLED, PATHS, Fleet
from poolwatch.findings import ExecutorMix, Flag, InstanceRow

#: The runs' columns an instance's row reads.
_COLUMNS = ["instance", "outcome", "path", "max_threads", "processpool_failed",
            "threadpool_failed", "overloads"]  # fmt: skip


def instance_rows(fleet: Fleet) -> tuple[InstanceRow, ...]:
    """One row per instance, in the instances' natural order."""
    names = sorted(str(name) for name in fleet.runs["instance"].dropna().unique())
    held = flags_by_instance(fleet)
    # Narrowed first: each instance's runs are then chosen from a few columns, not all.
    runs, finished = fleet.runs[_COLUMNS], fleet.finished[_COLUMNS]
    return tuple(
        _row(name, runs[runs["instance"] == name], finished[finished["instance"] == name],
             held.get(name, ()))
        for name in names
    )  # fmt: skip


def _row(
    name: str, runs: pd.DataFrame, finished: pd.DataFrame, held: tuple[Flag, ...]
) -> InstanceRow:
    """One instance's row, from its runs, its finished runs and its flags."""
    peak = finished["max_threads"].max() if not finished.empty else None
    return InstanceRow(
        instance=name,
        runs=len(runs),
        finished=len(finished),
        mix=mix(finished),
        processpool_failed=int(runs["processpool_failed"].sum()),
        threadpool_failed=int(runs["threadpool_failed"].sum()),
        overloads=int(runs["overloads"].sum()),
        killed=int(finished["outcome"].isin(KILLED).sum()),
        peak_threads=None if peak is None or pd.isna(peak) else int(peak),
        verdict=verdict(held, (), finished=len(finished)),
    )


def mix(finished: pd.DataFrame) -> ExecutorMix:
    """Percent of these finished runs on each executor path."""
    paths = finished["path"]
    total = len(paths)
    share = {p: (100.0 * int((paths == p).sum()) / total if total else 0.0) for p in PATHS}
    return ExecutorMix(**share)
