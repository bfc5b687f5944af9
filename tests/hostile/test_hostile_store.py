"""Hostile days, zones and stores: ``daily``, ``history`` and ``report --baseline-days`` given
odd options, broken or foreign stores, and stores an older poolwatch filled with a bad day.
Every store is built here at run time; each bad input gets one line, and reading a store
never creates or changes anything."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from .conftest import CONSOLE, Done, poolwatch

#: The day the hand-written console log holds (its date lines are CEST: the same day in UTC).
DAY = "2025-10-14"


def one_line(done: Done, code: int, *parts: str) -> str:
    """The one-line error of a refused command, checked to name every part: all that is on
    stderr, or for a usage error (exit 2) the line under click's usage header."""
    done.clean()
    assert done.code == code, (done.code, done.out, done.err)
    lines = done.err.strip().splitlines()
    if code == 2 and len(lines) > 1:
        assert lines[0].startswith("Usage: poolwatch "), done.err
        lines = lines[-1:]
    assert len(lines) == 1, done.err
    assert done.error.startswith("Error: "), done.err
    for part in parts:
        assert part in done.error, (part, done.error)
    return done.error


def daily(store: Path, out: Path, *options: str, day: str = DAY) -> Done:
    """``poolwatch daily`` of the hand-written logs, in UTC."""
    return poolwatch(
        "daily", CONSOLE, "--day", day, "--tz", "UTC", "--store", store, "--out", out,
        "--format", "json", *options,
    )  # fmt: skip


def state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the hash of its bytes (a directory as ``dir``)."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): "dir"
        if path.is_dir()
        else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the logs' day, as ``daily`` records it."""
    root = tmp_path_factory.mktemp("recorded")
    done = daily(root / "store", root / "out").clean()
    assert done.code == 0, done.err
    return root / "store"


def copy_of(store: Path, into: Path) -> Path:
    """A copy of the store's database in a new store directory (without its lock file)."""
    into.mkdir()
    (into / "history.duckdb").write_bytes((store / "history.duckdb").read_bytes())
    return into


# --- --tz, --day, --days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "said"),
    [
        ("/etc/passwd", "not a path"),
        ("../../etc/passwd", "not a path"),
        ("", "empty"),
        ("Not/AZone", "unknown timezone"),
        ("/etc", "not a path"),
        ("Europe", "unknown timezone"),
        ("Europe/" + "x" * 5000, "unknown timezone"),
    ],
)
def test_an_odd_zone_is_one_line_naming_tz(tmp_path: Path, zone: str, said: str) -> None:
    done = poolwatch("daily", CONSOLE, "--tz", zone, "--store", tmp_path / "s", "--out",
                     tmp_path / "o")  # fmt: skip
    error = one_line(done, 2, "--tz", said)
    assert len(error) < 300
    assert not (tmp_path / "s").exists()
    assert not (tmp_path / "o").exists()


def test_history_days_out_of_range_are_one_line(recorded: Path) -> None:
    for days in ("1000000", "0", "-3"):
        one_line(poolwatch("history", "--store", recorded, "--days", days), 2, "--days", days)


def test_keep_and_baseline_days_out_of_range_are_one_line(recorded: Path, tmp_path: Path) -> None:
    before = state(recorded)
    done = daily(recorded, tmp_path / "out", "--keep", "1000000000")
    one_line(done, 2, "--keep", "1000000000")
    done = poolwatch("report", CONSOLE, "--out", tmp_path / "r", "--format", "json",
                     "--baseline-days", "1000000", "--store", recorded)  # fmt: skip
    one_line(done, 2, "--baseline-days", "1000000")
    assert state(recorded) == before


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "0001-01-01", "+5"])
def test_a_day_out_of_range_is_refused_and_nothing_is_recorded(tmp_path: Path, day: str) -> None:
    if day == "+5":
        day = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    done = daily(tmp_path / "store", tmp_path / "out", day=day)
    one_line(done, 2, "--day", day, "2000-01-01")
    assert not (tmp_path / "store").exists()
    assert not (tmp_path / "out").exists()


def test_tomorrow_is_the_latest_day(tmp_path: Path) -> None:
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    done = daily(tmp_path / "store", tmp_path / "out", day=tomorrow)
    one_line(done, 1, f"no run or monitor record on {tomorrow}")


# --- the order of a daily run ------------------------------------------------------------


