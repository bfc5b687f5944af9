"""The history store on real DuckDB files: round trips, replacing and pruning days, refusals,
two writers at once, a busy lock and a writer killed in the middle of a day."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from filelock import FileLock

from poolwatch.history import store as store_module
from poolwatch.history.bounds import VERDICTS
from poolwatch.history.store import (
    DB_NAME,
    LOCK_NAME,
    METRICS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    DayMetrics,
    Store,
    StoreError,
)

DAY = date(2024, 3, 1)
RUN_NAMES = [name for name, _ in RUN_COLUMNS]
#: The dtypes the store returns, whatever the values.
RUN_DTYPES = {
    "day": "datetime64[us]",
    "host": "str",
    "file": "str",
    "instance": "str",
    "run": "Int32",
    "started_at": "datetime64[us, UTC]",
    "outcome": "str",
    "path": "str",
    "overloads": "Int32",
    "processpool_failed": "Int32",
    "threadpool_failed": "Int32",
    "max_threads": "Int32",
    "seconds": "float64",
}
METRIC_DTYPES = {"VARCHAR": "str", "INTEGER": "Int32", "BIGINT": "Int64", "DOUBLE": "float64"}


def metrics_of(day: date, seed: int, **overrides: object) -> DayMetrics:
    """Metrics of ``day`` whose every value depends on ``seed``."""
    values: dict[str, object] = {}
    for position, (name, kind) in enumerate(METRICS):
        if kind == "VARCHAR":
            values[name] = VERDICTS[seed % len(VERDICTS)]
        elif kind == "DOUBLE":
            values[name] = seed + position / 4
        else:
            values[name] = seed * 100 + position
    return DayMetrics.of(day, {**values, **overrides})


def runs_of(day: date, count: int, seed: int) -> pd.DataFrame:
    """``count`` runs of ``day``, sorted by file and run, started in Berlin time, plus a column
    the store ignores."""
    index = np.arange(count)
    files = np.array(["card0.log", "card1.log", "card2.log"])[index % 3]
    outcomes = np.array(["completed", "killed", "hung"])[(index + seed) % 3]
    start = pd.Timestamp(day.isoformat(), tz="Europe/Berlin")
    frame = pd.DataFrame(
        {
            "file": pd.array(files, dtype="str"),
            "instance": pd.array(np.array(["i0", "i1"])[index % 2], dtype="str"),
            "run": index // 3,
            "started_at": start + pd.to_timedelta(index, unit="s"),
            "outcome": pd.Categorical(outcomes),
            "path": "process",
            "overloads": (index + seed) % 5,
            "processpool_failed": seed,
            "threadpool_failed": index % 2,
            "max_threads": pd.Series(index % 90, dtype="Int64").mask(index % 4 == 0),
            "seconds": index * 0.5 + seed,
            "last_line": index,
        }
    )
    return frame.sort_values(["file", "run"], kind="stable").reset_index(drop=True)


def expected_runs(day: date, frame: pd.DataFrame) -> pd.DataFrame:
    """The runs the store should return for ``frame`` recorded as ``day`` (a frame
    without hosts is one host's, ``""``)."""
    if "host" not in frame.columns:
        frame = frame.assign(host="")
    chosen = frame[RUN_NAMES].assign(
        started_at=frame["started_at"].dt.tz_convert("UTC"),
        outcome=frame["outcome"].astype("str"),
    )
    return chosen.assign(day=pd.Timestamp(day))[list(RUN_DTYPES)].astype(RUN_DTYPES)


def test_record_then_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "history")
    first = metrics_of(DAY, 1, thread_count=None, hung=None)
    second = metrics_of(DAY + timedelta(days=2), 2)
    first_runs, second_runs = runs_of(DAY, 50, 1), runs_of(DAY + timedelta(days=2), 7, 2)
    store.record(DAY, first, first_runs)
    store.record(second.day, second, second_runs)

    assert store.days() == [DAY, DAY + timedelta(days=2)]
    assert store.metrics(DAY) == first
    assert store.metrics(second.day) == second
    assert store.metrics(DAY + timedelta(days=1)) is None
    assert first.get("hung") is None
    assert second.get("verdict") == "critical"

    trend = store.trend(7, DAY + timedelta(days=5))
    assert list(trend.columns) == ["day", *(name for name, _ in METRICS)]
    assert trend["day"].tolist() == [pd.Timestamp(DAY), pd.Timestamp(second.day)]
    assert str(trend["day"].dtype) == "datetime64[us]"
    for name, kind in METRICS:
        assert str(trend[name].dtype) == METRIC_DTYPES[kind], name
    assert trend["hung"].isna().tolist() == [True, False]
    assert np.isnan(trend["thread_count"].iloc[0])
    assert trend["runs"].tolist() == [first.get("runs"), second.get("runs")]
    assert trend["timeout_rate"].tolist() == [first.get("timeout_rate"), second.get("timeout_rate")]
    assert store.trend(1, DAY + timedelta(days=1)).empty

    runs = store.runs(DAY, second.day)
    assert dict(runs.dtypes.astype(str)) == RUN_DTYPES
    expected = pd.concat(
        [expected_runs(DAY, first_runs), expected_runs(second.day, second_runs)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(runs, expected)
    assert runs["started_at"].iloc[0] == pd.Timestamp("2024-02-29 23:00:00", tz="UTC")
    assert len(store.runs(second.day, second.day)) == 7


def test_start_times_without_zone_are_utc_and_runs_may_be_empty(tmp_path: Path) -> None:
    store = Store(tmp_path)
    frame = runs_of(DAY, 4, 0)
    frame["started_at"] = frame["started_at"].dt.tz_localize(None)
    store.record(DAY, metrics_of(DAY, 0), frame)
    assert store.runs(DAY, DAY)["started_at"].iloc[0] == pd.Timestamp("2024-03-01", tz="UTC")

    store.record(DAY, metrics_of(DAY, 1), runs_of(DAY, 0, 0))
    empty = store.runs(DAY, DAY)
    assert empty.empty
    assert dict(empty.dtypes.astype(str)) == RUN_DTYPES
    assert store.metrics(DAY) == metrics_of(DAY, 1)


def test_recording_a_day_again_replaces_it(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.record(DAY, metrics_of(DAY, 1), runs_of(DAY, 30, 1))
    store.record(
        DAY + timedelta(days=1), metrics_of(DAY + timedelta(days=1), 5), runs_of(DAY, 3, 5)
    )
    again = runs_of(DAY, 20, 2)
    store.record(DAY, metrics_of(DAY, 2), again)

    assert store.days() == [DAY, DAY + timedelta(days=1)]
    assert store.metrics(DAY) == metrics_of(DAY, 2)
    trend = store.trend(2, DAY + timedelta(days=1))
    assert trend["verdict"].tolist() == ["critical", "warning"]
    pd.testing.assert_frame_equal(store.runs(DAY, DAY), expected_runs(DAY, again))
    assert len(store.runs(DAY + timedelta(days=1), DAY + timedelta(days=1))) == 3


def test_runs_missing_columns_are_named(tmp_path: Path) -> None:
    store = Store(tmp_path)
    frame = runs_of(DAY, 3, 0).drop(columns=["outcome", "seconds"])
    with pytest.raises(StoreError, match=r"lack the column\(s\) outcome, seconds$"):
        store.record(DAY, metrics_of(DAY, 0), frame)
    assert store.days() == []


def test_text_held_as_objects_is_stored_as_strings(tmp_path: Path) -> None:
    store = Store(tmp_path)
    frame = runs_of(DAY, 3, 0).assign(instance=pd.Series([7, "i1", None], dtype=object))
    store.record(DAY, metrics_of(DAY, 0), frame)
    assert store.runs(DAY, DAY)["instance"].tolist()[:2] == ["7", "i1"]
    assert pd.isna(store.runs(DAY, DAY)["instance"].iloc[2])


def test_a_failed_record_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.record(DAY, metrics_of(DAY, 1), runs_of(DAY, 5, 1))
    bad = runs_of(DAY, 5, 2).assign(run=["1", "2", "x", "4", "5"])
    with pytest.raises(StoreError, match=r"history\.duckdb: Conversion Error: .*'x'"):
        store.record(DAY, metrics_of(DAY, 2), bad)
    assert store.metrics(DAY) == metrics_of(DAY, 1)
    pd.testing.assert_frame_equal(store.runs(DAY, DAY), expected_runs(DAY, runs_of(DAY, 5, 1)))


def test_day_metrics_name_every_metric() -> None:
    with pytest.raises(ValueError, match="missing \\['verdict'\\], unknown \\['colour'\\]"):
        DayMetrics.of(DAY, {"colour": 1, **{name: 1 for name, _ in METRICS[1:]}})
    with pytest.raises(ValueError, match="in that order"):
        DayMetrics(DAY, (("runs", 1),))
    metrics = DayMetrics.of(
        DAY, {name: np.int64(3) for name, _ in METRICS} | {"mix_thread": np.nan}
    )
    assert metrics.get("runs") == 3
    assert type(metrics.get("runs")) is int
    assert metrics.get("mix_thread") is None
    with pytest.raises(KeyError):
        metrics.get("colour")


def test_prune_keeps_the_last_days(tmp_path: Path) -> None:
    store = Store(tmp_path)
    days = [DAY + timedelta(days=offset) for offset in range(10)]
    for offset, day in enumerate(days):
        store.record(day, metrics_of(day, offset), runs_of(day, 5, offset))

    assert store.prune(3, days[-1]) == 7
    assert store.days() == days[-3:]
    assert store.runs(days[0], days[-1])["day"].unique().tolist() == [
        pd.Timestamp(day) for day in days[-3:]
    ]
    assert store.prune(3, days[-1]) == 0
    assert store.prune(1, days[-1] + timedelta(days=1)) == 3
    assert store.days() == []


def test_each_host_has_a_row_a_day(tmp_path: Path) -> None:
    store = Store(tmp_path)
    later = DAY + timedelta(days=1)
    web = runs_of(DAY, 6, 1).assign(host=["web1", "web2", "web10"] * 2)
    store.record(
        DAY,
        metrics_of(DAY, 1),
        web,
        {"web10": metrics_of(DAY, 4), "web2": metrics_of(DAY, 3), "web1": metrics_of(DAY, 2)},
    )
    store.record(later, metrics_of(later, 5), runs_of(later, 2, 5), {"web2": metrics_of(later, 6)})

    assert store.hosts() == ("web1", "web2", "web10")
    assert store.metrics(DAY) == metrics_of(DAY, 1)
    assert store.metrics(DAY, "web2") == metrics_of(DAY, 3)
    assert store.metrics(later, "web1") is None
    assert store.metrics(DAY, "db1") is None
    fleet, web2 = store.trend(7, later), store.trend(7, later, "web2")
    assert fleet["runs"].tolist() == [
        metrics_of(d, n).get("runs") for d, n in ((DAY, 1), (later, 5))
    ]
    assert web2["runs"].tolist() == [
        metrics_of(d, n).get("runs") for d, n in ((DAY, 3), (later, 6))
    ]
    assert list(web2.columns) == list(fleet.columns)
    assert store.trend(7, later, "web1")["day"].tolist() == [pd.Timestamp(DAY)]
    assert store.every_day("db1").empty
    runs = store.runs(DAY, DAY)
    assert sorted(runs["host"]) == ["web1", "web1", "web10", "web10", "web2", "web2"]
    assert set(store.runs(later, later)["host"]) == {""}

    # Recording a day again replaces its hosts too: web1 and web10 are gone from it.
    store.record(DAY, metrics_of(DAY, 7), runs_of(DAY, 1, 7), {"web2": metrics_of(DAY, 8)})
    assert store.hosts() == ("web2",)
    assert store.metrics(DAY, "web2") == metrics_of(DAY, 8)
    assert store.prune(1, later) == 1
    assert store.trend(7, later, "web2")["day"].tolist() == [pd.Timestamp(later)]


def test_metrics_of_another_day_are_refused_for_a_host(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the metrics are of 2024-03-02, not of 2024-03-01"):
        Store(tmp_path).record(
            DAY, metrics_of(DAY, 1), runs_of(DAY, 1, 1), {"web1": metrics_of(DAY + timedelta(1), 1)}
        )
    assert not (tmp_path / DB_NAME).exists()


def old_store(root: Path) -> None:
    """A store as the first schema wrote it: no hosts, a day recorded."""
    metric_columns = ", ".join(f'"{name}" {kind}' for name, kind in METRICS)
    run_columns = ", ".join(f'"{name}" {kind}' for name, kind in RUN_COLUMNS if name != "host")
    with duckdb.connect(str(root / DB_NAME)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(f'CREATE TABLE metrics ("day" DATE NOT NULL, {metric_columns})')
        con.execute(f'CREATE TABLE runs ("day" DATE NOT NULL, {run_columns})')
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        values = [DAY, *(value for _, value in metrics_of(DAY, 1).values)]
        con.execute(f"INSERT INTO metrics VALUES ({', '.join('?' for _ in values)})", values)
        con.execute(
            "INSERT INTO runs VALUES (?, 'card0.log', 'i0', 0, TIMESTAMPTZ '2024-03-01 08:00+00', "
            "'completed', 'process', 0, 0, 0, 12, 30.5)",
            [DAY],
        )


def test_a_store_of_the_first_schema_is_read_then_upgraded_keeping_its_days(
    tmp_path: Path,
) -> None:
    old_store(tmp_path)
    before = (tmp_path / DB_NAME).read_bytes()
    store = Store(tmp_path)
    assert store.metrics(DAY) == metrics_of(DAY, 1)
    assert store.hosts() == ()
    assert store.trend(7, DAY, "web1").empty
    runs = store.runs(DAY, DAY)
    assert dict(runs.dtypes.astype(str)) == RUN_DTYPES
    assert runs[["host", "file", "max_threads"]].values.tolist() == [["", "card0.log", 12]]
    assert (tmp_path / DB_NAME).read_bytes() == before  # reading changed nothing

    later = DAY + timedelta(days=1)
    store.record(later, metrics_of(later, 2), runs_of(later, 3, 2), {"web1": metrics_of(later, 3)})
    with duckdb.connect(str(tmp_path / DB_NAME), read_only=True) as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)
    assert store.days() == [DAY, later]
    assert store.metrics(DAY) == metrics_of(DAY, 1)
    assert store.runs(DAY, DAY)["host"].tolist() == [""]
    assert store.hosts() == ("web1",)


def test_an_upgrade_that_fails_leaves_the_old_store(tmp_path: Path) -> None:
    old_store(tmp_path)
    with duckdb.connect(str(tmp_path / DB_NAME)) as con:
        con.execute("CREATE TABLE host_metrics (x INTEGER)")  # in the upgrade's way
    with pytest.raises(StoreError, match="host_metrics"):
        Store(tmp_path).record(DAY, metrics_of(DAY, 2), runs_of(DAY, 1, 2))
    with duckdb.connect(str(tmp_path / DB_NAME), read_only=True) as con:
        assert con.execute("SELECT value FROM meta").fetchall() == [("1",)]
        assert "host" not in [row[0] for row in con.execute("DESCRIBE runs").fetchall()]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path).record(DAY, metrics_of(DAY, 0), runs_of(DAY, 1, 0))
    with duckdb.connect(str(tmp_path / DB_NAME)) as con:
        con.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)]
        )
    with pytest.raises(StoreError) as refused:
        Store(tmp_path)
    assert str(refused.value) == (
        f"{tmp_path}: written by a newer poolwatch (store schema {SCHEMA_VERSION + 1}, "
        f"this poolwatch reads up to {SCHEMA_VERSION}); upgrade poolwatch"
    )


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"these are not the pages of a database\n" * 200)
    with pytest.raises(StoreError) as refused:
        Store(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / DB_NAME}: cannot open as a DuckDB database")
    assert "\n" not in message


