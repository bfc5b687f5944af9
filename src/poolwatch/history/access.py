"""How the store's file is reached: its lock, its DuckDB connection, and the checks that
it is a poolwatch store this poolwatch can read.

A writer takes the lock exclusively (creating the lock file and the directory), opens the
database read-write, and creates the tables of a new store. A reader creates nothing: it
shares the lock when the lock file exists (waiting for a writer to finish), opens the
database read-only, and finds no store where there is no database or no table yet.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from poolwatch.domains import short
from poolwatch.errors import PoolwatchError

DB_NAME = "history.duckdb"
LOCK_NAME = "history.lock"
#: The longest schema version read back (a number: a few digits).
_VERSION_CHARS = 20
#: How often a waiting reader tries the lock again, in seconds.
_POLL = 0.05


class StoreError(PoolwatchError):
    """A one-line message naming the store and what is wrong (shown to users as is)."""


@contextmanager
def writing(
    root: Path,
    wait: float,
    create: Callable[[duckdb.DuckDBPyConnection], None],
    upgrade: Callable[[duckdb.DuckDBPyConnection, int], None],
    newest: int,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection under the exclusive lock; ``create`` makes the tables of a
    new store, ``upgrade`` brings one of an older schema (given) to ``newest``, and a store
    of a schema above ``newest`` is refused."""
    make_directory(root)
    lock = _exclusive(root, wait)
    try:
        with _connected(root / DB_NAME, read_only=False) as con:
            _prepare(con, root, create, upgrade, newest)
            yield con
    finally:
        lock.release()


@contextmanager
def reading(root: Path, wait: float, newest: int) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection under the shared lock, or None where there is no store yet."""
    refuse_non_directory(root)
    with _shared(root, wait):
        if not os.path.lexists(root / DB_NAME):
            yield None
            return
        with _connected(root / DB_NAME, read_only=True) as con:
            yield con if _readable(con, root, newest) else None


def refuse_non_directory(root: Path) -> None:
    """Refuse a store path that exists and is not a directory."""
    if root.exists() and not root.is_dir():
        raise StoreError(f"{root}: not a directory")


def make_directory(root: Path) -> None:
    """Create ``root`` as a directory, or refuse a path that is something else."""
    refuse_non_directory(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"{root}: cannot create: {error.strerror or error}") from error


def _busy(root: Path, wait: float) -> StoreError:
    return StoreError(
        f"{root}: another poolwatch is writing this store (waited {wait:g} s); try again later"
    )


def _exclusive(root: Path, wait: float) -> FileLock:
    """The store's file lock, acquired within ``wait`` seconds."""
    lock = FileLock(root / LOCK_NAME, timeout=wait)
    try:
        lock.acquire()
    except Timeout as error:
        raise _busy(root, wait) from error
    except OSError as error:
        raise StoreError(f"{lock.lock_file}: cannot lock: {error.strerror or error}") from error
    return lock


@contextmanager
def _shared(root: Path, wait: float) -> Iterator[None]:
    """The store's lock shared with other readers, if its lock file exists (none is
    created: a store no writer has locked has none, and a read-only one cannot get one)."""
    fd = _open_lock(root / LOCK_NAME)
    if fd is None:
        yield
        return
    try:
        _wait_shared(fd, root, wait)
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_lock(path: Path) -> int | None:
    """The lock file opened for reading, or None if there is none."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"{path}: cannot lock: {error.strerror or error}") from error


def _wait_shared(fd: int, root: Path, wait: float) -> None:
    """Take a shared flock on ``fd`` within ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _busy(root, wait) from None
            time.sleep(_POLL)
        except OSError as error:
            raise StoreError(f"{root / LOCK_NAME}: cannot lock: {error.strerror}") from error


@contextmanager
def _connected(path: Path, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``path`` in UTC without a progress bar; a DuckDB error while it is
    open is one line naming the file; closed on leaving."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as error:
        raise StoreError(
            f"{path}: cannot open as a DuckDB database ({first_line(error)})"
        ) from error
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        yield con
    except duckdb.Error as error:
        raise StoreError(f"{path}: {first_line(error)}") from error
    finally:
        con.close()


def _prepare(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    create: Callable[[duckdb.DuckDBPyConnection], None],
    upgrade: Callable[[duckdb.DuckDBPyConnection, int], None],
    newest: int,
) -> None:
    """Create the tables of a new store, or upgrade an older one, in one transaction;
    refuse a foreign database or a newer store."""
    con.begin()
    try:
        if not _readable(con, root, newest):
            create(con)
        elif (version := schema_version(con, root)) < newest:
            upgrade(con, version)
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _readable(con: duckdb.DuckDBPyConnection, root: Path, newest: int) -> bool:
    """Whether the database holds a poolwatch store (False: no table at all yet);
    refuse one that holds other tables, or one written by a newer poolwatch."""
    tables = _tables(con)
    if "meta" not in tables:
        if tables:
            named = ", ".join(sorted(tables)[:3])
            raise StoreError(f"{root / DB_NAME}: not a poolwatch history store (it holds "
                             f"other tables: {short(named)})")  # fmt: skip
        return False
    version = schema_version(con, root)
    if version > newest:
        raise StoreError(
            f"{root}: written by a newer poolwatch (store schema {version}, "
            f"this poolwatch reads up to {newest}); upgrade poolwatch"
        )
    return True


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The names of the database's tables."""
    return {str(row[0]) for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def schema_version(con: duckdb.DuckDBPyConnection, root: Path) -> int:
    """The schema version the store was written with (only its first characters are read)."""
    row = con.execute(
        "SELECT substr(value, 1, ?), length(value) FROM meta WHERE key = 'schema_version'",
        [_VERSION_CHARS],
    ).fetchone()
    if row is None or row[0] is None:
        raise StoreError(f"{root}: unreadable store schema version (none)")
    text, length = str(row[0]), int(row[1])
    if length > len(text) or not text.isdigit():
        more = f"... ({length:,} characters)" if length > len(text) else ""
        raise StoreError(f"{root}: unreadable store schema version {text!r}{more}")
    return int(text)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (DuckDB's may span several)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
