"""Executor paths of tasks and runs, and how runs ended, against hand-written logs and the
simulator's ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import GUIDE, read
from poolwatch.analyze.runs import concurrency, fleet, task_paths
from poolwatch.simulate import SCENARIOS, simulate


def test_task_paths_follow_run_batt_s_fallbacks(logs: Path) -> None:
    result = read(logs / "console_two_runs.log")
    paths = dict(zip(result.tasks["task"], task_paths(result), strict=True))
    assert paths == {
        "0a1b2c3d": "sequential",  # System overloaded
        "1a1b2c3d": "sequential",  # ProcessPool failed, then ThreadPool also failed
        "2a1b2c3d": "sequential",  # Parallel execution failed
        "3a1b2c3d": "process",  # silent
    }


def test_processpool_failure_alone_is_the_threadpool_path(logs: Path) -> None:
    path = logs / "console_two_runs.log"
    path.write_text(path.read_text().replace("ThreadPoolExecutor also failed", "fine"))
    result = read(path)
    assert dict(zip(result.tasks["task"], task_paths(result), strict=True))["1a1b2c3d"] == "thread"


def test_the_older_wording_falls_back_to_sequential(tmp_path: Path) -> None:
    log = tmp_path / "tmp_batt_a1_run.log"
    log.write_text(
        "run_batt.py:72: GPU Support: Disabled (CuPy not available)\n"
        "run_batt.py:840: -- 0a1b2c3d - 0 start --\n"
        "-- ProcessPoolExecutor failed ([Errno 12] Cannot allocate memory), "
        "falling back to sequential\n"
        "run_batt.py:850: -- 0a1b2c3d - 0 done - 1 candidates scored\n"
        "1 tasks - 0 timeouts\n"
    )
    result = read(log)
    assert task_paths(result).tolist() == ["sequential"]


def test_run_outcomes_on_hand_written_logs(logs: Path) -> None:
    outcomes = fleet(read(logs / "console_two_runs.log"), GUIDE).runs
    assert outcomes["outcome"].tolist() == ["completed", "hung", "incomplete"]
    assert outcomes["path"].tolist() == ["sequential", "timeout", "process"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_run_paths_match_the_simulator_s_truth(tmp_path: Path, scenario: str) -> None:
    truth = simulate(scenario, tmp_path, instances=4, runs=4, seed=21)
    outcomes = fleet(read(tmp_path), GUIDE).runs
    found = {
        (str(i), int(r)): (str(p), str(o))
        for i, r, p, o in zip(
            outcomes["instance"], outcomes["run"], outcomes["path"], outcomes["outcome"],
            strict=True,
        )
    }  # fmt: skip
    for run in truth.runs:
        path, outcome = found[(run.instance, run.run)]
        if run.killed and outcome == "incomplete":
            continue  # the last run of a file that stopped just before collection
        assert path == run.path, (run.instance, run.run, outcome)


def test_live_tails_are_incomplete_not_timeouts(tmp_path: Path) -> None:
    truth = simulate("healthy", tmp_path, instances=3, runs=2, seed=2, live=True)
    outcomes = fleet(read(tmp_path), GUIDE).runs
    tails = {(r.instance, r.run) for r in truth.runs if r.incomplete}
    got = {
        (str(i), int(r))
        for i, r, o in zip(outcomes["instance"], outcomes["run"], outcomes["outcome"], strict=True)
        if o == "incomplete"
    }
    assert got == tails


@pytest.mark.parametrize("scenario", ["overloaded", "timeouts"])
def test_hangs_are_told_from_long_batches(tmp_path: Path, scenario: str) -> None:
    truth = simulate(scenario, tmp_path, instances=4, runs=5, seed=13)
    outcomes = fleet(read(tmp_path), GUIDE).runs
    found = dict(
        zip(
            zip(outcomes["instance"].astype(str), outcomes["run"].astype(int), strict=True),
            outcomes["outcome"].astype(str),
            strict=True,
        )
    )
    killed = [run for run in truth.runs if run.killed]
    assert killed
    judged = 0
    for run in killed:
        outcome = found[(run.instance, run.run)]
        if outcome == "incomplete":
            continue  # the last run of a file that stopped just before collection
        assert outcome == ("hung" if run.hang else "timed_out"), (run.instance, run.run)
        judged += 1
    assert judged >= len(killed) - 1


def test_concurrency_follows_the_runs(tmp_path: Path) -> None:
    truth = simulate("healthy", tmp_path, instances=8, runs=4, seed=5)
    series = concurrency(fleet(read(tmp_path), GUIDE).intervals)
    assert series["running"].max() == 8
    assert series["running"].iloc[-1] == 0
    assert series["time"].is_monotonic_increasing
    # A run holds its instance from its `date` line to the next one (card.py, the run,
    # the loop's pause); the last from its `date` line to the end of its python.
    spans = []
    for instance in {r.instance for r in truth.runs}:
        mine = sorted((r for r in truth.runs if r.instance == instance), key=lambda r: r.run)
        for run, after in zip(mine, [*mine[1:], None], strict=True):
            start = pd.Timestamp(run.started_at)
            end = (
                pd.Timestamp(after.started_at)
                if after
                else start + pd.Timedelta(seconds=run.seconds + 5)
            )
            spans.append((start, end))
    for run in truth.runs[::7]:  # at the middle of a run, count the truth's runs going
        middle = pd.Timestamp(run.started_at) + pd.Timedelta(seconds=run.seconds / 2)
        going = sum(start <= middle < end for start, end in spans)
        ours = series[series["time"] <= middle]["running"].iloc[-1]
        assert abs(int(ours) - going) <= 1, middle