def test_a_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "history").write_text("")
    with pytest.raises(StoreError, match=r"history: not a directory$"):
        Store(tmp_path / "history")


def test_a_busy_store_is_refused_after_waiting(tmp_path: Path) -> None:
    store = Store(tmp_path, wait_seconds=0.2)
    busy = f"{tmp_path}: another poolwatch is writing this store (waited 0.2 s); try again later"
    with FileLock(tmp_path / LOCK_NAME):
        began = time.monotonic()
        with pytest.raises(StoreError) as refused:
            store.record(DAY, metrics_of(DAY, 0), runs_of(DAY, 3, 0))
        assert time.monotonic() - began >= 0.2
        assert str(refused.value) == busy
        with pytest.raises(StoreError, match="another poolwatch is writing"):
            Store(tmp_path, wait_seconds=0.2)
    store.record(DAY, metrics_of(DAY, 0), runs_of(DAY, 3, 0))
    assert store.days() == [DAY]


def write_days(root: str, go: str, first: int, count: int) -> None:
    """Child process: wait for ``go``, then record ``count`` days from offset ``first``."""
    store = Store(Path(root))
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    print(f"began {time.time()}", flush=True)
    for offset in range(first, first + count):
        day = DAY + timedelta(days=offset)
        store.record(day, metrics_of(day, offset), runs_of(day, 200, offset))
    print(f"ended {time.time()}", flush=True)


