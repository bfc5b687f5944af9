"""What real files also contain: compression, duplicates, bad bytes, odd line endings."""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import read
from poolwatch.ingest.discover import Source
from poolwatch.ingest.parse import ingest
from poolwatch.ingest.sources import Reader

CONSOLE = "console_two_runs.log"


@pytest.mark.parametrize(
    ("name", "compress"),
    [("gzip", gzip.compress), ("bzip2", bz2.compress), ("xz", lzma.compress)],
)
def test_compressed_copies_are_read_and_counted_once(
    logs: Path, name: str, compress: Callable[[bytes], bytes]
) -> None:
    plain = logs / CONSOLE
    packed = logs.parent / f"rotated.{name}"
    packed.write_bytes(compress(plain.read_bytes()))
    alone = read(packed)
    assert alone.files["compressed"].tolist() == [name]
    assert len(alone.runs) == 3
    both = read(plain, packed)
    assert both.files["status"].tolist() == ["read", "duplicate"]
    assert len(both.runs) == 3


def test_compression_is_told_by_content_not_name(logs: Path) -> None:
    misnamed = logs.parent / "console.txt"
    misnamed.write_bytes(gzip.compress((logs / CONSOLE).read_bytes()))
    assert len(read(misnamed).runs) == 3


def test_a_truncated_gzip_keeps_what_precedes_the_cut(logs: Path) -> None:
    text = (logs / CONSOLE).read_text()
    runs = [text.replace("a1b2c3d", f"{i:07x}") for i in range(200)]
    data = gzip.compress("".join(runs).encode())
    cut = logs.parent / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = read(cut)
    assert result.files["status"].tolist() == ["read"]
    assert "cut short" in result.files["reason"].iloc[0]
    assert 100 < len(result.runs) < 500


def test_same_file_through_a_directory_and_a_glob_counts_once(logs: Path) -> None:
    result = read(logs, logs / "*.log", logs / CONSOLE)
    assert (result.files["status"] == "read").sum() == 2
    assert len(result.runs) == 3


def test_binary_and_empty_files_are_skipped_with_a_reason(logs: Path) -> None:
    (logs / "core.bin").write_bytes(bytes(range(256)) * 40)
    (logs / "empty.log").write_bytes(b"")
    files = read(logs).files.set_index("path")
    assert files.loc[str(logs / "core.bin"), "status"] == "skipped"
    assert "binary" in str(files.loc[str(logs / "core.bin"), "reason"])
    assert files.loc[str(logs / "empty.log"), "reason"] == "empty file"


def test_a_file_of_something_else_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("shopping list\nmilk\n")
    assert read(tmp_path).files["reason"].tolist() == [
        "no run_batt output, dated Running: line, monitor record or thread count "
        "(as ps or threading print it) in its first 64 KiB"
    ]


def test_hostile_text_crlf_ansi_progress_bars_bad_utf8_huge_line(tmp_path: Path) -> None:
    lines = [
        b"Running: python run_batt.py -t 10.0 -c -32 -b tmp_batt_abc123_run\r\n",
        b"\x1b[31m-- System overloaded (71 threads), using sequential processing\x1b[0m\r\n",
        b"progress 10%\rprogress 50%\r-- System overloaded (72 threads), using sequential\n",
        b"-- ProcessPoolExecutor failed (OSError: bad \xff\xfe bytes), trying ThreadPoolExecutor\n",
        b"x" * 3_000_000 + b"\n",
        b"-- ThreadPoolExecutor also failed (can't start new thread), using sequential pro",
    ]
    path = tmp_path / "hostile.log"
    path.write_bytes(b"".join(lines))
    result = read(path)
    events = result.events.set_index("line")
    assert events.loc[2, "threads"] == 71
    assert str(events.loc[2, "text"]).startswith("-- System overloaded")
    assert events.loc[3, "threads"] == 72
    assert "\ufffd" in str(events.loc[4, "message"])
    assert events.loc[6, "kind"] == "threadpool_failed"
    assert result.files["last_line_cut"].tolist() == [True]
    assert result.files["unparsed"].tolist() == [1]
    assert result.runs["last_line_cut"].tolist() == [True]


