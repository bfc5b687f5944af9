"""The history store: one DuckDB file in a directory; for each day, the fleet's metrics
row, a metrics row per host when the logs came from several hosts, and the runs.

DuckDB lets one process at a time open a database file for writing, so every operation
takes the store's file lock, opens the database, does its work and closes it again; no
connection outlives a call. A day is replaced in a single transaction: recording a day
again replaces it, and a process killed part-way leaves the state of the last commit.

Schema 2 added the hosts (``host_metrics``, and a ``host`` column on the runs); a store
of schema 1 is read as it is, and upgraded in place, its rows kept, when a day is next
recorded in it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from poolwatch.history.access import (
    DB_NAME,
    LOCK_NAME,
    StoreError,
    first_line,
    reading,
    writing,
)
from poolwatch.history.bounds import first_bad
from poolwatch.history.span import FIRST_DAY, latest
from poolwatch.order import natural

__all__ = ["DB_NAME", "LOCK_NAME", "SCHEMA_VERSION", "DayMetrics", "Store", "StoreError"]

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

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

#: Per-run rows kept for each day (``host``: ``""`` for one host's logs).
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("host", "VARCHAR"),
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
_HOST: tuple[tuple[str, str], ...] = (("host", "VARCHAR"),)
_METRIC_NAMES = tuple(name for name, _ in METRICS)
_RUN_NAMES = tuple(name for name, _ in RUN_COLUMNS)
#: The tables holding rows of a day, the fleet's metrics first.
_DAY_TABLES = ("metrics", "host_metrics", "runs")
#: The name under which the runs being recorded are shown to DuckDB.
_INCOMING = "poolwatch_incoming_runs"


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
    """The history kept in directory ``root``; every call locks, opens, works and closes.

    Reading never creates anything: a store with no database yet reads as empty. Only
    ``record`` and ``prune`` create the directory, the lock file and the database.
    ``warn`` is told, once each, of the rows readers skip (see history/bounds.py).
    """

    def __init__(
        self,
        root: Path,
        *,
        wait_seconds: float = 60.0,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        """The store in ``root``, checked to be readable if it exists (nothing is created)."""
        self.root = Path(root)
        self.wait_seconds = wait_seconds
        self._warn = warn or _log.warning
        self._warned: set[tuple[date | None, str | None, str]] = set()
        with self._reading():
            pass

    @property
    def path(self) -> Path:
        """The database file."""
        return self.root / DB_NAME

    def record(
        self,
        day: date,
        metrics: DayMetrics,
        runs: pd.DataFrame,
        hosts: Mapping[str, DayMetrics] | None = None,
    ) -> None:
        """Replace the metrics and runs of ``day`` in one transaction, with each host's
        metrics when the logs came from several (``hosts``: host name to its metrics)."""
        each = dict(hosts or {})
        for row in (metrics, *each.values()):
            if row.day != day:
                raise ValueError(f"the metrics are of {row.day}, not of {day}")
        incoming = _incoming_runs(self.root, day, runs)
        with self._writing() as con:
            _replace_day(con, metrics, each, incoming)

    def prune(self, keep_days: int, today: date) -> int:
        """Forget the days before the last ``keep_days`` up to ``today``; return how many."""
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, not {keep_days}")
        with self._writing() as con:
            return _delete_before(con, _days_before(today, keep_days))

    def days(self) -> list[date]:
        """Every recorded day that readers can show, oldest first."""
        return [_date(day) for day in self.every_day()["day"]]

    def hosts(self) -> tuple[str, ...]:
        """The hosts with a metrics row of their own, in natural order (``host2`` first)."""
        with self._reading() as con:
            rows = [] if con is None or not _has_hosts(con) else con.execute(
                "SELECT DISTINCT host FROM host_metrics"
            ).fetchall()  # fmt: skip
        return tuple(sorted((str(row[0]) for row in rows), key=natural))

    def metrics(self, day: date, host: str | None = None) -> DayMetrics | None:
        """The metrics recorded for ``day`` (the fleet's, or ``host``'s), or None."""
        table, where, values = _selecting(host, "day = ?", [day])
        with self._reading() as con:
            row = None if con is None or not _holds(con, table) else con.execute(
                f"SELECT {_columns(METRICS)} FROM {table} WHERE {where}", values
            ).fetchone()  # fmt: skip
        if row is None:
            return None
        return DayMetrics(day, tuple(zip(_METRIC_NAMES, row, strict=True)))

    def trend(self, days: int, end: date, host: str | None = None) -> pd.DataFrame:
        """One row (``day`` and the metrics: the fleet's, or ``host``'s) per recorded day of
        the ``days`` up to ``end`` (none before bounds.FIRST_DAY), skipping rows readers
        cannot show."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        start = max(FIRST_DAY, _days_before(end, days))
        return self._shown(self._metric_rows(host, "day BETWEEN ? AND ?", [start, end]), host)

    def every_day(self, host: str | None = None) -> pd.DataFrame:
        """The trend rows of every recorded day, skipping rows readers cannot show."""
        return self._shown(self._metric_rows(host, "", []), host)

    def runs(self, start: date, end: date) -> pd.DataFrame:
        """The runs (``day`` and RUN_COLUMNS) of the days from ``start`` to ``end``."""
        with self._reading() as con:
            if con is None:
                frame = _empty(_DAY + RUN_COLUMNS)
            else:
                # A schema-1 store's runs have no host: one host's, "".
                given = _has_hosts(con)
                chosen = ", ".join(
                    f'"{name}"' if given or name != "host" else "'' AS \"host\""
                    for name, _ in _DAY + RUN_COLUMNS
                )
                frame = con.execute(
                    f"SELECT {chosen} FROM runs WHERE day BETWEEN ? AND ? "
                    'ORDER BY day, "host", "file", "run", "instance"',
                    [start, end],
                ).df()
        return _typed(frame, _DAY + RUN_COLUMNS)

    def _metric_rows(self, host: str | None, where: str, values: list[object]) -> pd.DataFrame:
        """The metrics rows (the fleet's, or ``host``'s) that ``where`` selects, oldest first."""
        table, where, values = _selecting(host, where, values)
        query = f"SELECT {_columns(_DAY + METRICS)} FROM {table} WHERE {where} ORDER BY day"
        with self._reading() as con:
            frame = (
                con.execute(query, values).df()
                if con is not None and _holds(con, table)
                else _empty(_DAY + METRICS)
            )
        return _typed(frame, _DAY + METRICS)

    def _shown(self, frame: pd.DataFrame, host: str | None) -> pd.DataFrame:
        """``frame`` without the rows readers cannot show, each told to ``warn`` once."""
        bad = list(first_bad(frame, latest()))
        whose = "" if host is None else f" of host {host!r}"
        for day, problem in bad:
            if (day, host, problem) not in self._warned:
                self._warned.add((day, host, problem))
                self._warn(f"{self.path}: skipped the row{whose} of {day}: {problem}")
        if not bad:
            return frame
        skipped = {day for day, _ in bad}
        return _where(frame, [_date(day) not in skipped for day in frame["day"]])

    def _reading(self) -> AbstractContextManager[duckdb.DuckDBPyConnection | None]:
        """A read-only connection, or None where there is no store yet."""
        return reading(self.root, self.wait_seconds, SCHEMA_VERSION)

    def _writing(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A read-write connection to the store, created if new."""
        return writing(self.root, self.wait_seconds, _create_tables, _upgrade, SCHEMA_VERSION)


def with_day(trend: pd.DataFrame, metrics: DayMetrics) -> pd.DataFrame:
    """Trend rows (as ``Store.trend`` returns them) with ``metrics``' day in place of any
    recorded one: what the store will hold once the day is recorded."""
    row = pd.DataFrame([{"day": pd.Timestamp(metrics.day), **dict(metrics.values)}])
    others = _where(trend, [_date(day) != metrics.day for day in trend["day"]])
    frame = pd.concat([_typed(others, _DAY + METRICS), _typed(row, _DAY + METRICS)])
    return frame.sort_values("day", kind="stable").reset_index(drop=True)


def pruned(trend: pd.DataFrame, keep_days: int, today: date) -> pd.DataFrame:
    """Trend rows without the days that ``Store.prune(keep_days, today)`` forgets."""
    first = _days_before(today, keep_days)
    return _where(trend, [_date(day) >= first for day in trend["day"]])


def _where(frame: pd.DataFrame, keep: list[bool]) -> pd.DataFrame:
    """The rows of ``frame`` that ``keep`` marks, renumbered (an empty frame stays whole)."""
    return frame[pd.Series(keep, index=frame.index, dtype=bool)].reset_index(drop=True)


def _days_before(end: date, days: int) -> date:
    """The first of the ``days`` days up to ``end`` (the first date there is, if earlier)."""
    try:
        return end - timedelta(days=days - 1)
    except OverflowError:
        return date.min


def _date(value: object) -> date:
    """A day as the store returns it (a timestamp at midnight) as a date."""
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _empty(columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """A frame of ``columns`` without rows."""
    return pd.DataFrame({name: [] for name, _ in columns})


def _selecting(host: str | None, where: str, values: list[object]) -> tuple[str, str, list[object]]:
    """The table, condition and values that select the fleet's rows or one host's."""
    if host is None:
        return "metrics", where or "true", values
    return "host_metrics", f"host = ? AND ({where or 'true'})", [host, *values]


def _has_hosts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has its hosts' tables and columns (schema 2 on; a schema 1 store
    is read as it is)."""
    return _holds(con, "host_metrics")


def _holds(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the database has ``table``."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
    ).fetchone()
    return bool(found and found[0])


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The tables of a new store, and its schema version."""
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"CREATE TABLE metrics ({_definitions(_DAY + METRICS)})")
    con.execute(f"CREATE TABLE host_metrics ({_definitions(_DAY + _HOST + METRICS)})")
    con.execute(f"CREATE TABLE runs ({_definitions(_DAY + RUN_COLUMNS)})")
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _upgrade(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a store of an older schema to this one, every row kept (inside the writer's
    transaction: a failure leaves the store as it was)."""
    if version < 2:
        con.execute(f"CREATE TABLE host_metrics ({_definitions(_DAY + _HOST + METRICS)})")
        con.execute("ALTER TABLE runs ADD COLUMN host VARCHAR DEFAULT ''")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])


