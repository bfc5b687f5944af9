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


def snapshots(folder: Path) -> pd.DataFrame:
    """The thread_snapshot events of a folder, with what each count says."""
    events = read(folder).events
    return events.loc[
        events["kind"] == "thread_snapshot",
        ["file", "line", "instance", "threads", "count", "message", "timestamp"],
    ].reset_index(drop=True)


def test_nlwp_as_typed_with_the_prompt_and_a_date(tmp_path: Path) -> None:
    (tmp_path / "nlwp.txt").write_text(
        "$ date; ps -o nlwp 48213\nFri Oct 24 10:01:19 CEST 2025\nNLWP\n   11\n"
    )
    row = snapshots(tmp_path).iloc[0]
    assert (row["line"], row["threads"], row["message"]) == (4, 11, "ps -o nlwp 48213")
    assert pd.isna(row["count"])
    assert row["instance"] == "pid 48213"
    assert row["timestamp"] == pd.Timestamp("2025-10-24 08:01:19", tz="UTC")


def test_a_loop_of_dates_and_active_threads(tmp_path: Path) -> None:
    command = "import threading; print(f'Active threads: {threading.active_count()}')"
    (tmp_path / "threads_tmp_batt_Xa3k9Q.txt").write_text(
        f'user@host:~$ while true; do date; python -c "{command}"; sleep 60; done\n'
        "Fri Oct 24 10:01:19 CEST 2025\n"
        "Active threads: 11\n"
        "Fri Oct 24 10:02:19 CEST 2025\n"
        "Active threads: 12\n"
        "^C\n"
    )
    found = snapshots(tmp_path)
    assert found["threads"].tolist() == [11, 12]
    assert set(found["message"]) == {"threading.active_count()"}
    assert set(found["instance"]) == {"tmp_batt_Xa3k9Q"}
    assert found["timestamp"].tolist() == [
        pd.Timestamp("2025-10-24 08:01:19", tz="UTC"),
        pd.Timestamp("2025-10-24 08:02:19", tz="UTC"),
    ]


def test_wc_l_counts_are_host_wide(tmp_path: Path) -> None:
    (tmp_path / "host.txt").write_text("# ps -eLf | wc -l\n412\n\n$ ps -eLf | wc -l\n    415\n")
    found = snapshots(tmp_path)
    assert found["count"].tolist() == [412, 415]
    assert found["threads"].isna().all()
    assert set(found["message"]) == {"ps -eLf | wc -l"}
    assert set(found["instance"]) == {"host.txt"}
    assert found["timestamp"].isna().all()


def test_pid_nlwp_rows_name_their_process(tmp_path: Path) -> None:
    (tmp_path / "pids.txt").write_text(
        "[root@box ~]# ps -o pid,nlwp -p 48213,48214\n    PID NLWP\n  48213   11\n  48214   23\n"
    )
    found = snapshots(tmp_path)
    assert found["threads"].tolist() == [11, 23]
    assert found["message"].tolist() == ["ps -o nlwp 48213", "ps -o nlwp 48214"]
    assert found["instance"].tolist() == ["pid 48213", "pid 48214"]


