"""Properties: arbitrary bytes never crash ingest, and fallback counts equal real ``grep -c``."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import read
from poolwatch.ingest.grammar import RUN_RULES
from poolwatch.simulate import SCENARIOS, simulate

#: The phrase an operator greps for, by event kind (from the grammar's own table).
PHRASES = {rule.kind: rule.grep for rule in RUN_RULES if rule.grep}
ALERT = "ALERT: System overloaded detected"


def grep_count(phrase: str, files: list[Path]) -> int:
    """What ``grep -c -F phrase`` counts over the files (C locale: bytes, as operators run it)."""
    if not files:
        return 0
    done = subprocess.run(
        ["grep", "-c", "-h", "-F", "-a", "--", phrase, *map(str, files)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return sum(int(n) for n in done.stdout.split())


def assert_counts_match_grep(directory: Path) -> None:
    """Every fallback kind's count equals grep -c over the kept run and console logs."""
    result = read(directory)
    files = result.files
    kept = files[(files["status"] == "read") & files["family"].isin(["console", "run_batt"])]
    paths = [Path(p) for p in kept["path"]]
    counts = result.events["kind"].value_counts()
    for kind, phrase in PHRASES.items():
        expected = grep_count(phrase, paths)
        if kind == "overload":
            expected -= grep_count(ALERT, paths)
        assert int(counts.get(kind, 0)) == expected, (kind, expected)


FRAGMENTS = st.sampled_from(
    [
        "run_batt.py:539: ",
        "-- System overloaded (65 threads), using sequential processing",
        "-- ProcessPoolExecutor failed (OSError: [Errno 12] Cannot allocate memory), trying",
        "-- ThreadPoolExecutor also failed (can't start new thread), using sequential",
        "-- Parallel execution failed (boom), falling back to sequential",
        "ALERT: System overloaded detected 6 times in last 100 lines",
        "System overloaded",
        "ProcessPoolExecutor failed",
        "ThreadPoolExecutor also failed",
        "Parallel execution failed",
        "demo[0] - 0a1b2c3d - 32",
        "-- 0a1b2c3d - 3 start --",
        "-- 0a1b2c3d - 3 done - 4 candidates scored",
        "Running: python run_batt.py -c -32 -b tmp_batt_x_run",
        "Tue Oct 14 09:36:08 CEST 2025",
        "32 tasks - 3 timeouts",
        "Traceback (most recent call last):",
        "\x1b[31m",
        "\x1b[0m",
        "\r",
        "\t",
        " ",
        "]",
        "(",
        "é",
    ]
)
JUNK = st.binary(max_size=6).filter(lambda b: b"\n" not in b and b"\x00" not in b)
LINE = st.lists(st.one_of(FRAGMENTS.map(str.encode), JUNK), max_size=5).map(b"".join)
TEXT = st.lists(LINE, min_size=1, max_size=40).map(b"\n".join)


RUN_LOG_HEAD = b"run_batt.py:72: GPU Support: Disabled\n" + b"demo[0] - 0a1b2c3d - 32\n" * 41


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.booleans())
def test_fallback_counts_equal_grep(text: bytes, crlf: bool) -> None:
    if crlf:
        text = text.replace(b"\n", b"\r\n")
    with tempfile.TemporaryDirectory() as folder:
        # As many real progress lines as generated ones: the file stays mostly log lines,
        # so it is read as a run log and the comparison with grep is never vacuous.
        Path(folder, "run.log").write_bytes(RUN_LOG_HEAD + text)
        assert read(folder).files["status"].tolist() == ["read"]
        assert_counts_match_grep(Path(folder))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([b"", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"]))
def test_arbitrary_bytes_never_crash(data: bytes, magic: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "x.log").write_bytes(magic + data)
        result = read(folder)
        assert result.files["status"].tolist()[0] in ("read", "skipped")


def test_counts_equal_grep_on_hand_written_logs(logs: Path) -> None:
    assert_counts_match_grep(logs)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("live", [False, True])
def test_counts_equal_grep_on_simulated_corpora(tmp_path: Path, scenario: str, live: bool) -> None:
    simulate(scenario, tmp_path, instances=3, runs=2, seed=5, live=live)
    assert_counts_match_grep(tmp_path)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_simulated_run_is_read_once(tmp_path: Path, scenario: str) -> None:
    truth = simulate(scenario, tmp_path, instances=4, runs=3, seed=9, live=True)
    result = read(tmp_path)
    assert len(result.runs) == len(truth.runs)
    assert (result.files["status"] == "duplicate").sum() == 4  # every run log is a tee copy
    keys = zip(result.runs["instance"].astype(str), result.runs["run"].astype(int), strict=True)
    rows = dict(zip(keys, result.runs.itertuples(index=False), strict=True))
    last = {
        r.instance: max(x.run for x in truth.runs if x.instance == r.instance) for r in truth.runs
    }
    for run in truth.runs:
        row = rows[(run.instance, run.run)]
        assert row.started_at == run.started_at
        assert row.tasks_started == run.tasks
        if run.incomplete:
            assert row.end == "unfinished"
        elif run.killed and run.run < last[run.instance]:
            assert row.end == "killed"
        elif not run.killed:
            assert row.end in ("completed", "exited")
