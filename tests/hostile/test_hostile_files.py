"""Hostile files: names that are not text, special files, damaged and odd content, files
that change while read, and many small files.

Every input is built at run time in a temporary directory; poolwatch runs in a process
of its own, with a timeout, so that a hang fails the test instead of blocking it.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from poolwatch.ingest.grammar import RUN_RULES
from poolwatch.ingest.parse import ingest
from poolwatch.render.terminal import input_notes

from .conftest import CONSOLE, POOLWATCH, Done, grep_count, poolwatch

#: A second console, of other runs than CONSOLE's (three runs, eight tasks).
OTHER_CONSOLE = Path(__file__).parent.parent / "cases" / "tree-optimal" / "run_card_1.log"
#: The phrase an operator greps for, by event kind (from the grammar's own table).
PHRASES = {rule.kind: rule.grep for rule in RUN_RULES if rule.grep}
#: Seconds a test waits for poolwatch before it counts as hung.
HANG = 60


def skipped(done: Done) -> list[str]:
    """The ``skipped`` lines of a run's standard error."""
    return [line for line in done.err.splitlines() if line.startswith("poolwatch: skipped ")]


def warnings(done: Done) -> list[str]:
    """The ``warning`` lines of a run's standard error."""
    return [line for line in done.err.splitlines() if line.startswith("poolwatch: warning: ")]


def tables(*paths: str | os.PathLike[str], out: Path) -> tuple[Done, dict[str, pd.DataFrame]]:
    """``poolwatch parse PATHS --out OUT/`` and the tables it wrote."""
    done = poolwatch("parse", *paths, "--out", f"{out}/", timeout=HANG).clean()
    found = {p.stem: pd.read_parquet(p) for p in out.glob("*.parquet")} if done.code == 0 else {}
    return done, found


def status_of(files: pd.DataFrame) -> dict[str, str]:
    """Each input's status, by the name the files table gives it."""
    return dict(zip(files["path"], files["status"].astype(str), strict=True))


def kind_count(events: pd.DataFrame, kind: str) -> int:
    """Events of one kind."""
    return int((events["kind"].astype(str) == kind).sum())


def piped_count(pattern: str, command: list[str]) -> int:
    """``COMMAND | grep -a -c -F PATTERN``: what an operator counts in decompressed output."""
    data = subprocess.run(command, capture_output=True, check=False).stdout
    done = subprocess.run(
        ["grep", "-a", "-c", "-F", pattern], input=data, capture_output=True, check=False
    )
    return int(done.stdout or 0)


def many_runs(count: int = 300) -> bytes:
    """A console of ``count`` copies of CONSOLE's runs, each with task ids of its own."""
    text = CONSOLE.read_bytes()
    return b"".join(text.replace(b"a1b2c3d", b"%07x" % i) for i in range(count))


# 1. File names that are not text -------------------------------------------------------


def test_a_name_that_is_not_utf8_is_read_by_its_bytes_and_shown_escaped(
    good: Path, tmp_path: Path
) -> None:
    folder = os.fsencode(good)
    empty = os.fsdecode(folder + b"/bad\xff.log")
    Path(empty).touch()
    log = os.fsdecode(folder + b"/run\xfe\n\x1b]52;c;aGk=\x07card.log")
    shutil.copy(OTHER_CONSOLE, log)
    done, found = tables(good, out=tmp_path / "t")
    assert done.code == 0, done.err
    assert skipped(done) == [f"poolwatch: skipped {good}/bad\\xff.log: empty file"]
    assert "\x1b" not in done.err + done.out and "\x07" not in done.err + done.out
    shown_log = f"{good}/run\\xfe\\n\\x1b]52;c;aGk=\\x07card.log"
    assert status_of(found["files"]) == {
        f"{good}/bad\\xff.log": "skipped",
        f"{good}/{CONSOLE.name}": "read",
        shown_log: "read",
    }
    runs = found["runs"]
    assert len(runs) == grep_count("Running:", CONSOLE, OTHER_CONSOLE) == 6
    assert (runs["file"].astype(str) == shown_log).sum() == grep_count("Running:", OTHER_CONSOLE)
    report = poolwatch("report", good, "--out", tmp_path / "r", "--format", "json,md").clean()
    assert report.code == 0, report.err
    assert "\x1b" not in (tmp_path / "r" / "ticket.md").read_text()
    check = poolwatch("check", good, timeout=HANG).clean()
    assert check.code == 2, check.out  # the two consoles' runs: CRITICAL, not UNKNOWN
    assert check.out.startswith("POOLWATCH CRITICAL - ")


