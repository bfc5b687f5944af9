"""The history store: one DuckDB file in a directory, one metrics row and the runs of each day.

DuckDB lets one process at a time open a database file for writing, so every operation
takes the store's file lock, opens the database, does its work and closes it again; no
connection outlives a call. A day is replaced in a single transaction: recording a day
again replaces it, and a process killed part-way leaves the state of the last commit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from filelock import FileLock, Timeout

from poolwatch.errors import PoolwatchError

SCHEMA_VERSION = 1
DB_NAME = "history.duckdb"
LOCK_NAME = "history.lock"

#: The daily metric columns, in order, with their DuckDB types; one row per day.
METRICS: tuple[tuple[str, str], ...] = (
    ("verdict", "VARCHAR"),
    ("instances", "INTEGER"),
    ("runs", "INTEGER"),
    ("finished", "INTEGER"),
    ("killed", "INTEGER"),
    ("hung", "INTEGER"),
    ("processpool_fallback_rate", "DOUBLE"),
    ("threadpool_fallback_rate", "DOUBLE"),
    ("timeout_rate", "DOUBLE"),
    ("thread_count", "DOUBLE"),
    ("threads_per_instance", "DOUBLE"),
    ("overload_rate", "DOUBLE"),
    ("sequential_rate", "DOUBLE"),
    ("mix_process", "DOUBLE"),
    ("mix_thread", "DOUBLE"),
    ("mix_sequential", "DOUBLE"),
    ("mix_timeout", "DOUBLE"),
    ("system_overloaded", "BIGINT"),
    ("processpool_failed", "BIGINT"),
    ("threadpool_failed", "BIGINT"),
)

#: Per-run rows kept for each day.
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "VARCHAR"),
    ("instance", "VARCHAR"),
    ("run", "INTEGER"),
    ("started_at", "TIMESTAMPTZ"),
    ("outcome", "VARCHAR"),
    ("path", "VARCHAR"),
    ("overloads", "INTEGER"),
    ("processpool_failed", "INTEGER"),
    ("threadpool_failed", "INTEGER"),
    ("max_threads", "INTEGER"),
    ("seconds", "DOUBLE"),
)

#: A metric's value as stored and returned.
Value: TypeAlias = float | int | str | None

#: The pandas dtype each column type is returned as, whatever the values (nulls included).
_DTYPES = {
    "DATE": "datetime64[us]",
    "VARCHAR": "str",
    "INTEGER": "Int32",
    "BIGINT": "Int64",
    "DOUBLE": "float64",
    "TIMESTAMPTZ": "datetime64[us, UTC]",
}

_DAY: tuple[tuple[str, str], ...] = (("day", "DATE"),)
_METRIC_NAMES = tuple(name for name, _ in METRICS)
_RUN_NAMES = tuple(name for name, _ in RUN_COLUMNS)
#: The name under which the runs being recorded are shown to DuckDB.
_INCOMING = "poolwatch_incoming_runs"


class StoreError(PoolwatchError):
    """A one-line message naming the store and what is wrong (shown to users as is)."""


@dataclass(frozen=True)
class DayMetrics:
    """One day's metrics: a value (or None) for every name in METRICS, in that order."""

    day: date
    values: tuple[tuple[str, Value], ...]

    def __post_init__(self) -> None:
        """Refuse values that do not name every metric once, in the order of METRICS."""
        if tuple(name for name, _ in self.values) != _METRIC_NAMES:
            raise ValueError(
                f"the metrics of {self.day} must name {', '.join(_METRIC_NAMES)}, in that order"
            )

    @classmethod
    def of(cls, day: date, values: Mapping[str, object]) -> DayMetrics:
        """The metrics of ``day`` from a mapping that gives every metric a value."""
        missing = [name for name in _METRIC_NAMES if name not in values]
        unknown = sorted(set(values) - set(_METRIC_NAMES))
        if missing or unknown:
            raise ValueError(
                f"the metrics of {day}: missing {missing or 'none'}, unknown {unknown or 'none'}"
            )
        return cls(day, tuple((name, _plain(values[name])) for name in _METRIC_NAMES))

    def get(self, name: str) -> Value:
        """The value of metric ``name`` (KeyError for a name that is not in METRICS)."""
        for key, value in self.values:
            if key == name:
                return value
        raise KeyError(name)