def test_a_mixed_file(tmp_path: Path) -> None:
    (tmp_path / "pasted.txt").write_text(
        "# tmp_batt_Xa3k9Q\n"
        "(venv) ops@batt-01:~/batt$ date; ps -o nlwp 48213\n"
        "Fri Oct 24 10:01:19 UTC 2025\n"
        "NLWP\n"
        "   11\n"
        "\n"
        "$ ps -eLf | wc -l\n"
        "412\n"
        "$ date; ps -o nlwp $(pgrep -f tmp_batt_Bb2c3D)\n"
        "Fri Oct 24 10:05:00 UTC 2025\n"
        "NLWP\n"
        "   14\n"
        "   15\n"
        "$ date; ps -o nlwp 48213\n"
        "Fri Oct 24 10:06:00 UTC 2025\n"
        "NLWP\n"
        "   13\n"
    )
    found = snapshots(tmp_path)
    assert found["line"].tolist() == [5, 8, 12, 13, 17]
    assert found["threads"].tolist()[2:] == [14, 15, 13]
    assert found["count"].tolist()[1] == 412
    assert found["message"].tolist() == [
        "ps -o nlwp 48213",
        "ps -eLf | wc -l",
        "ps -o nlwp",
        "ps -o nlwp",
        "ps -o nlwp 48213",
    ]
    # The comment names 48213's instance; its later snapshot keeps it.
    assert found["instance"].tolist() == [
        "tmp_batt_Xa3k9Q",
        "pasted.txt",
        "tmp_batt_Bb2c3D",
        "tmp_batt_Bb2c3D",
        "tmp_batt_Xa3k9Q",
    ]
    minutes = [t.strftime("%H:%M") for t in found["timestamp"]]
    assert minutes == ["10:01", "10:01", "10:05", "10:05", "10:06"]


def test_the_prompt_names_the_instance_before_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "threads_tmp_batt_Xa3k9Q.txt").write_text(
        "NLWP\n  9\n$ ps -o nlwp $(pgrep -f tmp_batt_Bb2c3D_run)\nNLWP\n  14\n"
    )
    assert snapshots(tmp_path)["instance"].tolist() == ["tmp_batt_Xa3k9Q", "tmp_batt_Bb2c3D"]


def test_a_pid_in_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "nlwp_pid48213.txt").write_text("NLWP\n  9\n")
    row = snapshots(tmp_path).iloc[0]
    assert (row["instance"], row["message"]) == ("pid 48213", "ps -o nlwp 48213")


def test_date_lines_in_another_locale(tmp_path: Path) -> None:
    (tmp_path / "nlwp.txt").write_text(
        "$ date; ps -o nlwp 48213\nFr 24. Okt 10:01:19 CEST 2025\nNLWP\n 11\n"
    )
    assert snapshots(tmp_path)["timestamp"].tolist() == [
        pd.Timestamp("2025-10-24 08:01:19", tz="UTC")
    ]


def test_counts_in_no_form_poolwatch_reads_are_skipped_with_a_true_reason(tmp_path: Path) -> None:
    (tmp_path / "typed.txt").write_text(
        "$ date; ps -o nlwp 48213\nFri Oct 24 10:01:19 CEST 2025\nnlwp=11\n"
    )
    (tmp_path / "rows.txt").write_text("48213 11\n48214 23\n")
    files = read(tmp_path).files.set_index("path")
    assert (files["status"] == "skipped").all()
    assert str(files.loc[str(tmp_path / "typed.txt"), "reason"]).startswith(
        "a ps or threading command but no thread count in a form poolwatch reads"
    )
    assert str(files.loc[str(tmp_path / "rows.txt"), "reason"]).startswith(
        "no run_batt output, dated Running: line, monitor record or thread count"
    )


def test_a_console_or_a_monitor_log_is_never_a_snapshot(logs: Path) -> None:
    (logs / "console.log").write_text(
        "Tue Oct 14 09:36:08 CEST 2025\n"
        "Running: python run_batt.py -t 10.0 -c -32 -b tmp_batt_Xa3k9Q_run\n"
        "Active threads: 7\n"
        "12\n"
        "Tue Oct 14 09:46:08 CEST 2025\n"
    )
    (logs / "zeros_monitoring.log").write_text(
        "Sat Nov 28 11:35:50 UTC 2026\n"
        "2026-11-28 11:35:50 | Threads: Python=1 System=92 | Fails: Process=0\n"
        "0 Thread=0\n0 Overload=0\n0\n"
    )
    files = read(logs).files.set_index("path")
    families = files.loc[files["status"] == "read", "family"]
    assert "snapshot" not in set(families)
    assert families[str(logs / "console.log")] == "console"
    assert families[str(logs / "zeros_monitoring.log")] == "monitor"
