"""The monitor's records, its reader, its rules and its log reading, piece by piece."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import read
from poolwatch.ingest.grammar import RUN_RULES
from poolwatch.monitor import alerts, fallbacks, logfiles, records
from poolwatch.monitor.fallbacks import Fallbacks
from poolwatch.monitor.records import Appender, encode, read_records

README = (Path(__file__).parent.parent / "docs" / "monitor.md").read_text()
POOLWATCH = str(Path(sys.executable).parent / "poolwatch")
pytestmark = pytest.mark.timeout(120)


# --- the reader ----------------------------------------------------------------------


def test_the_reader_skips_a_final_line_without_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    whole = [encode({"record": "sample", "sample": n}) for n in (1, 2)]
    log.write_bytes(b"".join(whole) + encode({"record": "sample", "sample": 3})[:-9])
    read = read_records(log)
    assert [r["sample"] for r in read.records] == [1, 2]
    assert read.partial and read.invalid == 0


def test_a_line_cut_short_never_swallows_the_next_record(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    log.write_bytes(encode({"record": "sample", "sample": 1}) + b'{"record":"sam')
    appender = Appender(log)
    appender.append([encode({"record": "sample", "sample": 2})])
    appender.close()
    read = read_records(log)
    assert [r["sample"] for r in read.records] == [1, 2]
    assert not read.partial and read.invalid == 1


def test_the_reader_counts_lines_that_are_not_records(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    log.write_bytes(b'[1]\n{"no": "record"}\nnot json\n\n' + encode({"record": "stop"}))
    read = read_records(log)
    assert [r["record"] for r in read.records] == ["stop"] and read.invalid == 3


def test_a_record_is_one_ascii_line_whatever_it_holds() -> None:
    line = encode({"record": "sample", "path": "a\nb\u202e\udcff"})
    assert line.count(b"\n") == 1 and line.endswith(b"\n") and line.isascii()


# --- the schema: documented, and the one written -------------------------------------

_COUNTS = {"fallbacks", "fallbacks_total"}


def _paths(value: Any, prefix: str = "") -> set[str]:
    """The field paths of a record, as FIELDS writes them (``counts`` objects whole)."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if key in _COUNTS:
                assert set(item) == set(fallbacks.KINDS)
                found.add(path)
            elif isinstance(item, dict) or (isinstance(item, list) and item
                                            and isinstance(item[0], dict)):  # fmt: skip
                found |= _paths(item, path)
            else:
                found.add(path)
        return found
    assert isinstance(value, list)
    return set().union(*(_paths(item, f"{prefix}[]") for item in value))


def _documented(kind: str) -> set[str]:
    return {field for kinds, field, _, _ in records.FIELDS
            if kind in kinds.split(", ") or kinds == "all"}  # fmt: skip


def test_the_schema_is_documented_in_the_readme_and_the_module() -> None:
    assert records.describe() in README
    assert records.describe() in (records.__doc__ or "")