def test_a_report_that_cannot_be_written_records_nothing(recorded: Path, tmp_path: Path) -> None:
    new = tmp_path / "new"
    one_line(daily(new, Path("/proc/daily")), 1, "/proc/daily")
    assert not new.exists()
    store = copy_of(recorded, tmp_path / "store")
    with duckdb.connect(str(store / "history.duckdb")) as con:
        con.execute("DELETE FROM metrics")
    before = state(store)
    one_line(daily(store, Path("/proc/daily")), 1, "/proc/daily")
    assert state(store) == before
    with duckdb.connect(str(store / "history.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM metrics").fetchone() == (0,)


# --- bad rows an older poolwatch recorded ------------------------------------------------


@pytest.mark.parametrize(
    ("insert", "day"),
    [
        ("INSERT INTO metrics (day, verdict, runs) VALUES (DATE '9999-12-31', 'critical', 3)",
         "9999-12-31"),
        ("INSERT INTO metrics (day, verdict, thread_count) "
         "VALUES (DATE '2025-10-12', 'critical', 'inf'::DOUBLE)", "2025-10-12"),
        ("INSERT INTO metrics (day, verdict, timeout_rate) "
         "VALUES (DATE '2025-10-11', 'warning', 250)", "2025-10-11"),
        ("INSERT INTO metrics (day, verdict) VALUES (DATE '2025-10-10', 'bogus')", "2025-10-10"),
        ("INSERT INTO metrics (day, verdict) VALUES (DATE '1970-01-01', 'healthy')",
         "1970-01-01"),
    ],
)  # fmt: skip
def test_a_bad_row_in_the_store_is_skipped_with_a_warning(
    recorded: Path, tmp_path: Path, insert: str, day: str
) -> None:
    store = copy_of(recorded, tmp_path / "store")
    with duckdb.connect(str(store / "history.duckdb")) as con:
        con.execute(insert)
    out = tmp_path / "out"
    done = poolwatch("daily", CONSOLE, "--day", DAY, "--tz", "UTC", "--store", store, "--out", out,
                     "--format", "json,html").clean()  # fmt: skip
    assert done.code == 0, done.err
    warned = [line for line in done.err.splitlines() if "warning" in line]
    assert len(warned) == 1, done.err
    assert day in warned[0] and "skipped" in warned[0]
    index = (out / "index.html").read_text()
    assert index.count('<th scope="row">') == 1
    assert f'<th scope="row">{DAY}<span class="sub"><a href="{DAY}/report.html">report</a>' in index
    shown = poolwatch("history", "--store", store, "--csv").clean()
    assert shown.code == 0, shown.err
    assert [row[:10] for row in shown.out.splitlines()[1:]] == [DAY]
    assert day in shown.err


# --- broken, foreign and new stores ------------------------------------------------------


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _junk(path: Path) -> None:
    path.write_bytes(b"not a database page\n" * 500)


def _directory(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize("make", [_zero, _junk, _directory, "truncated"])
def test_a_broken_store_is_one_line_and_left_as_it_was(
    recorded: Path, tmp_path: Path, make: object
) -> None:
    store = tmp_path / "store"
    if make == "truncated":
        copy_of(recorded, store)
        database = store / "history.duckdb"
        database.write_bytes(database.read_bytes()[:5000])
    else:
        store.mkdir()
        make(store / "history.duckdb")  # type: ignore[operator]
    before = state(store)
    one_line(poolwatch("history", "--store", store), 1, str(store / "history.duckdb"))
    one_line(daily(store, tmp_path / "out"), 1, str(store / "history.duckdb"))
    assert not (tmp_path / "out").exists()
    assert state(store) == before


def test_a_huge_schema_version_is_one_short_line(recorded: Path, tmp_path: Path) -> None:
    store = copy_of(recorded, tmp_path / "store")
    with duckdb.connect(str(store / "history.duckdb")) as con:
        con.execute("UPDATE meta SET value = repeat('9', 1000000) WHERE key = 'schema_version'")
    error = one_line(poolwatch("history", "--store", store), 1, "schema version")
    assert len(error) < 300


def test_a_foreign_duckdb_database_is_not_a_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with duckdb.connect(str(store / "history.duckdb")) as con:
        con.execute("CREATE TABLE sales (amount INTEGER)")
    before = state(store)
    one_line(poolwatch("history", "--store", store), 1, "not a poolwatch history store")
    one_line(daily(store, tmp_path / "out"), 1, "not a poolwatch history store")
    assert state(store) == before


def test_reading_a_new_store_creates_nothing(tmp_path: Path) -> None:
    new = tmp_path / "new"
    one_line(poolwatch("history", "--store", new), 1, "no day recorded yet")
    assert not new.exists()
    done = poolwatch("report", CONSOLE, "--out", tmp_path / "r", "--format", "json",
                     "--baseline-days", "3", "--store", new)  # fmt: skip
    one_line(done, 1, "no day recorded")
    assert not new.exists()


def test_reading_a_store_changes_nothing_in_it(recorded: Path, tmp_path: Path) -> None:
    store = copy_of(recorded, tmp_path / "store")
    before = state(store)
    shown = poolwatch("history", "--store", store).clean()
    assert shown.code == 0, shown.err
    assert DAY in shown.out
    done = poolwatch("report", CONSOLE, "--out", tmp_path / "r", "--format", "json",
                     "--baseline-days", "3", "--store", store)  # fmt: skip
    one_line(done, 1, "no day recorded in the store in the 3 days up to 2025-10-13")
    assert state(store) == before


def test_a_store_on_a_read_only_file_system_is_read(tmp_path: Path) -> None:
    # /proc/self is a directory no one can create a file in: reading it finds no store.
    one_line(poolwatch("history", "--store", "/proc/self"), 1, "no day recorded yet")
