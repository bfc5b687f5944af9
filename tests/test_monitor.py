"""``poolwatch monitor`` against real processes: run_batt.py stand-ins with real threads,
their output through a real ``tee`` into run logs that it truncates at each run, and
the monitor run as a user runs it, in a process of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from fleet.harness import DEADLINE, Instance, threads_of, wait_gone
from prometheus_client.parser import text_string_to_metric_families

from poolwatch.monitor.records import read_records

POOLWATCH = str(Path(sys.executable).parent / "poolwatch")
pytestmark = pytest.mark.timeout(180)


@dataclass(frozen=True)
class Done:
    """How a monitor process ended."""

    code: int
    out: str
    err: str


def monitor(*args: str, cwd: Path, timeout: float = 60) -> Done:
    """``poolwatch monitor ARGS`` in a process of its own."""
    done = subprocess.run([POOLWATCH, "monitor", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return Done(done.returncode, done.stdout, done.stderr)


class Fleet:
    """Instances in one folder, and a monitor log beside them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.instances: dict[str, Instance] = {}
        self.log = folder / "mon" / "poolwatch-monitor.jsonl"
        self.log.parent.mkdir()

    def instance(self, ident: str) -> Instance:
        self.instances[ident] = Instance(self.folder, ident)
        return self.instances[ident]

    def once(self, *logs: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
        """One sample (--once) over the given globs; its sample record."""
        args = ["--once", "-q", "--log", str(self.log)]
        for pattern in logs or ("tmp_batt_*_run.log",):
            args += ["--logs", pattern]
        done = monitor(*args, *extra, cwd=self.folder)
        assert done.code == 0, done.err
        assert done.out == "" and done.err == ""
        samples = [r for r in read_records(self.log).records if r["record"] == "sample"]
        return samples[-1]

    def close(self) -> None:
        for instance in self.instances.values():
            instance.close()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    made = Fleet(tmp_path)
    try:
        yield made
    finally:
        made.close()


def instance_row(record: dict[str, Any], name: str) -> dict[str, Any]:
    rows = [row for row in record["instances"] if row["instance"] == name]
    assert len(rows) == 1, record["instances"]
    return rows[0]


def file_row(record: dict[str, Any], path: Path) -> dict[str, Any]:
    rows = [row for row in record["logs"]["files"] if row["path"] == str(path)]
    assert len(rows) == 1, record["logs"]["files"]
    return rows[0]


def counts(overload: int = 0, processpool: int = 0, threadpool: int = 0) -> dict[str, int]:
    return {"overload": overload, "processpool_failed": processpool,
            "threadpool_failed": threadpool}  # fmt: skip


# --- processes -----------------------------------------------------------------------


def host_threads() -> int:
    """``ps -eLf | wc -l`` less its header."""
    out = subprocess.run(["ps", "-eLf"], capture_output=True, text=True, timeout=30, check=True)
    return len(out.stdout.splitlines()) - 1


def test_two_runs_at_once_each_with_its_threads_and_instance(fleet: Fleet) -> None:
    first = fleet.instance("Xa3k9Q").start(threads=4)
    second = fleet.instance("Bq7mZ2").start(threads=11, wrapper=["timeout", "120"])
    before = host_threads()
    record = fleet.once()
    after = host_threads()

    by_pid = {p["pid"]: p for p in record["processes"]}
    assert set(by_pid) == {first.pid, second.pid}  # not the `timeout` wrapper
    for run, name, threads in ((first, "tmp_batt_Xa3k9Q", 5), (second, "tmp_batt_Bq7mZ2", 12)):
        seen = by_pid[run.pid]
        assert seen["instance"] == name
        assert (
            seen["threads"]
            == threads
            == threads_of(run.pid)
            == psutil.Process(run.pid).num_threads()
        )
        assert seen["worker"] is False
        assert seen["rss"] > 1_000_000
        assert 0 < seen["age"] < DEADLINE * 3
        row = instance_row(record, name)
        assert row["threads"] == threads and row["pids"] == [run.pid]
        assert row["counted_from"] == "run_log"
    assert record["runs"] == 2
    # Both run logs read (the guide's `tail -100 tmp_batt_*_run.log` refuses two of them).
    assert {f["instance"] for f in record["logs"]["files"]} == {
        "tmp_batt_Xa3k9Q",
        "tmp_batt_Bq7mZ2",
    }
    assert min(before, after) - 10 <= record["host"]["threads"] <= max(before, after) + 10
    assert record["host"]["memory_available"] > 0 and len(record["host"]["load"]) == 3

    # The human line: the guide's fields, right values, every instance.
    human = (fleet.log.parent / "poolwatch-monitor.log").read_text().splitlines()
    assert human[0] == "=== poolwatch monitor: Monitoring Started ==="
    assert f"Python=12 System={record['host']['threads'] + 1} |" in human[-1]
    assert "tmp_batt_Bq7mZ2 threads=12 Process=0 Thread=0 Overload=0" in human[-1]
    assert "tmp_batt_Xa3k9Q threads=5 " in human[-1]


def test_a_forked_worker_is_not_a_run(fleet: Fleet) -> None:
    run = fleet.instance("Wk1").start(threads=2)
    run.send("fork")
    record = fleet.once()
    mine = [p for p in record["processes"] if p["instance"] == "tmp_batt_Wk1"]
    assert len(mine) == 2
    worker = next(p for p in mine if p["pid"] != run.pid)
    assert worker["worker"] is True and worker["ppid"] == run.pid and worker["threads"] == 1
    row = instance_row(record, "tmp_batt_Wk1")
    assert row["pids"] == [run.pid] and row["processes"] == 2 and row["threads"] == 3
    assert record["runs"] == 1


def test_no_run_batt_running_is_a_record_not_an_error(fleet: Fleet) -> None:
    record = fleet.once()
    assert record["processes"] == [] and record["runs"] == 0 and record["instances"] == []
    assert record["logs"]["unmatched"] == ["tmp_batt_*_run.log"]
    assert record["window"] is None and record["sample"] == 1
    human = (fleet.log.parent / "poolwatch-monitor.log").read_text().splitlines()
    assert "Python=N/A" in human[-1] and "Runs: 0" in human[-1]
    assert fleet.once()["sample"] == 2


def test_processes_that_start_and_end_while_sampled(fleet: Fleet) -> None:
    # Short-lived run_batt.py processes come and go while a monitor samples every 0.1 s.
    churn = [sys.executable, str(Path(__file__).parent / "fleet" / "run_batt.py"),
             "-t", "1", "-c", "-1", "-b", "tmp_batt_churn_run"]  # fmt: skip
    proc = subprocess.Popen([POOLWATCH, "monitor", "--interval", "0.1", "-q", "--log",
                             str(fleet.log)], cwd=fleet.folder)  # fmt: skip
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            quick = subprocess.Popen(churn, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(0.01)
            quick.kill()
            quick.wait(timeout=DEADLINE)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    read = read_records(fleet.log)
    assert not read.partial and read.invalid == 0
    samples = [r for r in read.records if r["record"] == "sample"]
    assert len(samples) >= 10
    assert any(r["processes"] for r in samples)


def test_a_process_gone_or_unreadable_during_the_sample_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from poolwatch.monitor import processes

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    proc = psutil.Process(gone.pid)
    gone.wait(timeout=DEADLINE)
    wait_gone(gone.pid)
    assert processes.describe(proc, "tmp_batt_x", time.time()) is None

    alive = subprocess.Popen([sys.executable, str(Path(__file__).parent / "fleet" / "run_batt.py"),
                              "-t", "10", "-c", "-32", "-b", "tmp_batt_Denied_run"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE
        while not any(p.instance == "tmp_batt_Denied" for p in processes.census().processes):
            assert time.monotonic() < deadline
            time.sleep(0.01)

        def denied(self: psutil.Process) -> Any:
            raise psutil.AccessDenied(self.pid)

        monkeypatch.setattr(psutil.Process, "num_threads", denied)
        found = processes.census()
        assert found.skipped >= 1
        assert all(p.instance != "tmp_batt_Denied" for p in found.processes)
    finally:
        alive.kill()
        alive.wait(timeout=DEADLINE)
        assert alive.stdin is not None
        alive.stdin.close()


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (["python", "run_batt.py", "-t", "10", "-c", "-32", "-b", "tmp_batt_Xa3k9Q_run"],
         (True, "tmp_batt_Xa3k9Q")),
        (["/usr/bin/python3.11", "-u", "/srv/arc/run_batt.py", "-b", "tmp_batt_onerun_run"],
         (True, "tmp_batt_onerun")),
        (["python3", "-X", "dev", "run_batt.py", "-b", "tmp_batt_a_run"], (True, "tmp_batt_a")),
        (["python", "run_batt.py", "-t", "10"], (True, None)),
        (["timeout", "-k", "5s", "64s", "python", "run_batt.py", "-b", "tmp_batt_a_run"],
         (False, None)),
        (["bash", "run_card.sh"], (False, None)),
        (["python", "-c", "print(1)", "run_batt.py"], (False, None)),
        (["python", "card.py", "-c", "32", "-f", "tmp_batt_a_run.py"], (False, None)),
        (["tee", "tmp_batt_a_run.log"], (False, None)),
        ([], (False, None)),
    ],
)  # fmt: skip
def test_which_command_lines_are_run_batt_processes(
    cmdline: list[str], expected: tuple[bool, str | None]
) -> None:
    from poolwatch.monitor.processes import instance_of

    assert instance_of(cmdline) == expected


# --- fallback lines, by offsets, across tee's truncations ----------------------------


def test_fallbacks_counted_exactly_across_a_truncation_from_the_run_logs(fleet: Fleet) -> None:
    a, b = fleet.instance("Aa1"), fleet.instance("Bb2")
    first = a.start(threads=2)
    other = b.start()
    first.send("overload 3")
    other.send("threadpool 2")
    record = fleet.once()
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks"] == counts(overload=3)
    assert instance_row(record, "tmp_batt_Bb2")["fallbacks"] == counts(threadpool=2)
    assert record["fallbacks"] == counts(overload=3, threadpool=2)
    assert file_row(record, a.run_log)["reset"] == "new"
    assert file_row(record, a.run_log)["start"] == 0

    first.send("overload 2")
    first.send("tasks 2")
    record = fleet.once()
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks"] == counts(overload=2)
    assert instance_row(record, "tmp_batt_Bb2")["fallbacks"] == counts()
    row = file_row(record, a.run_log)
    assert row["reset"] is None and row["end"] == first.written
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks_total"] == counts(overload=5)

    # The run ends; the next run of the instance truncates its run log (shorter than the
    # offset when sampled), and says one overload.
    first.end()
    second = a.start()
    second.send("overload 1")
    assert second.written < first.written
    record = fleet.once()
    row = file_row(record, a.run_log)
    assert row["reset"] == "truncated" and row["start"] == 0 and row["end"] == second.written
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks"] == counts(overload=1)
    assert instance_row(record, "tmp_batt_Aa1")["pids"] == [second.pid]

    # And again, with a run that has grown past the old offset when it is sampled.
    second.end()
    third = a.start()
    third.send("tasks 6")
    third.send("processpool 2")
    third.send("overload 4")
    assert third.written > second.written
    record = fleet.once()
    row = file_row(record, a.run_log)
    assert row["reset"] == "rewritten" and row["start"] == 0
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks"] == counts(overload=4, processpool=2)
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks_total"] == counts(10, 2, 0)

    # Nothing new: zero, and the offsets stay.
    record = fleet.once()
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks"] == counts()
    assert file_row(record, a.run_log)["start"] == third.written


def test_run_log_and_console_of_an_instance_counted_once(fleet: Fleet) -> None:
    a = fleet.instance("Aa1")
    first = a.start()
    first.send("overload 3")
    record = fleet.once("tmp_batt_*_run.log", "run_card_*.log")
    row = instance_row(record, "tmp_batt_Aa1")
    assert row["fallbacks"] == counts(overload=3) and row["counted_from"] == "console"
    assert file_row(record, a.console)["counted"] is True
    assert file_row(record, a.console)["instance"] == "tmp_batt_Aa1"
    assert file_row(record, a.run_log)["counted"] is False
    assert file_row(record, a.run_log)["fallbacks"] == counts(overload=3)

    # Lines of a run written after the sample and before tee truncates the run log for
    # the next run are still in the console: nothing is lost, nothing counted twice.
    first.send("overload 2")
    first.end()
    second = a.start()
    second.send("overload 4")
    second.send("threadpool 1")
    record = fleet.once("tmp_batt_*_run.log", "run_card_*.log")
    assert instance_row(record, "tmp_batt_Aa1")["fallbacks"] == counts(overload=6, threadpool=1)
    assert file_row(record, a.run_log)["reset"] in {"truncated", "rewritten"}
    assert file_row(record, a.run_log)["start"] == 0
    assert file_row(record, a.console)["reset"] is None


def test_from_run_logs_alone_a_truncated_run_s_unsampled_tail_is_lost(fleet: Fleet) -> None:
    # The same sequence without the console: the two overloads the first run wrote after
    # the sample went with its run log when tee truncated it (as documented).
    a = fleet.instance("Aa1")
    first = a.start()
    first.send("overload 3")
    assert instance_row(fleet.once(), "tmp_batt_Aa1")["fallbacks"] == counts(overload=3)
    first.send("overload 2")
    first.end()
    second = a.start()
    second.send("overload 4")
    assert instance_row(fleet.once(), "tmp_batt_Aa1")["fallbacks"] == counts(overload=4)


def test_a_console_seen_first_is_read_from_its_latest_run(fleet: Fleet) -> None:
    a = fleet.instance("Cc3")
    first = a.start()
    first.send("overload 7")
    first.end()
    second = a.start()
    second.send("overload 1")
    record = fleet.once("run_card_*.log")
    assert instance_row(record, "tmp_batt_Cc3")["fallbacks"] == counts(overload=1)
    row = file_row(record, a.console)
    assert row["reset"] == "new" and row["start"] > 0
    assert a.console.read_bytes()[row["start"] :].startswith(b"Running: python run_batt.py")


def test_a_line_still_being_written_waits_for_the_next_sample(fleet: Fleet) -> None:
    log = fleet.folder / "tmp_batt_Half_run.log"
    log.write_bytes(b"run_batt.py:539: -- System overloaded (61 threads), using seq")
    record = fleet.once()
    assert instance_row(record, "tmp_batt_Half")["fallbacks"] == counts()
    assert file_row(record, log)["end"] == 0
    with log.open("ab") as handle:
        handle.write(b"uential processing\n")
    record = fleet.once()
    assert instance_row(record, "tmp_batt_Half")["fallbacks"] == counts(overload=1)


def test_the_monitor_never_reads_its_own_logs(fleet: Fleet) -> None:
    # A glob that matches the monitor's own human log, whose alert lines quote the phrases.
    log = fleet.folder / "tmp_batt_Own_run.log"
    log.write_text("run_batt.py:539: -- System overloaded (61 threads), using sequential\n" * 6)
    first = fleet.once("tmp_batt_*_run.log", "mon/*")
    assert first["alerts"] == 1
    log.write_text("")
    record = fleet.once("tmp_batt_*_run.log", "mon/*")
    assert {f["path"] for f in record["logs"]["files"]} == {str(log)}
    assert record["fallbacks"] == counts()
