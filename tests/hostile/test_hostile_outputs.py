"""Outputs under attack: an output that is an input, paths that cannot be written,
names and log text that would drive a terminal or reorder a report, a kill mid-report,
and a crash seen by a monitoring check."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CONSOLE, POOLWATCH, poolwatch


def test_parse_refuses_an_output_that_a_directory_input_holds(good: Path) -> None:
    victim = good / "events.csv"
    shutil.copy(CONSOLE, victim)
    before = victim.read_bytes()
    done = poolwatch("parse", good, "--out", victim).clean()
    assert done.code == 2
    assert done.error == f"Error: --out {victim}: is one of the inputs; refusing to overwrite it"
    assert victim.read_bytes() == before


def test_report_refuses_a_ticket_found_in_its_input_directory(good: Path) -> None:
    victim = good / "ticket.md"
    shutil.copy(CONSOLE, victim)
    before = victim.read_bytes()
    done = poolwatch("report", good, "--out", good, "--format", "md").clean()
    assert done.code == 2
    assert "is one of the inputs; refusing to overwrite it" in done.error
    assert str(victim) in done.error
    assert victim.read_bytes() == before


def test_an_input_reached_through_a_hard_link_or_another_spelling_is_refused(
    good: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.link(good / CONSOLE.name, out / "summary.json")
    before = (good / CONSOLE.name).read_bytes()
    spelled = f"{good}/../logs/./*.log"
    done = poolwatch("report", spelled, "--out", out, "--format", "json").clean()
    assert done.code == 2
    assert "is one of the inputs" in done.error
    assert f"{CONSOLE.name}); refusing" in done.error
    assert (good / CONSOLE.name).read_bytes() == before


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("FILE/sub/", "not a directory"),
        ("FILE/sub/events.csv", "not a directory"),
        ("/proc/tables/", "no such file or directory"),
        ("/proc/x.parquet", "no such file or directory"),
        ("/sys/x.csv", "permission denied"),
    ],
)
def test_parse_to_an_unwritable_path_is_one_line(
    good: Path, tmp_path: Path, out: str, reason: str
) -> None:
    blocker = tmp_path / "FILE"
    blocker.write_text("a file, not a folder\n")
    target = out.replace("FILE", str(blocker))
    done = poolwatch("parse", good, "--out", target).clean()
    assert done.code in {1, 2}, done.err
    assert done.error.startswith("Error: "), done.err
    assert reason in done.error.lower()
    assert blocker.read_text() == "a file, not a folder\n"


@pytest.mark.parametrize("command", ["report", "daily", "simulate"])
def test_writing_on_a_read_only_filesystem_is_one_line(good: Path, command: str) -> None:
    """sysfs refuses new files even to root: a read-only place for every writer."""
    commands: dict[str, list[str | Path]] = {
        "report": ["report", good, "--out", "/sys/poolwatch-report", "--format", "json"],
        "daily": ["daily", good, "--day", "2025-10-14", "--tz", "UTC", "--store",
                  good.parent / "store", "--out", "/sys/poolwatch-daily"],
        "simulate": ["simulate", "--runs", "1", "--instances", "1", "--out", "/sys/pw-sim"],
    }  # fmt: skip
    done = poolwatch(*commands[command]).clean()
    assert done.code in {1, 2}, done.err
    assert done.error.startswith("Error: "), done.err
    assert "/sys/p" in done.error


NAMES = {
    "clipboard": "\x1b]52;c;ZXZpbA==\x07x.log",
    "title": "\x1b]0;owned\x07y.log",
    "forged line": "z.log\npoolwatch: forged line",
    "backwards": "gol.\u202etxt",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
@pytest.mark.parametrize("command", ["parse", "report", "check"])
def test_names_with_controls_never_reach_the_terminal_raw(
    good: Path, tmp_path: Path, name: str, command: str
) -> None:
    (good / name).write_text("")  # empty: skipped, and named in the message
    shutil.copy(CONSOLE, good / f"run{name}")  # read: named in summaries
    args: dict[str, list[str | Path]] = {"parse": ["parse", good], "check": ["check", good],
            "report": ["report", good, "--out", tmp_path / "out", "--format", "json"]}  # fmt: skip
    done = poolwatch(*args[command]).clean()
    assert done.code in {0, 1, 2}, done.err
    for text in (done.out, done.err):
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\u202e" not in text
        assert not any(line.startswith("poolwatch: forged") for line in text.splitlines())
    if command != "check":
        assert "skipped" in done.err
        assert "empty file" in done.err


def test_directional_controls_from_logs_do_not_reorder_the_report(
    good: Path, tmp_path: Path
) -> None:
    log = good / CONSOLE.name
    text = log.read_text().replace(
        "RuntimeError: can't start new thread", "RuntimeError: can't start \u202enew thread"
    )
    log.write_text(text)
    done = poolwatch("report", good, "--out", tmp_path, "--format", "html,md").clean()
    assert done.code == 0, done.err
    for name in ("report.html", "ticket.md"):
        written = (tmp_path / name).read_text()
        assert "\u202e" not in written
    assert "\\u202enew thread" in (tmp_path / "report.html").read_text()


def test_a_kill_while_the_report_is_made_leaves_the_previous_set_whole(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    poolwatch("simulate", "--scenario", "overloaded", "--instances", "4", "--runs", "4",
              "--out", logs).clean()  # fmt: skip
    out = tmp_path / "out"
    assert poolwatch("report", logs, "--out", out).clean().code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"report.html", "report.pdf", "summary.json", "ticket.md"}
    with subprocess.Popen([POOLWATCH, "report", logs, "--out", out]) as process:
        deadline = time.monotonic() + 60
        # the page is made first; the PDF takes a second or more after it
        while not list(out.glob(".report.html.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    assert list(out.glob(".report.html.*.tmp")), "the page was never staged"
    after = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
    assert after == before


CRASH = """
import sys
import poolwatch.analyze.diagnose as diagnose
def broken(*args, **kwargs):
    raise KeyError("a bug")
diagnose.diagnose = broken
from poolwatch.cli import main
sys.argv = ["poolwatch", *sys.argv[1:]]
main()
"""


def test_check_reports_a_crash_as_unknown_never_warning(good: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH, "check", str(good)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert (
        done.stdout == "POOLWATCH UNKNOWN - internal error (KeyError); the traceback is on stderr\n"
    )
    assert "KeyError: 'a bug'" in done.stderr  # a programming error keeps its traceback


def test_check_names_the_path_and_the_reason_when_nothing_is_usable(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    done = poolwatch("check", missing).clean()
    assert done.code == 3
    assert done.out == (
        f"POOLWATCH UNKNOWN - no usable input: {missing}: no such file, directory or glob match\n"
    )