def test_a_report_cites_lines_of_a_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    log = os.fsdecode(os.fsencode(tmp_path) + b"/card\xff.log")
    shutil.copy(CONSOLE, log)
    done = poolwatch("report", log, "--out", tmp_path / "r", "--format", "html").clean()
    assert done.code == 0, done.err
    page = (tmp_path / "r" / "report.html").read_text()
    assert f"{tmp_path}/card\\xff.log:19" in page  # the cited line, its file named escaped
    # Its context was read again from the file itself: a routine line no table keeps.
    assert "run_batt.py:476: -- 1a1b2c3d - 1 --" in page


# 2. Special files ----------------------------------------------------------------------


@pytest.fixture
def fifo(good: Path) -> Iterator[Path]:
    """A FIFO beside the good log, that nothing writes to."""
    path = good / "pipe.log"
    os.mkfifo(path)
    yield path
    path.unlink()


def test_a_fifo_matched_by_a_glob_or_found_in_a_directory_is_skipped_not_waited_on(
    good: Path, fifo: Path, tmp_path: Path
) -> None:
    check = poolwatch("check", f"{good}/*", timeout=HANG).clean()
    assert check.code == 2, check.out  # CONSOLE alone is CRITICAL
    done = poolwatch("parse", f"{good}/*", timeout=HANG).clean()
    assert done.code == 0
    assert skipped(done) == [f"poolwatch: skipped {fifo}: a FIFO matched by a glob: not read"]
    done, found = tables(good, out=tmp_path / "t")
    assert skipped(done) == [f"poolwatch: skipped {fifo}: a FIFO found in a directory: not read"]
    assert status_of(found["files"]) == {str(fifo): "skipped", str(good / CONSOLE.name): "read"}
    assert len(found["runs"]) == grep_count("Running:", CONSOLE)


def test_a_fifo_given_directly_that_nothing_writes_to_is_skipped_after_a_short_wait(
    good: Path, fifo: Path
) -> None:
    done = poolwatch("parse", fifo, good / CONSOLE.name, timeout=HANG).clean()
    assert done.code == 0
    [line] = skipped(done)
    assert line.startswith(f"poolwatch: skipped {fifo}: a FIFO that nothing writes to")


def test_a_fifo_given_directly_is_read_to_its_end(fifo: Path, tmp_path: Path) -> None:
    def write() -> None:
        with fifo.open("wb") as pipe:  # blocks until poolwatch opens it
            pipe.write(CONSOLE.read_bytes())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    done, found = tables(fifo, out=tmp_path / "t")
    writer.join(timeout=HANG)
    assert done.code == 0, done.err
    assert status_of(found["files"]) == {str(fifo): "read"}
    assert len(found["runs"]) == grep_count("Running:", CONSOLE)


def test_a_process_substitution_is_read_to_its_end(tmp_path: Path) -> None:
    packed = tmp_path / "console.gz"
    packed.write_bytes(gzip.compress(many_runs(50)))
    out = tmp_path / "t"
    done = subprocess.run(
        ["bash", "-c", f'"{POOLWATCH}" parse <(zcat "{packed}") --out "{out}/"'],
        capture_output=True,
        timeout=HANG,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and b"skipped" not in done.stderr
    files = pd.read_parquet(out / "files.parquet")
    assert files["status"].tolist() == ["read"]
    assert files["path"].iloc[0].startswith("/dev/fd/")
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == piped_count("Running:", ["zcat", str(packed)]) == 150


@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ("/dev/null", "a character device (such as /dev/null or a terminal), not a file: not read"),
        ("/dev/zero", "a character device (such as /dev/null or a terminal), not a file: not read"),
    ],
)
def test_a_character_device_is_skipped_with_its_reason(
    good: Path, device: str, reason: str
) -> None:
    done = poolwatch("parse", device, good, timeout=HANG).clean()
    assert done.code == 0
    assert skipped(done) == [f"poolwatch: skipped {device}: {reason}"]
    alone = poolwatch("parse", device, timeout=HANG).clean()
    assert alone.code == 1
    assert alone.error == f"Error: no usable input: {device}: {reason}"