class Store:
    """The history kept in directory ``root``; every call locks, opens, works and closes."""

    def __init__(self, root: Path, *, wait_seconds: float = 60.0) -> None:
        """Open the store in ``root`` (created if missing) and check that it can be read."""
        self.root = Path(root)
        self.wait_seconds = wait_seconds
        _make_directory(self.root)
        with self._opened():
            pass

    @property
    def path(self) -> Path:
        """The database file."""
        return self.root / DB_NAME

    def record(self, day: date, metrics: DayMetrics, runs: pd.DataFrame) -> None:
        """Replace the metrics and runs of ``day`` in one transaction."""
        if metrics.day != day:
            raise ValueError(f"the metrics are of {metrics.day}, not of {day}")
        incoming = _incoming_runs(self.root, day, runs)
        with self._opened() as con:
            _replace_day(con, metrics, incoming)

    def prune(self, keep_days: int, today: date) -> int:
        """Forget the days before the last ``keep_days`` up to ``today``; return how many."""
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, not {keep_days}")
        with self._opened() as con:
            return _delete_before(con, today - timedelta(days=keep_days - 1))

    def days(self) -> list[date]:
        """Every recorded day, oldest first."""
        with self._opened() as con:
            rows = con.execute("SELECT day FROM metrics ORDER BY day").fetchall()
        return [row[0] for row in rows]

    def metrics(self, day: date) -> DayMetrics | None:
        """The metrics recorded for ``day``, or None."""
        with self._opened() as con:
            row = con.execute(
                f"SELECT {_columns(METRICS)} FROM metrics WHERE day = ?", [day]
            ).fetchone()
        if row is None:
            return None
        return DayMetrics(day, tuple(zip(_METRIC_NAMES, row, strict=True)))

    def trend(self, days: int, end: date) -> pd.DataFrame:
        """One row (``day`` and the metrics) per recorded day of the ``days`` up to ``end``."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        start = end - timedelta(days=days - 1)
        query = (
            f"SELECT {_columns(_DAY + METRICS)} FROM metrics WHERE day BETWEEN ? AND ? ORDER BY day"
        )
        with self._opened() as con:
            frame = con.execute(query, [start, end]).df()
        return _typed(frame, _DAY + METRICS)

    def runs(self, start: date, end: date) -> pd.DataFrame:
        """The runs (``day`` and RUN_COLUMNS) of the days from ``start`` to ``end``."""
        query = (
            f"SELECT {_columns(_DAY + RUN_COLUMNS)} FROM runs "
            'WHERE day BETWEEN ? AND ? ORDER BY day, "file", "run", "instance"'
        )
        with self._opened() as con:
            frame = con.execute(query, [start, end]).df()
        return _typed(frame, _DAY + RUN_COLUMNS)

    @contextmanager
    def _opened(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to a readable database, held under the store's lock, closed on leaving."""
        lock = self._lock()
        try:
            con = _connect(self.path)
            try:
                _check_schema(con, self.root)
                yield con
            except duckdb.Error as error:
                raise StoreError(f"{self.path}: {_first_line(error)}") from error
            finally:
                con.close()
        finally:
            lock.release()

    def _lock(self) -> FileLock:
        """The store's file lock, acquired within ``wait_seconds``."""
        lock = FileLock(self.root / LOCK_NAME, timeout=self.wait_seconds)
        try:
            lock.acquire()
        except Timeout as error:
            raise StoreError(
                f"{self.root}: another poolwatch is writing this store "
                f"(waited {self.wait_seconds:g} s); try again later"
            ) from error
        except OSError as error:
            raise StoreError(f"{lock.lock_file}: cannot lock: {error.strerror or error}") from error
        return lock