def test_every_field_written_is_documented_and_every_documented_field_written(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "tmp_batt_Sc1_run.log").write_text("-- System overloaded (60 threads)\n" * 6)
    (logs / "run_card.log").write_text("Running: python run_batt.py -b tmp_batt_Sc2_run\n")
    (logs / "tmp_batt_Bad_run.log").symlink_to("/sys/bus/pci/rescan")
    log = tmp_path / "m.jsonl"
    worker = [sys.executable, str(Path(__file__).parent / "fleet" / "run_batt.py"),
              "-t", "1", "-c", "-1", "-b", "tmp_batt_Sc1_run"]  # fmt: skip
    proc = subprocess.Popen(worker, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stderr is not None and proc.stdin is not None
        proc.stdin.write(b"tasks 0\n")
        proc.stdin.flush()
        assert proc.stderr.readline().startswith(b"ok")
        monitor = subprocess.Popen(
            [POOLWATCH, "monitor", "--interval", "0.2", "-q", "--log", str(log),
             "--logs", str(logs / "*")])  # fmt: skip
        try:
            _wait_for(log, 2)
            monitor.terminate()
            assert monitor.wait(timeout=20) == 0
        finally:
            if monitor.poll() is None:
                monitor.kill()
                monitor.wait(timeout=20)
    finally:
        proc.kill()
        proc.wait(timeout=20)
        for pipe in (proc.stdin, proc.stderr):
            if pipe is not None:
                pipe.close()
    written = read_records(log).records
    for kind in ("start", "sample", "alert", "stop"):
        mine = [r for r in written if r["record"] == kind]
        assert mine, kind
        assert set().union(*(_paths(r) for r in mine)) == _documented(kind), kind
        assert all(r["schema"] == records.SCHEMA_VERSION for r in mine)


def _wait_for(log: Path, samples: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if (
            log.exists()
            and sum(r["record"] == "sample" for r in read_records(log).records) >= samples
        ):
            return
        time.sleep(0.05)
    raise AssertionError("no samples")


# --- phrases, rules, reading ---------------------------------------------------------


def test_the_phrases_are_the_parser_s() -> None:
    greps = {rule.kind: rule.grep for rule in RUN_RULES if rule.kind in fallbacks.KINDS}
    assert greps == fallbacks.PHRASES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"run_batt.py:539: -- System overloaded (65 threads), using sequential processing\n",
         Fallbacks(overload=1)),
        (b"\x1b[31m-- System overloaded (65 threads)\x1b[0m\r\n", Fallbacks(overload=1)),
        (b"System overloaded System overloaded\n", Fallbacks(overload=1)),  # grep -c: lines
        (b"\xe2\x9a\xa0\xef\xb8\x8f  ALERT: System overloaded detected 7 times in last 100 lines\n",
         Fallbacks()),
        (b"-- ProcessPoolExecutor failed (OSError: [Errno 12] Cannot allocate memory), trying "
         b"ThreadPoolExecutor\n-- ThreadPoolExecutor also failed (x), using sequential\n",
         Fallbacks(processpool_failed=1, threadpool_failed=1)),
        (b"-- ProcessPoolExecutor failed ([Errno 12]), falling back to sequential\n\xff\xfe\n",
         Fallbacks(processpool_failed=1)),
        (b"ThreadPool failures 4 times\nParallel execution failed (x)\n", Fallbacks()),
    ],
)  # fmt: skip
def test_fallback_lines_are_counted_as_grep_counts_them(text: bytes, expected: Fallbacks) -> None:
    assert fallbacks.count(text) == expected


@pytest.mark.parametrize(
    ("overload", "threadpool", "fired"),
    [(5, 3, []), (6, 3, ["overload"]), (5, 4, ["threadpool"]), (6, 4, ["overload", "threadpool"]),
     (100, 0, ["overload"])],
)  # fmt: skip
def test_the_alert_rules_at_their_boundaries(
    overload: int, threadpool: int, fired: list[str]
) -> None:
    window = {
        "tmp_batt_a": Fallbacks(overload=overload, threadpool_failed=threadpool),
        "tmp_batt_b": Fallbacks(overload=5, threadpool_failed=3),
    }
    found = alerts.check(window, 60.0)
    assert [a.rule.name for a in found] == fired
    assert all(a.instance == "tmp_batt_a" for a in found)