def _replace_day(
    con: duckdb.DuckDBPyConnection,
    metrics: DayMetrics,
    hosts: Mapping[str, DayMetrics],
    runs: pa.Table,
) -> None:
    """Delete the day's rows and write the new ones, all in one transaction."""
    con.begin()
    try:
        _delete_day(con, metrics.day)
        _insert_metrics(con, "metrics", metrics)
        for host, row in hosts.items():
            _insert_metrics(con, "host_metrics", row, host)
        _insert_runs(con, metrics.day, runs)
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _delete_day(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Delete the metrics and runs of ``day``."""
    for table in _DAY_TABLES:
        con.execute(f"DELETE FROM {table} WHERE day = ?", [day])


def _insert_metrics(
    con: duckdb.DuckDBPyConnection, table: str, metrics: DayMetrics, host: str | None = None
) -> None:
    """Insert the metrics row of a day: the fleet's, or (in ``host_metrics``) a host's."""
    key = _DAY if host is None else _DAY + _HOST
    marks = ", ".join("?" for _ in key + METRICS)
    values = [metrics.day, *([] if host is None else [host])]
    values += [_plain(value) for _, value in metrics.values]
    con.execute(f"INSERT INTO {table} ({_columns(key + METRICS)}) VALUES ({marks})", values)


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
    for table in _DAY_TABLES[1:]:
        con.execute(f"DELETE FROM {table} WHERE day < ?", [first])
    con.commit()
    return int(row[0]) if row else 0


def _incoming_runs(root: Path, day: date, runs: pd.DataFrame) -> pa.Table:
    """The RUN_COLUMNS of ``runs`` as Arrow, start times in UTC (naive ones taken as UTC);
    runs without a ``host`` column are one host's (``""``).

    DuckDB reads Arrow alike in every version, whereas older versions of its pandas reader
    do not know pandas 3's string dtype; text held as Python objects becomes strings.
    """
    if "host" not in runs.columns:
        runs = runs.assign(host="")
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
            f"{root}: the runs of {day} cannot be stored: {first_line(error)}"
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
