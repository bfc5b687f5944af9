"""From live processes to a graded report: run_batt.py stand-ins with real threads, the
real ``poolwatch monitor --once`` sampling them, then ``poolwatch report`` over the
logs and the monitor's files, as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet.harness import Instance, threads_of

POOLWATCH = str(Path(sys.executable).parent / "poolwatch")
pytestmark = pytest.mark.timeout(180)


def poolwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A poolwatch command in a process of its own."""
    done = subprocess.run([POOLWATCH, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _sample(folder: Path, log: Path) -> None:
    """One sample of the running fleet, over its consoles and run logs."""
    done = poolwatch("monitor", "--once", "-q", "--log", str(log), "--logs", "run_card_*.log",
                     "--logs", "tmp_batt_*_run.log", cwd=folder)  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture
def report(tmp_path: Path) -> dict[str, Any]:
    """Two instances at once, one run's threads climbing between samples, sampled four
    times; their runs end; the report of the folder, logs and monitor files together."""
    log = tmp_path / "poolwatch-monitor.jsonl"
    steady, leaking = Instance(tmp_path, "Bq7mZ2"), Instance(tmp_path, "Xa3k9Q")
    try:
        quiet = steady.start(threads=3)
        climbing = leaking.start(threads=4)
        seen = []
        for held in (4, 12, 20, 28):
            climbing.send(f"threads {held}")
            for run in (quiet, climbing):
                run.send("tasks 1")
            seen.append(threads_of(climbing.pid))
            _sample(tmp_path, log)
        pid = climbing.pid
        quiet.end()
        climbing.end()
    finally:
        steady.close()
        leaking.close()
    out = tmp_path / "incident"
    done = poolwatch("report", str(tmp_path), "--out", str(out), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    summary["_test"] = {"pid": pid, "seen": seen}
    return summary


def test_all_five_metrics_are_graded_each_with_its_source(report: dict[str, Any]) -> None:
    metrics = report["metrics"]
    assert {name: m["grade"] != "unknown" for name, m in metrics.items()} == dict.fromkeys(
        metrics, True
    )
    measured = {name: m["measured_by"] for name, m in metrics.items()}
    assert measured == {
        "thread_count": "monitor_samples",
        "processpool_fallback_rate": "logs",
        "threadpool_fallback_rate": "logs",
        "timeout_rate": "logs",
        "threads_per_instance": "monitor_samples",
    }
    for name in ("thread_count", "threads_per_instance"):
        assert metrics[name]["source"].startswith("poolwatch monitor samples"), metrics[name]
    pool = metrics["processpool_fallback_rate"]
    assert pool["source"] == "0 of 2 runs with a ProcessPool failure"


def test_the_climbing_instance_is_named_with_its_pid(report: dict[str, Any]) -> None:
    pid, seen = report["_test"]["pid"], report["_test"]["seen"]
    assert seen == sorted(seen) and seen[-1] > 25  # the stand-in holds what it was told
    per_instance = report["metrics"]["threads_per_instance"]
    assert per_instance["value"] == seen[-1]
    assert per_instance["grade"] == "critical"
    assert (
        f"tmp_batt_Xa3k9Q (PID {pid}): {seen[0]} → {seen[-1]} threads over 4 samples"
        in (per_instance["source"])
    )
    leak = [a for a in report["actions"] if a["id"] == "check-thread-leak"]
    assert [a["text"] for a in leak] == [
        f"Check tmp_batt_Xa3k9Q for a thread leak: `lsof -p {pid} | grep -c thread`"
    ]
    assert leak[0]["values"] == {"instance": "tmp_batt_Xa3k9Q", "threads": seen[-1],
                                 "pid": str(pid)}  # fmt: skip


def test_the_monitor_s_files_are_read_once(report: dict[str, Any]) -> None:
    sampling = report["sampling"]
    assert (sampling["samples"], sampling["readings"], sampling["instances"]) == (4, 8, 2)
    assert sampling["measured"] == ["thread_count", "threads_per_instance"]
    skipped = {Path(s["path"]).name: s["reason"] for s in report["inputs"]["skipped"]}
    assert skipped == {
        "poolwatch-monitor.state.json": "poolwatch's own output (the monitor's state file), "
        "not a log",
        "poolwatch-monitor.lock": "poolwatch's own output (the monitor's lock), not a log",
    }
    # The human log beside the records, and each run log (a tee copy of its console).
    assert report["inputs"]["duplicates"] == 3
    assert report["concurrency"] == 2