def test_a_console_s_lines_go_to_the_instance_of_the_running_line_above(tmp_path: Path) -> None:
    console = tmp_path / "nohup.out"
    console.write_bytes(
        b"-- System overloaded (60 threads)\n"
        b"Running: python run_batt.py -t 10.0 -c -32 -b tmp_batt_One_run\n"
        b"-- System overloaded (60 threads)\n-- System overloaded (60 threads)\n"
        b"Running: timeout -k 5s 64s python run_batt.py -c -32 -b /tmp/x/tmp_batt_Two_run\n"
        b"-- ThreadPoolExecutor also failed (x), using sequential processing\n"
    )
    # A console known from offset 0 (a mark with the digests of nothing read).
    stat, empty = console.stat(), hashlib.blake2b(b"", digest_size=8).hexdigest()
    mark = logfiles.Mark(stat.st_dev, stat.st_ino, 0, empty, empty, None)
    reading = logfiles.read(str(console), mark)
    assert reading.kind == "console" and reading.instance == "tmp_batt_Two"
    assert [(s.instance, s.fallbacks) for s in reading.segments] == [
        (None, Fallbacks(overload=1)),
        ("tmp_batt_One", Fallbacks(overload=2)),
        ("tmp_batt_Two", Fallbacks(threadpool_failed=1)),
    ]
    with console.open("ab") as handle:
        handle.write(b"-- ThreadPoolExecutor also failed (x), using sequential processing\n")
    again = logfiles.read(str(console), reading.mark)
    assert again.reset is None and again.start == reading.end
    assert [(s.instance, s.fallbacks) for s in again.segments] == [
        ("tmp_batt_Two", Fallbacks(threadpool_failed=1))
    ]


def test_a_console_without_a_running_line_is_read_from_its_end(tmp_path: Path) -> None:
    console = tmp_path / "nohup.out"
    console.write_bytes(b"-- System overloaded (60 threads)\n" * 3 + b"half a li")
    reading = logfiles.read(str(console), None)
    assert reading.reset == "new" and reading.start == reading.end == 34 * 3
    assert reading.fallbacks == Fallbacks()


def test_a_replaced_file_is_read_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "tmp_batt_R1_run.log"
    log.write_bytes(b"-- System overloaded (60 threads)\n")
    first = logfiles.read(str(log), None)
    moved = tmp_path / "tmp_batt_R1_run.log.1"
    log.rename(moved)
    log.write_bytes(b"-- System overloaded (60 threads)\n" * 2)
    again = logfiles.read(str(log), first.mark)
    assert again.reset == "replaced" and again.fallbacks == Fallbacks(overload=2)


def test_globs_give_each_file_once(tmp_path: Path) -> None:
    log = tmp_path / "tmp_batt_G1_run.log"
    log.write_text("x\n")
    (tmp_path / "link.log").symlink_to(log)
    files, unmatched = logfiles.expand([str(tmp_path / "*.log"), str(log), str(tmp_path / "z*")])
    assert files == [str(tmp_path / "link.log")] and unmatched == [str(tmp_path / "z*")]


# --- the human log: the guide's format, which poolwatch parse reads ------------------


def test_the_human_log_alone_is_read_by_poolwatch_parse_as_the_samples(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "tmp_batt_Hu1_run.log").write_text("-- System overloaded (60 threads)\n" * 7)
    log = tmp_path / "mon" / "poolwatch-monitor.jsonl"
    log.parent.mkdir()
    for _ in range(2):
        done = subprocess.run([POOLWATCH, "monitor", "--once", "-q", "--log", str(log),
                               "--logs", str(logs / "*")], timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0
    human = log.with_name("poolwatch-monitor.log")
    result = read(human)
    assert result.files["family"].tolist() == ["monitor_human"]
    assert result.monitor.empty  # not the guide's script: its Python= is no fresh interpreter
    host = result.host_samples
    assert host["overload"].tolist() == [7, 0]
    jsonl = [r for r in read_records(log).records if r["record"] == "sample"]
    assert host["host_threads"].tolist() == [r["host"]["threads"] for r in jsonl]
    assert json.loads(json.dumps(jsonl[0]))["fallbacks"]["overload"] == 7
    both = read(human, log)
    assert both.files["status"].tolist() == ["duplicate", "read"]
    assert len(both.host_samples) == 2


def test_importing_the_cli_loads_nothing_of_the_monitor() -> None:
    probe = (
        "import sys, poolwatch.cli; print(sorted(m for m in sys.modules if m.split('.')[0] "
        "in ('psutil', 'prometheus_client') or m.startswith('poolwatch.monitor')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"
