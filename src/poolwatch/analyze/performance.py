"""Run durations against the guide's "Performance Expectations" table.

The table gives the time to score one task's samples on the ProcessPool at normal
load (2-3 samples ~1-2 s, 6-8 ~2-4 s, 32+ ~10-20 s) and the slowdown of the
1-worker ThreadPool (1.5-2x) and of sequential processing (2-3x). A run's expected
time is the sum over its tasks, each on its own executor path; a run is slower than
expected when it took longer than the upper end of that sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import PATHS, Fleet, sum_by_run
from poolwatch.config import NORMAL_SECONDS, SLOWDOWN
from poolwatch.findings import Performance


def expected_seconds(samples: pd.Series, paths: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The low and high expected seconds of tasks with these samples and paths."""
    # Tasks share a few sample counts and paths: each pair is computed once.
    counts, distinct = pd.factorize(samples.fillna(0).to_numpy(dtype=float))
    low, high = _normal_seconds(distinct)
    factors = np.array([SLOWDOWN.get(p, (1.0, 1.0)) for p in PATHS])
    pair = counts * len(PATHS) + paths.cat.codes.to_numpy()
    return np.outer(low, factors[:, 0]).ravel()[pair], np.outer(high, factors[:, 1]).ravel()[pair]


def _normal_seconds(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The low and high seconds of scoring this many samples on the ProcessPool."""
    counts, lows, highs = (np.array(column) for column in zip(*NORMAL_SECONDS, strict=True))
    # Interpolated between the table's rows, proportional beyond its last one.
    beyond = samples / counts[-1]
    low = np.where(
        samples > counts[-1], lows[-1] * beyond, np.interp(samples, counts, lows, left=0.0)
    )
    high = np.where(
        samples > counts[-1], highs[-1] * beyond, np.interp(samples, counts, highs, left=0.0)
    )
    return low, high


def run_times(fleet: Fleet) -> pd.DataFrame:
    """Completed runs with their time (``took``) and the guide's ``low``/``high`` for it.

    A run's time is its ``main.run_batt`` timing row, else the gap to its instance's
    next run (which also holds run_card.sh's few seconds between runs).
    """
    tasks = fleet.result.tasks
    low, high = expected_seconds(tasks["samples"], fleet.task_path)
    runs = fleet.finished[fleet.finished["outcome"] == "completed"]
    took = runs["total_seconds"].astype("Float64").fillna(runs["seconds"].astype("Float64"))
    measured = runs.assign(took=took).dropna(subset=["took"]).reset_index(drop=True)
    measured["low"], measured["high"] = sum_by_run(tasks, [low, high], measured, fleet.files)
    return measured[measured["high"] > 0].reset_index(drop=True)


def performance(measured: pd.DataFrame) -> Performance | None:
    """How many completed runs took longer than the guide expects, and by how much.

    ``measured`` is ``run_times``: the completed runs with a time.
    """
    if measured.empty:
        return None
    ratio = measured["took"].astype(float) / measured["high"]
    slower = ratio > 1
    worst = float(ratio.max())
    evidence = (
        f"{int(slower.sum())} of {len(measured)} timed runs took longer than the guide "
        f"expects for their tasks and executors"
        + (f"; the slowest took {worst:.1f}x the upper expectation" if slower.any() else "")
    )
    return Performance(len(measured), int(slower.sum()), worst, evidence)