def test_a_file_growing_while_read_gives_the_prefix_it_had(logs: Path) -> None:
    path = logs / CONSOLE
    size = path.stat().st_size
    with Reader(Source(str(path), path), chunk_bytes=256) as reader:
        chunks = reader.chunks()
        first = next(chunks)
        with path.open("ab") as handle:
            handle.write(b"run_batt.py:428: demo[2] - 3a1b2c3d - 3\n" * 100)
        rest = b"".join(chunks)
    assert len(first) + len(rest) == size
    assert reader.facts.grew


def test_standard_input(logs: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "poolwatch", "parse", "-"],
        input=(logs / CONSOLE).read_bytes(),
        capture_output=True,
        check=True,
    )
    assert b"runs: 3" in done.stdout


def test_inputs_are_never_modified(logs: Path, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in logs.iterdir()}
    stamps = {p: p.stat().st_mtime_ns for p in logs.iterdir()}
    read(logs)
    assert {p: p.read_bytes() for p in logs.iterdir()} == before
    assert {p: p.stat().st_mtime_ns for p in logs.iterdir()} == stamps
    assert shutil.which("grep")


def test_a_renamed_copy_counts_once(logs: Path) -> None:
    copy = logs.parent / "nohup.out"
    copy.write_bytes((logs / CONSOLE).read_bytes())
    result = read(logs / CONSOLE, copy)
    assert result.files["status"].tolist() == ["read", "duplicate"]
    assert result.files["reason"].iloc[1] == f"same content as {logs / CONSOLE}"
    assert len(result.runs) == 3


DOCUMENTS = Path(__file__).parent / "documents"
SAMPLE_LOGS = Path(__file__).parent.parent / "sample_logs"
QUOTED = (
    r"not a log: \d+ of \d+ non-blank lines in its first 64 KiB are log lines "
    r"\(a document quoting them\?\)"
)
README_QUOTING_LINES = """\
# batt fleet

Notes on reading the logs of `run_card.sh` and `run_batt.py`.

## Overload

When the host runs too many threads, run_batt prints, for every task:

```
run_batt.py:539: -- System overloaded (65 threads), using sequential processing
```

and the task runs on one worker. Nothing needs doing unless it shows in most runs.

## Memory

```
-- ThreadPoolExecutor also failed (can't start new thread), using sequential processing
```

A run killed by the timeout lacks its closing `32 tasks - 3 timeouts` line.

## Console

Each iteration of the console starts like this:

```
Tue Oct 14 09:36:08 CEST 2025
Running: python run_batt.py -t 10.0 -c -32 -b tmp_batt_Xa3k9Q_run
```

| symptom | action |
|---|---|
| overloaded | fewer instances |
| memory | add memory |
"""


