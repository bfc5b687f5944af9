"""The monitor log as the guide's script really writes it, and pasted thread snapshots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from conftest import read


def test_split_records_are_reassembled(logs: Path) -> None:
    monitor = read(logs / "week6b_monitoring.log").monitor
    samples = monitor[monitor["record"] == "sample"]
    assert samples["line"].tolist() == [3, 6, 10, 13]
    assert samples["lines"].tolist() == [3, 4, 1, 1]
    assert samples["overload"].tolist() == [1, 0, 7, 9]
    assert samples["process_fails"].tolist() == [0, 0, 2, 1]
    assert samples["thread_fails"].tolist() == [0, 0, 4, 5]
    assert samples["system_threads"].tolist() == [92, 95, 300, 310]


def test_na_is_missing(logs: Path) -> None:
    monitor = read(logs / "week6b_monitoring.log").monitor
    assert monitor["python_threads"].isna().tolist()[:2] == [False, True]


def test_record_times_use_the_header_zone(logs: Path) -> None:
    monitor = read(logs / "week6b_monitoring.log").monitor
    assert monitor["timestamp"].iloc[0] == pd.Timestamp("2026-11-28 10:35:50", tz="UTC")


def test_alerts_in_emoji_mojibake_and_plain_forms(logs: Path) -> None:
    monitor = read(logs / "week6b_monitoring.log").monitor
    alerts = monitor[monitor["record"] == "alert"]
    assert alerts["alert"].tolist() == [
        "System overloaded",
        "ThreadPool failures",
        "System overloaded",
        "ThreadPool failures",
        "ThreadPool failures",
    ]
    assert alerts["alert_count"].tolist() == [7, 4, 9, 5, 5]
    assert alerts["timestamp"].iloc[-1] == pd.Timestamp("2026-11-28 10:38:50", tz="UTC")


def test_alert_lines_are_not_fallbacks(logs: Path) -> None:
    kinds = read(logs / "week6b_monitoring.log").events["kind"].value_counts()
    assert kinds["monitor_alert"] == 5
    assert kinds["monitor_sample"] == 4
    assert kinds["overload"] == 0
    assert kinds["threadpool_failed"] == 0


def test_a_misnamed_monitor_log_is_recognised(logs: Path) -> None:
    renamed = logs / "tmp_batt_zzz_run.log"
    (logs / "week6b_monitoring.log").rename(renamed)
    result = read(renamed)
    assert result.files["family"].tolist() == ["monitor"]
    assert len(result.monitor) == 9


def test_thread_snapshots(tmp_path: Path) -> None:
    (tmp_path / "nlwp.txt").write_text("NLWP\n   23\n")
    (tmp_path / "ps.txt").write_text("412\n")
    (tmp_path / "active.txt").write_text("Active threads: 12\n")
    events = read(tmp_path).events
    snapshots = events.set_index("message")
    assert snapshots.loc["threading.active_count()", "threads"] == 12
    assert snapshots.loc["ps -o nlwp", "threads"] == 23
    assert snapshots["threads"].isna().tolist() == [False, False, True]  # active, nlwp, ps
    assert snapshots.loc["ps -eLf | wc -l", "count"] == 412
    assert (events["kind"] == "thread_snapshot").all()
