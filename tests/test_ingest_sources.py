"""What real files also contain: compression, duplicates, bad bytes, odd line endings."""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import read
from poolwatch.ingest.sources import Reader, Source

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
        "no run_batt, run_card, monitor or thread-count lines"
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
