"""``poolwatch monitor`` against real processes: run_batt.py stand-ins with real threads,
their output through a real ``tee`` into run logs that it truncates at each run, and
the monitor run as a user runs it, in a process of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleet.harness import DEADLINE, Instance, threads_of, wait_gone
from poolwatch.monitor import processes
from poolwatch.monitor.processes import instance_of
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
    rows: list[dict[str, Any]] = [r for r in record["instances"] if r["instance"] == name]
    assert len(rows) == 1, record["instances"]
    return rows[0]


def file_row(record: dict[str, Any], path: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [r for r in record["logs"]["files"] if r["path"] == str(path)]
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


# --- alerts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overloads", "threadpools", "rules"),
    [(5, 3, []), (6, 3, ["overload"]), (5, 4, ["threadpool"]), (6, 4, ["overload", "threadpool"]),
     (0, 0, [])],
)  # fmt: skip
def test_alerts_are_integer_tests_at_the_guide_s_boundaries(
    fleet: Fleet, overloads: int, threadpools: int, rules: list[str]
) -> None:
    run = fleet.instance("Al1").start()
    quiet = fleet.instance("Al2").start()
    run.send(f"overload {overloads}")
    run.send(f"threadpool {threadpools}")
    quiet.send("overload 5")  # the same counts summed over instances would pass 5
    record = fleet.once()
    read = read_records(fleet.log).records
    alerts = [r for r in read if r["record"] == "alert"]
    assert record["alerts"] == len(rules)
    assert [a["rule"] for a in alerts] == rules
    for alert in alerts:
        assert alert["instance"] == "tmp_batt_Al1" and alert["sample"] == record["sample"]
        assert alert["count"] == (overloads if alert["rule"] == "overload" else threadpools)
        assert alert["threshold"] == (5 if alert["rule"] == "overload" else 3)
        assert alert["count"] > alert["threshold"]
        assert alert["delivery"] == {"syslog": None, "command": None}
    human = (fleet.log.parent / "poolwatch-monitor.log").read_text()
    assert (f"ALERT: System overloaded detected {overloads} times in tmp_batt_Al1" in human) is (
        "overload" in rules
    )
    assert (f"ALERT: ThreadPool failures {threadpools} times in tmp_batt_Al1" in human) is (
        "threadpool" in rules
    )


def test_an_alert_is_counted_per_window_not_per_run(fleet: Fleet) -> None:
    run = fleet.instance("Al3").start()
    run.send("overload 4")
    assert fleet.once()["alerts"] == 0
    run.send("overload 4")  # 8 in the run, 4 in this window
    assert fleet.once()["alerts"] == 0
    run.send("overload 6")
    assert fleet.once()["alerts"] == 1


def test_on_alert_gets_the_alert_without_a_shell(fleet: Fleet, tmp_path: Path) -> None:
    hook = tmp_path / "hook.py"
    out = tmp_path / "got.jsonl"
    hook.write_text(
        "import json, os, sys\n"
        "alert = {k: v for k, v in os.environ.items() if k.startswith('POOLWATCH_ALERT_')}\n"
        f"with open({str(out)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'env': alert,\n"
        "                        'stdin': json.loads(sys.stdin.read())}) + '\\n')\n"
        "sys.exit(3)\n"
    )
    run = fleet.instance("Hk1").start()
    run.send("threadpool 4")
    command = f"{sys.executable} {hook} 'two words' ; touch {tmp_path / 'pwned'}"
    fleet.once(extra=("--on-alert", command))
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == 1
    assert got[0]["argv"] == ["two words", ";", "touch", str(tmp_path / "pwned")]
    assert not (tmp_path / "pwned").exists()
    env, stdin = got[0]["env"], got[0]["stdin"]
    assert env["POOLWATCH_ALERT_RULE"] == "threadpool" == stdin["rule"]
    assert env["POOLWATCH_ALERT_INSTANCE"] == "tmp_batt_Hk1" == stdin["instance"]
    assert env["POOLWATCH_ALERT_COUNT"] == "4" and stdin["count"] == 4
    assert env["POOLWATCH_ALERT_THRESHOLD"] == "3" and env["POOLWATCH_ALERT_SEVERITY"] == "critical"
    assert "ThreadPool failures 4 times in tmp_batt_Hk1" in env["POOLWATCH_ALERT_MESSAGE"]
    alert = next(r for r in read_records(fleet.log).records if r["record"] == "alert")
    assert alert["delivery"] == {"syslog": None, "command": "exit 3"}


def test_syslog_gets_the_alert(fleet: Fleet, tmp_path: Path) -> None:
    address = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(DEADLINE)
    try:
        run = fleet.instance("Sy1").start()
        run.send("overload 9")
        fleet.once(extra=("--syslog", "--syslog-socket", address))
        message = server.recv(4096).decode()
    finally:
        server.close()
    # <12>: facility user (1) * 8 + warning (4).
    assert message.startswith("<12>poolwatch-monitor: ALERT: System overloaded detected 9 times")
    alert = next(r for r in read_records(fleet.log).records if r["record"] == "alert")
    assert alert["delivery"]["syslog"] == "sent"


def test_syslog_without_a_socket_is_one_line(fleet: Fleet) -> None:
    done = monitor("--once", "--log", str(fleet.log), "--syslog", "--syslog-socket",
                   str(fleet.folder / "no.sock"), cwd=fleet.folder)  # fmt: skip
    assert done.code == 1
    assert done.err.count("\n") == 1 and "--syslog:" in done.err and "does not exist" in done.err


# --- the Prometheus textfile ---------------------------------------------------------


def metrics(path: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of a textfile, by name and labels, parsed by prometheus_client."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_the_textfile_holds_the_sample_s_figures(fleet: Fleet) -> None:
    prom = fleet.folder / "prom" / "poolwatch.prom"
    prom.parent.mkdir()
    a = fleet.instance("Pm1").start(threads=6)
    b = fleet.instance("Pm2").start(threads=1)
    a.send("overload 2")
    b.send("processpool 1")
    record = fleet.once(extra=("--textfile", str(prom)))
    text = prom.read_text()
    assert "# HELP poolwatch_monitor_instance_threads " in text
    assert "# TYPE poolwatch_monitor_fallbacks_total counter" in text
    got = metrics(prom)
    assert got["poolwatch_monitor_up"] == {(): 1.0}
    assert got["poolwatch_monitor_runs_in_progress"] == {(): 2.0}
    assert got["poolwatch_monitor_instance_threads"] == {
        (("instance", "tmp_batt_Pm1"),): 7.0,
        (("instance", "tmp_batt_Pm2"),): 2.0,
    }
    assert got["poolwatch_monitor_host_threads"] == {(): record["host"]["threads"]}
    fallbacks = got["poolwatch_monitor_fallbacks_total"]
    assert fallbacks[(("instance", "tmp_batt_Pm1"), ("kind", "overload"))] == 2
    assert fallbacks[(("instance", "tmp_batt_Pm2"), ("kind", "processpool_failed"))] == 1
    assert fallbacks[(("instance", "tmp_batt_Pm2"), ("kind", "overload"))] == 0
    assert got["poolwatch_monitor_samples_total"] == {(): 1.0}
    readme = (Path(__file__).parent.parent / "docs" / "monitor.md").read_text()
    assert [name for name in got if f"| `{name}` |" not in readme] == []

    a.send("overload 1")
    fleet.once(extra=("--textfile", str(prom)))
    got = metrics(prom)
    fallbacks = got["poolwatch_monitor_fallbacks_total"]
    assert fallbacks[(("instance", "tmp_batt_Pm1"), ("kind", "overload"))] == 3
    window = got["poolwatch_monitor_window_fallbacks"]
    assert window[(("instance", "tmp_batt_Pm1"), ("kind", "overload"))] == 1
    assert sorted(p.name for p in prom.parent.iterdir()) == ["poolwatch.prom"]  # no leftovers


# --- the foreground loop -------------------------------------------------------------


def start_monitor(fleet: Fleet, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([POOLWATCH, "monitor", "--interval", "0.1", "-q", "--log",
                             str(fleet.log), *extra], cwd=fleet.folder,
                            stderr=subprocess.PIPE)  # fmt: skip


def wait_samples(fleet: Fleet, count: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if fleet.log.exists():
            read = read_records(fleet.log)
            if sum(r["record"] == "sample" for r in read.records) >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} samples")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_loop_cleanly_after_its_sample(fleet: Fleet, stop: int) -> None:
    prom = fleet.folder / "poolwatch.prom"
    run = fleet.instance("Lp1").start(threads=3)
    run.send("overload 1")
    proc = start_monitor(fleet, "--textfile", str(prom))
    try:
        wait_samples(fleet, 3)
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=DEADLINE)
    assert proc.returncode == 0 and err == b""
    read = read_records(fleet.log)
    assert not read.partial and read.invalid == 0
    kinds = [r["record"] for r in read.records]
    assert kinds[0] == "start" and kinds[-1] == "stop" and set(kinds[1:-1]) == {"sample"}
    stopped = read.records[-1]
    assert stopped["reason"] == signal.Signals(stop).name
    assert stopped["samples"] == len(kinds) - 2
    samples = [r for r in read.records if r["record"] == "sample"]
    assert [r["sample"] for r in samples] == list(range(1, len(samples) + 1))
    assert sum(instance_row(r, "tmp_batt_Lp1")["fallbacks"]["overload"] for r in samples) == 1
    assert all(0.05 < r["window"] < 5 for r in samples[1:])
    assert metrics(prom)["poolwatch_monitor_up"] == {(): 0.0}
    human = (fleet.log.parent / "poolwatch-monitor.log").read_text().splitlines()
    assert human[-1].startswith(f"=== poolwatch monitor: Monitoring Stopped ({stopped['reason']})")


def test_a_kill_9_in_the_loop_leaves_whole_records(fleet: Fleet) -> None:
    busy = [fleet.instance(f"K{i}").start(threads=i) for i in range(3)]
    for kill in range(6):
        for run in busy:
            run.send("tasks 20")
            run.send("overload 7")
        proc = start_monitor(fleet)
        try:
            wait_samples(fleet, 2 + kill * 2)
            time.sleep(0.013 * kill)  # somewhere else in the loop each time
            proc.kill()
            proc.wait(timeout=DEADLINE)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=DEADLINE)
        assert proc.stderr is not None
        proc.stderr.close()
        read = read_records(fleet.log)
        assert not read.partial and read.invalid == 0
        assert fleet.log.read_bytes().endswith(b"\n")
    # The lock died with the process: a monitor starts again, and goes on counting.
    record = fleet.once()
    assert record["sample"] > 10 and record["window"] is not None
    samples = [r for r in read_records(fleet.log).records if r["record"] == "sample"]
    assert all(isinstance(s["host"]["threads"], int) for s in samples)


def test_a_second_monitor_on_the_same_log_is_refused(fleet: Fleet) -> None:
    proc = start_monitor(fleet)
    try:
        wait_samples(fleet, 1)
        done = monitor("--once", "--log", str(fleet.log), cwd=fleet.folder)
        assert done.code == 1
        assert (
            done.err
            == f"Error: {fleet.log}: another poolwatch monitor (pid {proc.pid}) is using it\n"
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=DEADLINE)


# --- a user's mistakes: one line each ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--interval", "abc"], 2, "--interval: not a number of seconds: 'abc' (e.g. 60)"),
        (["--interval", "0"], 2, "--interval: '0' is out of range (from 0.1 to 86400 seconds)"),
        (["--interval", "-5"], 2, "--interval: '-5' is out of range"),
        (["--interval", "nan"], 2, "--interval: 'nan' is out of range"),
        (["--interval", "1e9"], 2, "--interval: '1e9' is out of range"),
        (["--log", "{tmp}/missing/m.jsonl"], 1, "--log: {tmp}/missing: no such directory"),
        (["--log", "{tmp}/file/m.jsonl"], 1, "--log: {tmp}/file: no such directory"),
        (["--log", "{tmp}"], 1, "is a directory"),
        (["--log", "{tmp}/m.log"], 2, "--log: {tmp}/m.log: give a file name such as"),
        (["--log", "/proc/self/m.jsonl"], 1, "cannot"),
        (["--textfile", "{tmp}/m.txt"], 2, "--textfile: {tmp}/m.txt: the name must end in .prom"),
        (["--textfile", "{tmp}/no/m.prom"], 1, "--textfile: {tmp}/no: no such directory"),
        (["--on-alert", "no-such-program-here --x"], 2,
         "--on-alert: no-such-program-here: no such program"),
        (["--on-alert", "echo 'unbalanced"], 2, "--on-alert: cannot split"),
        (["--on-alert", ""], 2, "--on-alert: the command is empty"),
        (["--syslog-socket", "/dev/log"], 2, "--syslog-socket is given without --syslog"),
    ],
)  # fmt: skip
def test_a_mistake_is_one_line(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "file").write_text("")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--log" not in args:
        args += ["--log", str(tmp_path / "m.jsonl")]
    done = monitor("--once", *args, cwd=tmp_path)
    assert done.code == code, done
    assert done.err.startswith("Error: ") and done.err.count("\n") == 1, done.err
    assert message.replace("{tmp}", str(tmp_path)) in done.err
    assert done.out == ""


def test_a_state_that_is_not_one_is_one_line(fleet: Fleet) -> None:
    fleet.once()
    state = fleet.log.parent / "poolwatch-monitor.state.json"
    state.write_text("{not json")
    done = monitor("--once", "--log", str(fleet.log), cwd=fleet.folder)
    assert done.code == 1 and done.err.count("\n") == 1
    assert f"{state}: not a poolwatch monitor state" in done.err and "start over" in done.err


def test_unreadable_and_unmatched_logs_are_recorded(fleet: Fleet) -> None:
    log = fleet.folder / "tmp_batt_Ur1_run.log"
    log.write_text("x\n")
    log.chmod(0)
    if os.access(log, os.R_OK):  # root reads anything: a sysfs file no one may read instead
        log.unlink()
        log.symlink_to("/sys/bus/pci/rescan")
    with pytest.raises(PermissionError):
        log.open("rb")
    never = str(fleet.folder / "nothing-*.log")
    record = fleet.once("tmp_batt_*_run.log", never)
    assert record["logs"]["unmatched"] == [never]
    assert record["logs"]["errors"] == [{"path": str(log), "error": "Permission denied"}]
    assert record["logs"]["files"] == []
    done = monitor("--once", "-v", "--log", str(fleet.log), "--logs", never, "--logs",
                   str(log), cwd=fleet.folder)  # fmt: skip
    assert done.code == 0
    assert f"--logs {never}: no file matches (recorded)" in done.err
    assert f"{log}: cannot read: Permission denied" in done.err
