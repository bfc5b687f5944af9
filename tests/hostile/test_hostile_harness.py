"""The harness itself: a good log parses cleanly and its counts match grep."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import CONSOLE, grep_count, poolwatch


def test_a_good_log_parses_and_counts_match_grep(good: Path, tmp_path: Path) -> None:
    done = poolwatch("report", good, "--out", tmp_path / "out", "--format", "json").clean()
    assert done.code == 0, done.err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["runs"]["total"] == grep_count("Running:", CONSOLE) == 3
    counts = summary["counts"]
    assert counts["system_overloaded"] == grep_count("System overloaded", CONSOLE) > 0
    assert counts["sample_timeouts"] == grep_count("timed out", CONSOLE) > 0
