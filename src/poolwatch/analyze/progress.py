"""Working or stuck: how far a killed run got, against its instance's usual runs.

A run the timeout killed was either doing legitimate work (a batch longer than the
limit allows) or stuck: hanging on thread creation (its last task shows thread
exhaustion), or silently, in a deadlock that prints nothing (log-formats.md). The logs
carry no time per line, but they carry how many tasks a run finished before it was
killed and how long the same instance's completed runs take for theirs: a run that got
through its tasks at less than half its instance's usual pace was stuck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A killed run that finished tasks at less than this share of its instance's usual
#: pace was stuck, not working.
STUCK_PACE = 0.5


def open_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """Each run's last task that started and never finished: file, run, task."""
    columns = tasks[["file", "run", "task", "started", "done"]]
    cut = columns[columns["started"].fillna(False) & ~columns["done"].fillna(False)]
    return cut.drop_duplicates(["file", "run"], keep="last")[["file", "run", "task"]]


def paces(runs: pd.DataFrame, timeouts: pd.Series) -> pd.DataFrame:
    """Per run (aligned with ``runs``): ``elapsed`` (seconds it ran, at most its timeout),
    ``usual`` (tasks per second of its instance's completed runs, else the fleet's) and
    ``pace`` (its own tasks per second over ``usual``; NaN where either is unknown)."""
    took = runs["total_seconds"].astype("Float64").fillna(runs["seconds"].astype("Float64"))
    done = runs["tasks_done"].astype("float64")
    timed = (took > 0).to_numpy(dtype=bool, na_value=False)
    completed = (runs["end"] == "completed").to_numpy() & timed
    rate = (done / took.astype("float64")).where(completed)
    usual = rate.groupby(runs["instance"], observed=True).transform("median")
    usual = usual.fillna(rate.median())
    ran = runs["seconds"].astype("float64").to_numpy(na_value=np.nan)
    elapsed = pd.Series(np.fmin(ran, timeouts.to_numpy()), index=runs.index).fillna(timeouts)
    pace: pd.Series = (done / elapsed) / usual
    return pd.DataFrame({"elapsed": elapsed, "usual": usual, "pace": pace}, index=runs.index)
