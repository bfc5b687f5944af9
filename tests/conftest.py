"""Shared fixtures: the hand-written logs and a helper to ingest paths."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pytest

from poolwatch.analyze.collection import Collection
from poolwatch.analyze.runs import Fleet, Kinds
from poolwatch.analyze.sampled import concurrency as sampled_concurrency
from poolwatch.analyze.sampled import readings
from poolwatch.config import load
from poolwatch.ingest import tables
from poolwatch.ingest.parse import Ingest, ingest

#: The guide's defaults, whatever poolwatch.toml the working directory may hold.
GUIDE = load(cwd=Path("/nonexistent"))

LOGS = Path(__file__).parent / "logs"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A private copy of the hand-written logs (tests may add files beside them)."""
    target = tmp_path / "logs"
    shutil.copytree(LOGS, target)
    return target


def read(*paths: Path | str) -> Ingest:
    """Ingest paths the way the CLI does."""
    return ingest([str(p) for p in paths])


def made_up(runs: Sequence[Mapping[str, object]]) -> Fleet:
    """A fleet of finished runs described directly (no logs behind them)."""
    empty = {name: tables.to_pandas([], columns) for name, columns in tables.TABLES.items()}
    frame = pd.DataFrame(
        [
            {"file": "x.log", "run": i, "outcome": "completed", "path": "process",
             "overloads": 0, "processpool_failed": 0, "threadpool_failed": 0,
             "parallel_failed": 0, "max_threads": None, "last_line": 1, "end_evidence": "",
             "instance": "i", "requested_tasks": 32, "tasks_done": 32, "run_timeout": 600.0,
             "elapsed": None, "usual_pace": None, "pace": None, "stuck": None,
             "open_task": None, "memory_exit": None, **run}
            for i, run in enumerate(runs)
        ]
    )  # fmt: skip
    for failure, count in (("processpool_failure", "processpool_failed"),
                           ("threadpool_failure", "threadpool_failed")):  # fmt: skip
        if failure not in frame:
            frame[failure] = frame[count] > 0
    frame = frame.astype({"elapsed": float, "usual_pace": float, "pace": float})
    empty_result = Ingest(**empty, locations={})
    return Fleet(
        result=empty_result,
        config=GUIDE,
        runs=frame,
        finished=frame,
        task_path=pd.Series(dtype="category"),
        files=pd.Index(["x.log"]),
        intervals=pd.DataFrame(),
        concurrency=pd.DataFrame(),
        collection=Collection(None, frozenset(), None),
        kinds=Kinds.of_events(empty["events"]),
        readings=readings(empty_result),
        sampled_running=sampled_concurrency(empty_result),
        active=(),
    )
