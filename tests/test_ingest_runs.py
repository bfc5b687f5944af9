"""Hand-written run_card console and run logs: events, fields, runs and tasks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa

from conftest import read
from poolwatch.ingest import grammar, tables
from poolwatch.ingest.parse import ingest
from poolwatch.simulate import simulate


def _events(result: pd.DataFrame, kind: str) -> pd.DataFrame:
    return result[result["kind"] == kind].reset_index(drop=True)


def test_console_events_carry_their_fields(logs: Path) -> None:
    events = read(logs / "console_two_runs.log").events
    overload = _events(events, "overload").iloc[0]
    assert (overload["line"], overload["threads"], overload["task"]) == (10, 65, "0a1b2c3d")
    failed = _events(events, "processpool_failed").iloc[0]
    assert failed["error_type"] == "OSError"
    assert failed["message"] == "[Errno 12] Cannot allocate memory"
    assert failed["task"] == "1a1b2c3d"
    timeout = _events(events, "sample_timeout").iloc[0]
    assert (timeout["sample_kind"], timeout["sample_index"]) == ("test", 0)
    sample_failed = _events(events, "sample_failed").iloc[0]
    assert sample_failed["message"] == "division by zero"
    assert _events(events, "timing_total")["seconds"].tolist() == [5.359]
    assert _events(events, "leaked_semaphores")["count"].tolist() == [9]
    assert _events(events, "timeout_kill")["message"].tolist() == ["TERM"]
    assert _events(events, "parallel_failed")["message"].tolist() == ["cannot pickle 'lock' object"]
    assert _events(events, "thread_retry")["task"].tolist() == ["2a1b2c3d"]
    exceptions = _events(events, "exception")
    assert exceptions["error_type"].dropna().tolist() == ["RuntimeError"]
    assert _events(events, "task_done")["count"].tolist() == [12, 2]


def test_every_kind_is_a_published_name(logs: Path) -> None:
    kind = read(logs).events["kind"]
    assert isinstance(kind.dtype, pd.CategoricalDtype)
    assert list(kind.dtype.categories) == list(grammar.KINDS)
    assert set(kind.dropna().unique()) <= set(grammar.KINDS)


def test_runs_are_numbered_with_start_time_command_and_end(logs: Path) -> None:
    runs = read(logs / "console_two_runs.log").runs
    assert runs["run"].tolist() == [1, 2, 3]
    assert runs["instance"].tolist() == ["tmp_batt_Xa3k9Q"] * 3
    assert runs["started_at"].iloc[0] == pd.Timestamp("2025-10-14 07:36:08", tz="UTC")
    assert runs["seconds"].tolist()[:2] == [600.0, 602.0]
    assert runs["requested_tasks"].tolist() == [32, 32, 32]
    assert runs["timeout_s"].isna().tolist() == [True, False, True]
    assert runs["closed"].tolist() == [True, False, False]
    assert (runs["reported_tasks"].iloc[0], runs["reported_timeouts"].iloc[0]) == (2, 1)
    assert runs["end"].tolist() == ["completed", "killed", "unfinished"]
    assert "timeout: sending signal TERM" in runs["end_evidence"].iloc[1]
    assert runs["total_seconds"].iloc[0] == 5.359
    assert (runs["line"].tolist(), runs["last_line"].tolist()) == ([1, 28, 46], [27, 45, 53])


def test_tasks_count_samples_and_fallbacks_while_they_ran(logs: Path) -> None:
    tasks = read(logs / "console_two_runs.log").tasks.set_index("task")
    assert tasks.loc["0a1b2c3d", "samples"] == 2
    assert tasks.loc["0a1b2c3d", "overloads"] == 1
    assert tasks.loc["0a1b2c3d", "max_threads"] == 65
    assert tasks.loc["1a1b2c3d", "processpool_failed"] == 1
    assert tasks.loc["1a1b2c3d", "threadpool_failed"] == 1
    assert tasks.loc["1a1b2c3d", "sample_failures"] == 1
    assert tasks.loc["2a1b2c3d", "parallel_failed"] == 1
    assert bool(tasks.loc["2a1b2c3d", "done"]) is False
    assert tasks.loc["3a1b2c3d", "samples"] == 2
    assert tasks["done"].tolist() == [True, True, False, False]


def test_unparsed_lines_are_counted_and_shown(logs: Path) -> None:
    result = read(logs / "console_two_runs.log")
    assert result.files["unparsed"].tolist() == [1]
    assert result.unparsed["text"].tolist() == ["something nobody expected"]
    assert result.unparsed["line"].tolist() == [52]


def test_tee_copy_of_the_latest_run_is_counted_once(logs: Path) -> None:
    result = read(logs)
    files = result.files.set_index("path")
    run_log = str(logs / "tmp_batt_Xa3k9Q_run.log")
    assert files.loc[run_log, "status"] == "duplicate"
    assert "tee copy of" in str(files.loc[run_log, "reason"])
    assert len(result.runs) == 3
    assert (result.events["kind"] == "task_start").sum() == 4


def test_a_run_log_alone_is_one_run_named_after_its_file(logs: Path) -> None:
    result = read(logs / "tmp_batt_Xa3k9Q_run.log")
    runs = result.runs
    assert runs["family"].tolist() == ["run_batt"]
    assert runs["instance"].tolist() == ["tmp_batt_Xa3k9Q"]
    assert runs["end"].tolist() == ["unfinished"]


def test_a_run_log_still_being_written_is_a_prefix_of_the_console(logs: Path) -> None:
    shorter = logs / "tmp_batt_Xa3k9Q_run.log"
    shorter.write_text("".join(shorter.read_text().splitlines(keepends=True)[:2]))
    files = read(logs).files.set_index("path")
    assert files.loc[str(shorter), "status"] == "duplicate"


def test_a_run_log_tee_has_just_truncated_is_a_copy(logs: Path) -> None:
    # tee truncates the run log at each run: a moment later it holds a cut first line.
    cut = logs / "tmp_batt_Xa3k9Q_run.log"
    cut.write_bytes(b"run_batt.py:72: GPU Support:")
    result = read(logs)
    files = result.files.set_index("path")
    assert files.loc[str(cut), "status"] == "duplicate"
    assert "tee copy of" in str(files.loc[str(cut), "reason"])
    assert len(result.runs) == 3


def test_stderr_lines_in_the_console_only_still_make_a_tee_copy(logs: Path) -> None:
    # tee copies stdout: the console's copy of a run has its tracebacks, the run log not.
    console = logs / "console_two_runs.log"
    text = console.read_text().splitlines(keepends=True)
    noise = [
        "Exception ignored in thread started by: <function _worker at 0x7f3a2c1b8e50>\n",
        "Traceback (most recent call last):\n",
        '  File "/usr/lib/python3.11/threading.py", line 975, in run\n',
        "RuntimeError: can't start new thread\n",
        "MemoryError:\n",
        "KeyError: 134648993371840\n",
        "resource_tracker: There appear to be 9 leaked semlock objects to clean up at shutdown\n",
    ]
    before = int((read(logs).events["kind"] == "exception").sum())
    console.write_text("".join(text[:-2] + noise + text[-2:]))
    result = read(logs)
    files = result.files.set_index("path")
    assert files.loc[str(logs / "tmp_batt_Xa3k9Q_run.log"), "status"] == "duplicate"
    assert len(result.runs) == 3
    assert (result.events["kind"] == "exception").sum() == before + 5


def test_another_run_of_the_same_instance_is_kept(logs: Path) -> None:
    other = logs / "tmp_batt_Xa3k9Q_run.log"
    other.write_text(other.read_text().replace("3a1b2c3d", "4a1b2c3d"))
    result = read(logs)
    assert result.files.set_index("path").loc[str(other), "status"] == "read"
    assert len(result.runs) == 4


def test_tables_have_the_documented_columns_and_dtypes(logs: Path) -> None:
    result = read(logs)
    for name, columns in tables.TABLES.items():
        frame = result.table(name)
        assert list(frame.columns) == [c.name for c in columns], name
        for column in columns:
            expected = tables.pandas_dtype(column)
            actual = frame[column.name].dtype
            if column.dtype == tables.CATEGORY:
                assert isinstance(actual, pd.CategoricalDtype), (name, column.name)
            else:
                assert str(actual) == str(expected), (name, column.name, actual)


def test_chunk_boundaries_change_nothing(logs: Path, tmp_path: Path) -> None:
    simulate("memory-pressure", tmp_path, instances=2, runs=2, seed=3, live=True)
    for folder in (logs, tmp_path):
        whole = ingest([str(folder)])
        for size in (200, 5000):
            pieces = ingest([str(folder)], chunk_bytes=size)
            for name in ("events", "tasks", "runs", "monitor", "unparsed"):
                pd.testing.assert_frame_equal(pieces.table(name), whole.table(name), obj=name)


def test_tables_with_nothing_to_say_are_empty(logs: Path) -> None:
    result = read(logs / "console_two_runs.log")
    assert result.monitor.empty
    assert list(result.monitor.columns) == [c.name for c in tables.MONITOR]
    snapshot_only = logs.parent / "threads.txt"
    snapshot_only.write_text("Active threads: 7\n")
    alone = read(snapshot_only)
    assert alone.runs.empty
    assert alone.tasks.empty
    assert alone.unparsed.empty


def test_events_are_in_file_and_line_order(tmp_path: Path) -> None:
    simulate("overloaded", tmp_path, instances=3, runs=2, seed=4)
    events = ingest([str(tmp_path)]).events
    for _, lines in events.groupby("file", observed=True, sort=False)["line"]:
        assert lines.is_monotonic_increasing
    kinds = events["kind"].value_counts()
    assert kinds["task_start"] > 0
    assert kinds["task_done"] > 0


def test_task_lines_give_their_fields_whatever_the_chunk_holds(tmp_path: Path) -> None:
    lines = [
        "Running: timeout -k 5s 600s python run_batt.py -c 2 -b tmp_batt_Ab12Cd_run",
        "run_batt.py:840: -- 0a1b2c3d - 7 start --",
        "run_batt.py:850: -- 0a1b2c3d - 7 done - 12 candidates scored",
        "-- 1a1b2c3d - 99999999999 start --",
        "-- 1a1b2c3d - 99999999999 done - 2147483648 candidates scored",
        "x.py:1: -- Demo+Test scoring: -- 2a1b2c3d - 3 done - 4 candidates scored",
        "run_batt.py:682: -- Demo+Test scoring: ends like a start --",
        "run_batt.py:840: -- 3a1b2c3d - 0 start --",
        "naïve café line that matches nothing",
        "run_batt.py:850: -- 3a1b2c3d - 0 done - 0 candidates scored",
    ]
    plain = tmp_path / "plain.log"
    plain.write_text("\n".join(lines) + "\n")
    # The same lines with CRLF endings and colour codes: split and cleaned first.
    dressed = tmp_path / "dressed.log"
    dressed.write_bytes("\r\n".join(f"\x1b[32m{line}\x1b[0m" for line in lines).encode() + b"\r\n")
    for path in (plain, dressed):
        tasks = read(path).tasks
        assert tasks["task"].tolist() == ["0a1b2c3d", "1a1b2c3d", "3a1b2c3d"], path.name
        assert tasks["task_index"].tolist() == [7, pd.NA, 0]
        assert tasks["candidates"].tolist() == [12, pd.NA, 0]
        assert tasks["start_line"].tolist() == [2, 4, 8]
        assert tasks["done_line"].tolist() == [3, 5, 10]
        assert read(path).files["unparsed"].tolist() == [1]


def test_strings_leave_polars_as_the_same_text() -> None:
    texts = ["", None, "short", "x" * 13, "é" * 40 + " Running: run_batt.py", None]
    series = pl.Series(texts, dtype=pl.String)
    for part in (series, series.slice(2, 3), series.filter(series.is_null())):
        handed = tables.series_arrow(part)
        assert handed.type == pa.large_string()
        assert handed.to_pylist() == part.to_list()
    numbers = pl.Series([1, None, 3], dtype=pl.Int32)
    assert tables.series_arrow(numbers).equals(numbers.to_arrow())
