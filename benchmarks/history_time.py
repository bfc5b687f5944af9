"""Time the 30-day trend query of the history store.

Usage: ``python benchmarks/history_time.py STORE DAY``. STORE holds DAY (recorded by
``poolwatch daily``); the script copies it into a fresh store as 30 consecutive days
(metrics and per-run rows), then prints one JSON line: the best of five
``Store.trend(30, ...)`` calls in seconds, the rows per day, and the seconds of the
whole ``poolwatch history --days 30`` command (process start included).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from poolwatch.history.store import Store

REPEATS = 5
DAYS = 30


def main(source: Path, day: date) -> None:
    """Print the trend query timings of a 30-day copy of ``day``."""
    recorded = Store(source)
    metrics = recorded.metrics(day)
    assert metrics is not None, f"{day} is not in {source}"
    runs = recorded.runs(day, day).drop(columns="day")
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder))
        for back in range(DAYS):
            other = day - timedelta(days=back)
            store.record(other, replace(metrics, day=other), runs)
        best = float("inf")
        for _ in range(REPEATS):
            start = time.perf_counter()
            trend = store.trend(DAYS, day)
            best = min(best, time.perf_counter() - start)
        assert len(trend) == DAYS
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "poolwatch", "history", "--store", folder, "--days", str(DAYS)],
            check=True, capture_output=True,
        )  # fmt: skip
        command = time.perf_counter() - start
    print(json.dumps({"trend": best, "runs_per_day": len(runs), "command": command}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]))
