"""The guide's health metrics on hand-written logs and on every simulated scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import read
from poolwatch.analyze.health import Metric, metrics
from poolwatch.analyze.runs import run_outcomes
from poolwatch.config import load
from poolwatch.simulate import simulate

GUIDE = load(cwd=Path("/nonexistent"))


def graded(folder: Path) -> dict[str, Metric]:
    """The metrics of a folder of logs, by name."""
    result = read(folder)
    return {m.name: m for m in metrics(result, run_outcomes(result, GUIDE), GUIDE)}


def test_metrics_of_hand_written_logs(logs: Path) -> None:
    found = graded(logs)
    assert list(found) == [
        "thread_count",
        "processpool_fallback_rate",
        "threadpool_fallback_rate",
        "timeout_rate",
        "threads_per_instance",
    ]
    threads = found["thread_count"]
    assert (threads.value, threads.grade) == (65, "warning")
    assert threads.source == "highest of 1 overload messages"
    # Two finished runs (the third is still being written): one ProcessPool failure in one.
    pool = found["processpool_fallback_rate"]
    assert (pool.value, pool.grade, pool.source) == (
        50,
        "critical",
        "1 of 2 runs with processpool failed",
    )
    assert found["timeout_rate"].value == 50
    assert found["timeout_rate"].action == "Investigate hangs"
    assert found["threads_per_instance"].grade == "unknown"


def test_the_monitor_s_host_count_is_never_graded(logs: Path) -> None:
    (logs / "console_two_runs.log").unlink()
    (logs / "tmp_batt_Xa3k9Q_run.log").unlink()
    found = graded(logs)  # the monitor log alone: System=300 is on the host, not a process
    assert found["thread_count"].grade == "unknown"


def test_snapshots_count_per_process(logs: Path) -> None:
    (logs / "active.txt").write_text("Active threads: 27\n")
    found = graded(logs)
    assert (found["threads_per_instance"].value, found["threads_per_instance"].grade) == (
        27,
        "critical",
    )


@pytest.mark.parametrize(
    ("scenario", "name", "grade"),
    [
        ("healthy", "thread_count", "warning"),
        ("healthy", "processpool_fallback_rate", "warning"),
        ("healthy", "threadpool_fallback_rate", "healthy"),
        ("healthy", "timeout_rate", "healthy"),
        ("overloaded", "thread_count", "critical"),
        ("overloaded", "timeout_rate", "critical"),
        ("memory-pressure", "processpool_fallback_rate", "critical"),
        ("sequential-excessive", "threadpool_fallback_rate", "critical"),
        ("timeouts", "timeout_rate", "critical"),
    ],
)
def test_scenarios_grade_as_the_guide_describes(
    tmp_path: Path, scenario: str, name: str, grade: str
) -> None:
    simulate(scenario, tmp_path, instances=8, runs=5, seed=3)
    assert graded(tmp_path)[name].grade == grade