@pytest.mark.parametrize("name", ["monitoring-guide.md", "log-formats.md", "README.md"])
def test_documents_quoting_log_lines_are_not_logs(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "README.md":
        path.write_text(README_QUOTING_LINES)
    else:
        shutil.copy(DOCUMENTS / name, path)
    result = read(path)
    assert result.files["status"].tolist() == ["skipped"]
    assert re.fullmatch(QUOTED, str(result.files["reason"].iloc[0]))
    assert result.events.empty


def test_the_share_of_log_lines_is_in_the_reason(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README_QUOTING_LINES)
    reason = read(tmp_path).files["reason"].iloc[0]
    assert reason.startswith("not a log: 4 of 23 non-blank lines")


CONSOLE_OF_TRACEBACKS = """\
Tue Oct 14 09:36:08 CEST 2025
=== NO GPU - CPU MODE ===
Running: python run_batt.py -t 10.0 -c -32 -b tmp_batt_Xa3k9Q_run
run_batt.py:72: GPU Support: Disabled (CuPy not available)
run_batt.py:840: -- 0a1b2c3d - 0 start --
Exception in thread ExecutorManagerThread:
Traceback (most recent call last):
  File "/usr/lib/python3.12/threading.py", line 1073, in _bootstrap_inner
    self.run()
  File "/usr/lib/python3.12/concurrent/futures/process.py", line 339, in run
    self.add_call_item_to_queue()
    ~~~~~~~~~~~~~~~~~~~~~~~~~~~^^
RuntimeError: can't start new thread
Exception ignored in thread started by: <function _after_fork at 0x7f3a2c1b8d60>
Traceback (most recent call last):
  File "/usr/lib/python3.12/threading.py", line 1012, in _bootstrap
MemoryError:
KeyError: 134648993371840
concurrent.futures.process.BrokenProcessPool: A child process terminated abruptly
resource_tracker: There appear to be 9 leaked semlock objects to clean up at shutdown
Tue Oct 14 09:46:08 CEST 2025
"""
SPLIT_MONITOR = """\
=== Week 6B Monitoring Started ===
Sat Nov 28 11:35:50 UTC 2026
2026-11-28 11:35:50 | Threads: Python=1 System=92 | Fails: Process=0
0 Thread=0
0 Overload=0
0
2026-11-28 11:36:50 | Threads: Python=1 System=93 | Fails: Process=0
0 Thread=0
0 Overload=0
0
monitor_week6b.sh: line 25: [: 0
0: integer expression expected
"""
TINY_RUN_LOG = """\
run_batt.py:72: GPU Support: Disabled (CuPy not available)
run_batt.py:840: -- 0a1b2c3d - 0 start --
run_batt.py:539: -- System overloaded (41 threads), using sequential processing
"""


@pytest.mark.parametrize(
    ("name", "text", "family"),
    [
        ("nohup.out", CONSOLE_OF_TRACEBACKS, "console"),
        ("tmp_batt_Xa3k9Q_run.log", TINY_RUN_LOG, "run_batt"),
        ("week6b_monitoring.log", SPLIT_MONITOR, "monitor"),
    ],
)
def test_logs_of_every_family_are_read(tmp_path: Path, name: str, text: str, family: str) -> None:
    (tmp_path / name).write_text(text)
    files = read(tmp_path).files
    assert files["status"].tolist() == ["read"]
    assert files["family"].tolist() == [family]


def test_the_hand_written_and_sample_logs_are_all_read(logs: Path) -> None:
    files = read(logs, SAMPLE_LOGS).files
    assert (files["status"] != "skipped").all()
    assert set(files["family"]) >= {"console", "run_batt", "monitor"}


def test_sample_logs_are_read_whole() -> None:
    # Every file is a log (the stricter detection skips none), every console run and task
    # is found, and the tee copies are counted once: as grep counts them in the consoles.
    result = read(SAMPLE_LOGS)
    files = result.files
    assert set(files["status"]) == {"read", "duplicate"}
    consoles = sorted(SAMPLE_LOGS.rglob("run_card_*.log"))
    text = "".join(path.read_text() for path in consoles)
    assert len(result.runs) == len(re.findall(r"(?m)^Running: ", text))
    assert len(result.tasks) == len(re.findall(r"(?m) start --$", text))
    run_logs = files[files["path"].str.contains("tmp_batt_")]
    assert (run_logs["status"] == "duplicate").all()
    records = sum(p.read_text().count(" | Threads: ") for p in SAMPLE_LOGS.rglob("week6b*"))
    assert len(result.monitor[result.monitor["record"] == "sample"]) == records
    assert int(files.loc[files["status"] == "read", "unparsed"].sum()) == 0


def test_a_family_is_told_from_64_kib_whatever_the_chunk_size(tmp_path: Path) -> None:
    path = tmp_path / "nohup.out"
    path.write_text(CONSOLE_OF_TRACEBACKS)
    assert ingest([str(path)], chunk_bytes=100).files["family"].tolist() == ["console"]