def test_a_socket_is_skipped_with_its_reason(good: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    path = good / "control.sock"
    server.bind(str(path))
    try:
        for given in (path, good):
            done = poolwatch("parse", given, good / CONSOLE.name, timeout=HANG).clean()
            assert done.code == 0
            assert skipped(done) == [f"poolwatch: skipped {path}: a socket, not a file: not read"]
    finally:
        server.close()


# 3. Readable data dropped with a wrong reason ------------------------------------------


def _flip_crc(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[-6] ^= 0xFF  # a byte of the CRC-32 in the gzip trailer
    return bytes(damaged)


def _corrupt_middle(data: bytes) -> bytes:
    damaged = bytearray(data)
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(range(64))
    return bytes(damaged)


@pytest.mark.parametrize(
    ("name", "damage", "unpack", "whole"),
    [
        # The CRC is checked at the very end: every line comes before the damage.
        ("crc.gz", lambda text: _flip_crc(gzip.compress(text)), "zcat", True),
        ("middle.gz", lambda text: _corrupt_middle(gzip.compress(text)), "zcat", False),
        ("middle.xz", lambda text: _corrupt_middle(lzma.compress(text)), "xzcat", False),
    ],
)
def test_a_damaged_compressed_log_keeps_what_precedes_the_damage(
    tmp_path: Path, name: str, damage: object, unpack: str, whole: bool
) -> None:
    path = tmp_path / name
    assert callable(damage)
    path.write_bytes(damage(many_runs()))
    done, found = tables(path, out=tmp_path / "t")
    assert done.code == 0, done.err
    [line] = warnings(done)
    assert line.startswith(f"poolwatch: warning: {path}: ") and "damaged" in line
    files = found["files"]
    assert files["status"].tolist() == ["read"]
    assert "damaged" in files["reason"].iloc[0]
    assert files["damaged"].tolist() == [True]
    # The damage leaves garbage in a line or two (as zcat prints it): the phrases an
    # operator greps for are counted as grep counts them, whole lines or not.
    for kind, phrase in PHRASES.items():
        expected = piped_count(phrase, [unpack, str(path)])
        assert kind_count(found["events"], kind) == expected, kind
    overloads = kind_count(found["events"], "overload")
    every = grep_count("System overloaded", CONSOLE) * 300
    assert overloads == every if whole else 0 < overloads < every


def test_a_cut_bzip2_log_of_one_block_is_said_to_be_cut_not_empty(tmp_path: Path) -> None:
    data = bz2.compress(many_runs(20))
    path = tmp_path / "rotated.bz2"
    path.write_bytes(data[: len(data) // 2])
    assert piped_count("Running:", ["bzcat", str(path)]) == 0  # nothing before the cut
    done = poolwatch("parse", path, timeout=HANG).clean()
    assert done.code == 1
    reason = "bzip2 stream cut short: nothing before the cut could be decompressed"
    assert done.error == f"Error: no usable input: {path}: {reason}"


def test_a_log_that_starts_with_nul_bytes_is_read(tmp_path: Path) -> None:
    path = tmp_path / "nohup.out"
    path.write_bytes(b"\x00" * 4096 + CONSOLE.read_bytes())  # as copytruncate leaves it
    done, found = tables(path, out=tmp_path / "t")
    assert done.code == 0, done.err
    [line] = warnings(done)
    assert line.startswith(f"poolwatch: warning: {path}: began with 4,096 NUL bytes")
    assert found["files"]["status"].tolist() == ["read"]
    assert len(found["runs"]) == grep_count("Running:", path) == 3
    assert kind_count(found["events"], "overload") == grep_count("System overloaded", path)


def test_a_run_log_whose_first_line_is_a_long_progress_bar_is_read(tmp_path: Path) -> None:
    bar = b"\r".join(b"[%-50s] %3d%%" % (b"#" * (i % 50), i % 100) for i in range(1800))
    assert len(bar) > 100_000 and b"\n" not in bar
    run_lines = [line for line in CONSOLE.read_bytes().splitlines() if line.startswith(b"run_")]
    path = tmp_path / "tmp_batt_Pb9xQ2_run.log"
    path.write_bytes(bar + b"\n" + b"\n".join(run_lines) + b"\n")
    done, found = tables(path, out=tmp_path / "t")
    assert done.code == 0, done.err
    assert skipped(done) == []
    files = found["files"]
    assert files["status"].tolist() == ["read"] and files["family"].tolist() == ["run_batt"]
    events = found["events"]
    assert kind_count(events, "task_start") == grep_count(" start --", path) > 0
    assert kind_count(events, "overload") == grep_count("System overloaded", path)


# 4. A file that shrinks while it is read ------------------------------------------------


def test_a_file_truncated_while_read_is_flagged_and_what_was_read_is_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tmp_batt_Tr4nc8_run.log"
    original = many_runs(40)
    path.write_bytes(original)
    new_run = CONSOLE.read_bytes().replace(b"a1b2c3d", b"feedfac") * 4
    assert 8192 < len(new_run) < len(original)
    truncated: list[int] = []

    def tee_starts_a_new_run(_: int) -> None:
        if not truncated:  # after the first chunk: tee truncates it and writes a new run
            truncated.append(1)
            path.write_bytes(new_run)

    result = ingest([str(path)], progress=tee_starts_a_new_run, chunk_bytes=4096)
    files = result.files
    assert files["status"].tolist() == ["read"]
    assert files["shrank"].tolist() == [True]
    assert files["reason"].iloc[0].startswith("shrank while it was read")
    assert input_notes(files) == [f"poolwatch: warning: {path}: {files['reason'].iloc[0]}"]
    # What was read is a prefix of the file as it was: none of the new run's lines.
    read = int(files["bytes"].iloc[0])
    assert 0 < read < len(original)
    prefix = original[:read]
    assert not result.events["text"].astype(str).str.contains("feedfac").any()
    assert len(result.tasks) == prefix.count(b" start --")
    assert int(files["lines"].iloc[0]) == prefix.count(b"\n")


# 5. Many small files ---------------------------------------------------------------------


def test_hundreds_of_small_run_logs_are_all_read_and_counted_as_grep_counts(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for i in range(400):
        task = f"{i:08x}"
        overload = (
            f"run_batt.py:539: -- System overloaded ({50 + i % 40} threads), using sequential"
        )
        lines = [
            "run_batt.py:72: GPU Support: Disabled (CuPy not available)",
            f"run_batt.py:840: -- {task} - 0 start --",
            overload if i % 3 == 0 else f"run_batt.py:428: demo[0] - {task} - 32",
            f"run_batt.py:428: test[0] - {task} - {i % 7}",
            f"run_batt.py:850: -- {task} - 0 done - {i % 9} candidates scored",
        ]
        (folder / f"tmp_batt_s{i:05d}_run.log").write_text("\n".join(lines) + "\n")
    done, found = tables(folder, out=tmp_path / "t")
    assert done.code == 0, done.err
    files = found["files"]
    assert len(files) == 400 and (files["status"] == "read").all()
    paths = sorted(folder.iterdir())
    assert files["path"].tolist() == [str(p) for p in paths]
    assert len(found["runs"]) == 400
    assert len(found["tasks"]) == grep_count(" start --", *paths) == 400
    assert kind_count(found["events"], "overload") == grep_count("System overloaded", *paths)
    assert int(files["lines"].sum()) == 5 * 400