def child(call: str) -> subprocess.Popen[str]:
    """A Python process that imports this module and makes ``call``."""
    tests = str(Path(__file__).parent)
    path = os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-c", f"import test_history_store as t; t.{call}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )


def test_two_writers_at_once(tmp_path: Path) -> None:
    root, go = tmp_path / "history", tmp_path / "go"
    Store(root)
    writers = [child(f"write_days({str(root)!r}, {str(go)!r}, {first}, 30)") for first in (0, 15)]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
    go.touch()
    outputs = [writer.communicate(timeout=300) for writer in writers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert "lock" not in err.lower(), err
    began = [float(out.split("began ")[1].split()[0]) for out, _ in outputs]
    ended = [float(out.split("ended ")[1].split()[0]) for out, _ in outputs]
    assert max(began) < min(ended), "the writers did not overlap"

    store = Store(root)
    days = [DAY + timedelta(days=offset) for offset in range(45)]
    assert store.days() == days
    runs = store.runs(days[0], days[-1])
    assert runs.groupby("day").size().tolist() == [200] * 45
    assert not runs.duplicated(["day", "file", "run"]).any()
    for offset, day in enumerate(days):
        assert store.metrics(day) == metrics_of(day, offset)


def record_then_die(root: str) -> None:
    """Child process: record DAY, then die (SIGKILL) re-recording it, before the commit."""
    store = Store(Path(root))
    store.record(DAY, metrics_of(DAY, 1), runs_of(DAY, 50, 1))
    insert_runs = store_module._insert_runs

    def insert_then_die(con: duckdb.DuckDBPyConnection, day: date, runs: pa.Table) -> None:
        insert_runs(con, day, runs)
        print(f"inserted {runs.num_rows}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    pytest.MonkeyPatch().setattr(store_module, "_insert_runs", insert_then_die)
    store.record(DAY, metrics_of(DAY, 2), runs_of(DAY, 3_000_000, 2))


def test_a_writer_killed_in_the_middle_leaves_the_previous_day(tmp_path: Path) -> None:
    writer = child(f"record_then_die({str(tmp_path)!r})")
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == -signal.SIGKILL, err
    assert out == "inserted 3000000\n"
    assert (tmp_path / LOCK_NAME).exists()

    store = Store(tmp_path, wait_seconds=1)
    assert store.metrics(DAY) == metrics_of(DAY, 1)
    pd.testing.assert_frame_equal(store.runs(DAY, DAY), expected_runs(DAY, runs_of(DAY, 50, 1)))
    store.record(DAY, metrics_of(DAY, 3), runs_of(DAY, 10, 3))
    assert len(store.runs(DAY, DAY)) == 10
    assert store.metrics(DAY) == metrics_of(DAY, 3)


def record_commit_then_die(root: str) -> None:
    """Child process: record DAY, then die (SIGKILL) re-recording it, just after the commit."""
    store = Store(Path(root))
    store.record(DAY, metrics_of(DAY, 1), runs_of(DAY, 50, 1))
    replace_day = store_module._replace_day

    def replace_then_die(
        con: duckdb.DuckDBPyConnection,
        metrics: DayMetrics,
        hosts: Mapping[str, DayMetrics],
        runs: pa.Table,
    ) -> None:
        replace_day(con, metrics, hosts, runs)
        os.kill(os.getpid(), signal.SIGKILL)

    pytest.MonkeyPatch().setattr(store_module, "_replace_day", replace_then_die)
    store.record(DAY, metrics_of(DAY, 2), runs_of(DAY, 500, 2))


def test_a_writer_killed_after_its_commit_keeps_the_new_day(tmp_path: Path) -> None:
    writer = child(f"record_commit_then_die({str(tmp_path)!r})")
    _, err = writer.communicate(timeout=300)
    assert writer.returncode == -signal.SIGKILL, err
    assert (tmp_path / f"{DB_NAME}.wal").exists()  # committed, not yet checkpointed

    store = Store(tmp_path, wait_seconds=1)
    assert store.metrics(DAY) == metrics_of(DAY, 2)
    pd.testing.assert_frame_equal(store.runs(DAY, DAY), expected_runs(DAY, runs_of(DAY, 500, 2)))


def test_a_month_of_trend_is_quick(tmp_path: Path) -> None:
    store = Store(tmp_path)
    days = [DAY + timedelta(days=offset) for offset in range(30)]
    for offset, day in enumerate(days):
        store.record(day, metrics_of(day, offset), runs_of(day, 100, offset))
    began = time.perf_counter()
    trend = store.trend(30, days[-1])
    print(f"trend of 30 days: {time.perf_counter() - began:.3f} s")
    assert len(trend) == 30