def _make_directory(root: Path) -> None:
    """Create ``root`` as a directory, or refuse a path that is something else."""
    if root.exists() and not root.is_dir():
        raise StoreError(f"{root}: not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"{root}: cannot create: {error.strerror or error}") from error


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection to ``path`` that works in UTC and draws no progress bar."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as error:
        raise StoreError(
            f"{path}: cannot open as a DuckDB database ({_first_line(error)})"
        ) from error
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def _check_schema(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Create the tables of a new store; refuse one written by a newer poolwatch."""
    con.begin()
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    version = _schema_version(con, root)
    if version is None:
        _create_tables(con)
    con.commit()
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"{root}: written by a newer poolwatch (store schema {version}, "
            f"this poolwatch reads up to {SCHEMA_VERSION}); upgrade poolwatch"
        )


def _schema_version(con: duckdb.DuckDBPyConnection, root: Path) -> int | None:
    """The schema version the store was written with, or None for a new store."""
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError) as error:
        raise StoreError(f"{root}: unreadable store schema version {row[0]!r}") from error


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables of a new store, and its schema version."""
    con.execute(f"CREATE TABLE metrics ({_definitions(_DAY + METRICS)})")
    con.execute(f"CREATE TABLE runs ({_definitions(_DAY + RUN_COLUMNS)})")
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _replace_day(con: duckdb.DuckDBPyConnection, metrics: DayMetrics, runs: pa.Table) -> None:
    """Delete the day's rows and write the new ones, all in one transaction."""
    con.begin()
    try:
        _delete_day(con, metrics.day)
        _insert_metrics(con, metrics)
        _insert_runs(con, metrics.day, runs)
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _delete_day(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Delete the metrics and runs of ``day``."""
    con.execute("DELETE FROM metrics WHERE day = ?", [day])
    con.execute("DELETE FROM runs WHERE day = ?", [day])


def _insert_metrics(con: duckdb.DuckDBPyConnection, metrics: DayMetrics) -> None:
    """Insert the metrics row of a day."""
    marks = ", ".join("?" for _ in _DAY + METRICS)
    values = [metrics.day, *(_plain(value) for _, value in metrics.values)]
    con.execute(f"INSERT INTO metrics ({_columns(_DAY + METRICS)}) VALUES ({marks})", values)


def _insert_runs(con: duckdb.DuckDBPyConnection, day: date, runs: pa.Table) -> None:
    """Insert ``runs`` (checked, times in UTC) as the runs of ``day``, straight from Arrow.

    On failure the view is left for the connection's closing to drop: dropping it inside
    the failed transaction would raise again and hide the first error.
    """
    con.register(_INCOMING, runs)
    con.execute(
        f"INSERT INTO runs ({_columns(_DAY + RUN_COLUMNS)}) "
        f"SELECT ?, {_columns(RUN_COLUMNS)} FROM {_INCOMING}",
        [day],
    )
    con.unregister(_INCOMING)


def _delete_before(con: duckdb.DuckDBPyConnection, first: date) -> int:
    """Delete every day before ``first`` in one transaction; return how many days."""
    con.begin()
    row = con.execute("DELETE FROM metrics WHERE day < ?", [first]).fetchone()
    con.execute("DELETE FROM runs WHERE day < ?", [first])
    con.commit()
    return int(row[0]) if row else 0


def _incoming_runs(root: Path, day: date, runs: pd.DataFrame) -> pa.Table:
    """The RUN_COLUMNS of ``runs`` as Arrow, start times in UTC (naive ones taken as UTC).

    DuckDB reads Arrow alike in every version, whereas older versions of its pandas reader
    do not know pandas 3's string dtype; text held as Python objects becomes strings.
    """
    missing = [name for name in _RUN_NAMES if name not in runs.columns]
    if missing:
        raise StoreError(f"{root}: the runs of {day} lack the column(s) {', '.join(missing)}")
    chosen = runs.loc[:, list(_RUN_NAMES)]
    chosen = chosen.assign(
        started_at=pd.to_datetime(chosen["started_at"], utc=True),
        **{
            name: chosen[name].astype("str")
            for name, kind in RUN_COLUMNS
            if kind == "VARCHAR" and chosen[name].dtype == object
        },
    )
    try:
        return pa.Table.from_pandas(chosen, preserve_index=False)
    except pa.ArrowException as error:
        raise StoreError(
            f"{root}: the runs of {day} cannot be stored: {_first_line(error)}"
        ) from error


def _typed(frame: pd.DataFrame, columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """``frame`` with each column in the dtype of its type, whether or not it holds nulls."""
    return frame.astype({name: _DTYPES[kind] for name, kind in columns})


def _plain(value: object) -> Value:
    """A metric value as DuckDB takes it: a Python number or string, missing ones as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float | str):
        return value
    raise TypeError(f"not a metric value: {value!r}")


def _columns(columns: Sequence[tuple[str, str]]) -> str:
    """The quoted names of ``columns``, comma-separated."""
    return ", ".join(f'"{name}"' for name, _ in columns)


def _definitions(columns: Sequence[tuple[str, str]]) -> str:
    """The column definitions of a table, the day first and never null."""
    return ", ".join(
        f'"{name}" {kind}' + (" NOT NULL" if name == "day" else "") for name, kind in columns
    )


def _first_line(error: BaseException) -> str:
    """The first line of an error's message (DuckDB's may span several)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
