"""Every command and every option that takes a path, given a path the system refuses:
one line naming it, an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import poolwatch

#: Paths the system refuses in different ways (root included).
BAD = {
    "under a file": "{file}/sub",
    "in /proc": "/proc/poolwatch-nowhere/x",
    "in /sys": "/sys/poolwatch-x",
    "a device": "/dev/null",
}

#: (command and its other arguments, the option that gets the bad path); {logs} is a good
#: log directory and {store} a fresh store.
USES = {
    "parse --out": (["parse", "{logs}"], "--out"),
    "parse --out DIR/": (["parse", "{logs}"], "--out/"),
    "report --out": (["report", "{logs}", "--format", "json"], "--out"),
    "report --config": (["report", "{logs}", "--out", "{tmp}/r"], "--config"),
    "report --store": (["report", "{logs}", "--out", "{tmp}/r", "--baseline-days", "3"],
                       "--store"),
    "check --config": (["check", "{logs}"], "--config"),
    "daily --out": (["daily", "{logs}", "--day", "2025-10-14", "--tz", "UTC",
                     "--store", "{store}"], "--out"),
    "daily --store": (["daily", "{logs}", "--day", "2025-10-14", "--tz", "UTC",
                       "--out", "{tmp}/d"], "--store"),
    "history --store": (["history"], "--store"),
    "thresholds --config": (["thresholds"], "--config"),
    "simulate --out": (["simulate", "--runs", "1", "--instances", "1"], "--out"),
}  # fmt: skip


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("use", USES.values(), ids=USES.keys())
def test_a_refused_path_is_one_line(
    good: Path, tmp_path: Path, use: tuple[list[str], str], bad: str
) -> None:
    args, option = use
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    path = bad.format(file=blocker) + ("/" if option.endswith("/") else "")
    fill = {"logs": str(good), "store": str(tmp_path / "store"), "tmp": str(tmp_path)}
    done = poolwatch(*(a.format(**fill) for a in args), option.rstrip("/"), path).clean()
    if args[0] == "check":
        assert done.code == 3, done.out
        assert done.out.startswith("POOLWATCH UNKNOWN - ")
    else:
        assert done.code in {1, 2}, (done.code, done.out, done.err)
        assert done.error.startswith("Error: "), done.err
    assert blocker.read_text() == "not a folder\n"
