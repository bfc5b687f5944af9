"""The tables ingest produces: their columns, compact dtypes and meaning.

This module is the documentation of the DataFrames the rest of poolwatch (and anyone
loading the Parquet files) relies on. ``to_pandas`` turns the polars frames the
parser builds into pandas frames with exactly these columns and dtypes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import TYPE_CHECKING, Protocol

import polars as pl
import pyarrow as pa

from poolwatch.ingest.grammar import KINDS

if TYPE_CHECKING:
    import pandas as pd
# pandas is imported where it is used: scanning needs only polars, and the parser
# imports pandas beside the scanning (``parse.ingest``).


@dataclass(frozen=True)
class Column:
    """One column of a published table."""

    name: str
    dtype: str
    doc: str


STRING = "string"
CATEGORY = "category"
TIMESTAMP = "datetime64[us, UTC]"
# Numbers and flags are pyarrow-backed: nullable, compact, and handed over from polars
# without a copy.
UINT8 = "uint8[pyarrow]"
UINT32 = "uint32[pyarrow]"
INT32 = "int32[pyarrow]"
INT64 = "int64[pyarrow]"
FLOAT64 = "double[pyarrow]"
BOOL = "bool[pyarrow]"

#: The host of a row's file: an instance is a host and a tmp_batt_<id> together.
HOST = Column(
    "host",
    CATEGORY,
    "host the file's path names: the first directory under an input that holds several "
    "hosts' directories, or --host-from's {host}; empty for one host's logs",
)

EVENTS: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file as given (or <stdin>)"),
    HOST,
    Column("line", UINT32, "1-based line number in the (decompressed) file"),
    Column(
        "instance",
        CATEGORY,
        "run_card.sh instance, tmp_batt_<id>; else pid <PID> (a snapshot) or the file's name",
    ),
    Column("run", INT32, "run number within the instance's log (0: head of a cut log)"),
    Column("task", CATEGORY, "8-hex-digit task id, from the line or the task being processed"),
    Column("kind", "kind", "event kind, one of grammar.KINDS"),
    Column("threads", INT32, "per-process thread count (overload, thread_snapshot)"),
    Column(
        "count",
        INT32,
        "tasks (run_end), candidates (task_done), leaked objects, "
        "alert count (monitor_alert), host threads (monitor_sample, ps -eLf snapshot)",
    ),
    Column("timeouts", INT32, "sample timeouts reported by run_end"),
    Column("error_type", CATEGORY, "exception class named by the line (OSError, MemoryError)"),
    Column(
        "message",
        STRING,
        "error text, Running: command, signal or snapshot source (with the PID it names)",
    ),
    Column("sample_kind", CATEGORY, "demo or test"),
    Column("sample_index", INT32, "index of the sample within its kind"),
    Column("seconds", FLOAT64, "timing_total, or the limit a timeout line names"),
    Column("timestamp", TIMESTAMP, "wall-clock time where the log gives one (UTC)"),
    Column(
        "text",
        STRING,
        "the line (colour codes removed, cut at 2,000 characters); "
        "empty for task_start and task_done, whose fields say it all",
    ),
)

#: The executor-decision lines of a task or a run, counted (the same columns in both).
FALLBACK_COUNTS: tuple[Column, ...] = (
    Column("overloads", INT32, "System overloaded lines"),
    Column("processpool_failed", INT32, "ProcessPoolExecutor failed lines"),
    Column(
        "processpool_to_sequential",
        INT32,
        "of those, the older wording that falls back to sequential at once",
    ),
    Column("threadpool_failed", INT32, "ThreadPoolExecutor also failed lines"),
    Column("parallel_failed", INT32, "Parallel execution failed lines"),
    Column("thread_retries", INT32, "thread creation failed lines"),
    Column("max_threads", INT32, "highest thread count an overload line reported"),
)

TASKS: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file"),
    HOST,
    Column("instance", CATEGORY, "instance"),
    Column("run", INT32, "run number"),
    Column("task", CATEGORY, "task id"),
    Column("task_index", INT32, "position of the task in its run"),
    Column("line", UINT32, "first line of the task"),
    Column("last_line", UINT32, "last line attributed to the task"),
    Column("samples", INT32, "per-sample progress lines seen"),
    Column("sample_timeouts", INT32, "sample_timeout lines"),
    Column("sample_failures", INT32, "sample_failed lines"),
    *FALLBACK_COUNTS,
    Column("started", BOOL, "its start line was seen"),
    Column("done", BOOL, "its done line was seen"),
    Column("candidates", INT32, "candidates scored, from the done line"),
    Column("start_line", UINT32, "line of its start line"),
    Column("done_line", UINT32, "line of its done line"),
)

RUNS: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file holding the run"),
    HOST,
    Column("family", CATEGORY, "console (run_card.sh output) or run_batt (a run log)"),
    Column("instance", CATEGORY, "instance"),
    Column("run", INT32, "run number within the file (0: head of a cut log)"),
    Column("line", UINT32, "first line of the run"),
    Column("last_line", UINT32, "last line of the run"),
    Column("started_at", TIMESTAMP, "from the iteration's date line, when there is one"),
    Column("command", STRING, "the Running: command line"),
    Column("requested_tasks", INT32, "|-c| of the command (missing for -c 0: all tasks)"),
    Column("timeout_s", FLOAT64, "the timeout the command runs under, when it names one"),
    Column("tasks_started", INT32, "tasks with a start line"),
    Column("tasks_done", INT32, "tasks with a done line"),
    Column("samples", INT32, "per-sample progress lines"),
    Column("closed", BOOL, "its closing '<N> tasks - <M> timeouts' line was seen"),
    Column("reported_tasks", INT32, "N of the closing line"),
    Column("reported_timeouts", INT32, "M of the closing line"),
    *FALLBACK_COUNTS,
    Column("total_seconds", FLOAT64, "main.run_batt timing row"),
    Column("seconds", FLOAT64, "wall time to the next run's date line"),
    Column("end", "end", "completed, killed, exited or unfinished (tail of a file)"),
    Column("end_evidence", STRING, "why: the line that shows how the run ended"),
    Column("last_line_cut", BOOL, "the run ends with a line cut in half"),
)

MONITOR: tuple[Column, ...] = (
    Column("file", CATEGORY, "monitor log"),
    HOST,
    Column("line", UINT32, "first physical line of the record"),
    Column("lines", UINT8, "physical lines the record was split over"),
    Column("record", CATEGORY, "sample or alert"),
    Column("timestamp", TIMESTAMP, "record time (alerts: their sample's)"),
    Column("python_threads", INT32, "Python= (always 1: a fresh interpreter's threads)"),
    Column("system_threads", INT32, "System= (every thread on the host, plus one)"),
    Column("process_fails", INT32, "Fails: Process="),
    Column("thread_fails", INT32, "Fails: Thread="),
    Column("overload", INT32, "Fails: Overload="),
    Column("alert", CATEGORY, "System overloaded or ThreadPool failures"),
    Column("alert_count", INT32, "the count the alert quotes"),
    Column("text", STRING, "the record, physical lines joined by ' / '"),
)

#: ``poolwatch monitor``'s records (its ``--log``, JSON Lines): one row per run_batt.py
#: process per sample.
SAMPLES: tuple[Column, ...] = (
    Column("file", CATEGORY, "the monitor's records file"),
    HOST,
    Column("line", UINT32, "line of the sample record"),
    Column("sample", INT32, "the sample's number (a gap: records lost)"),
    Column("timestamp", TIMESTAMP, "when the sample was taken (UTC)"),
    Column("zone", CATEGORY, "the host's zone abbreviation at that time"),
    Column("hostname", CATEGORY, "the host sampled"),
    Column("pid", INT32, "a run_batt.py process (null from the human log: it names instances)"),
    Column("ppid", INT32, "its parent"),
    Column("instance", CATEGORY, "tmp_batt_<id> from its -b tmp_batt_<id>_run (null without -b)"),
    Column("worker", BOOL, "a ProcessPool worker forked by a run of its instance, not a run"),
    Column(
        "threads",
        INT32,
        "its threads, as ps -o nlwp <PID> shows them (the human log: its instance's run's)",
    ),
    Column("rss", INT64, "resident memory, bytes"),
    Column("age", FLOAT64, "seconds since it started"),
)

#: The same records: one row per sample, the host and the fleet as a whole.
HOST_SAMPLES: tuple[Column, ...] = (
    Column("file", CATEGORY, "the monitor's records file"),
    HOST,
    Column("line", UINT32, "line of the sample record"),
    Column("sample", INT32, "the sample's number (a gap: records lost)"),
    Column("timestamp", TIMESTAMP, "when the sample was taken (UTC)"),
    Column("zone", CATEGORY, "the host's zone abbreviation at that time"),
    Column("hostname", CATEGORY, "the host sampled"),
    Column("window", FLOAT64, "seconds since the previous sample (null for the first)"),
    Column("runs", INT32, "runs in progress: run_batt.py processes that are not workers"),
    Column("processes", INT32, "run_batt.py processes, workers included"),
    Column("skipped_processes", INT32, "run_batt.py processes that ended while sampled"),
    Column("host_threads", INT32, "threads of every process on the host (ps -eLf less its header)"),
    Column("host_processes", INT32, "processes on the host"),
    Column("memory_available", INT64, "bytes of memory available (MemAvailable)"),
    Column("memory_total", INT64, "bytes of memory"),
    Column("load_1m", FLOAT64, "load average over 1 minute"),
    Column("load_5m", FLOAT64, "load average over 5 minutes"),
    Column("load_15m", FLOAT64, "load average over 15 minutes"),
    Column("cpus", INT32, "logical CPUs"),
    Column("overload", INT32, "System overloaded lines the logs gained in the window"),
    Column("processpool_failed", INT32, "ProcessPoolExecutor failed lines in the window"),
    Column("threadpool_failed", INT32, "ThreadPoolExecutor also failed lines in the window"),
    Column("alerts", INT32, "alerts the sample raised"),
)

FILES: tuple[Column, ...] = (
    Column(
        "path",
        STRING,
        "input as given (control characters and bytes that are not UTF-8 escaped: `\\n`, `\\xff`)",
    ),
    HOST,
    Column(
        "family",
        CATEGORY,
        "console, run_batt, monitor (the guide's script), monitor_records (poolwatch "
        "monitor's JSON), monitor_human (its human log), snapshot or none",
    ),
    Column("status", CATEGORY, "read, skipped or duplicate"),
    Column(
        "reason",
        STRING,
        "why it was skipped, what it duplicates, or what was wrong with a file read",
    ),
    Column("bytes", INT64, "decompressed bytes read"),
    Column("lines", INT64, "lines read"),
    Column("unparsed", INT64, "lines that matched no pattern"),
    Column("compressed", CATEGORY, "gzip, bzip2 or xz"),
    Column("digest", STRING, "xxh3-128 of the decompressed content"),
    Column("mtime", TIMESTAMP, "modification time when read"),
    Column("last_line_cut", BOOL, "the file ends without a newline"),
    Column("grew", BOOL, "the file grew while it was read (the prefix was used)"),
    Column("shrank", BOOL, "the file shrank while it was read (read up to where it was seen)"),
    Column("damaged", BOOL, "its compressed stream is cut short or corrupt (read up to there)"),
)

UNPARSED: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file"),
    HOST,
    Column("line", UINT32, "line number"),
    Column("text", STRING, "the line (first few per file)"),
)

END_STATES: tuple[str, ...] = ("completed", "killed", "exited", "unfinished")

TABLES: dict[str, tuple[Column, ...]] = {
    "events": EVENTS,
    "tasks": TASKS,
    "runs": RUNS,
    "monitor": MONITOR,
    "samples": SAMPLES,
    "host_samples": HOST_SAMPLES,
    "files": FILES,
    "unparsed": UNPARSED,
}

_ARROW = {UINT8: pa.uint8(), UINT32: pa.uint32(), INT32: pa.int32(), INT64: pa.int64(),
          FLOAT64: pa.float64(), BOOL: pa.bool_()}  # fmt: skip
_CATEGORIES = {"kind": KINDS, "end": END_STATES}


def pandas_dtype(column: Column) -> object:
    """The pandas dtype a column is published with."""
    import pandas as pd

    if column.dtype in _ARROW:
        return pd.ArrowDtype(_ARROW[column.dtype])
    if column.dtype in _CATEGORIES:
        return pd.CategoricalDtype(list(_CATEGORIES[column.dtype]))
    if column.dtype == STRING:
        return pd.StringDtype("pyarrow")
    return column.dtype


_POLARS: dict[str, pl.DataType] = {
    CATEGORY: pl.Categorical(),
    # A fixed vocabulary: an Enum reaches Arrow and pandas with its codes as they are.
    "kind": pl.Enum(KINDS),
    "end": pl.Enum(END_STATES),
    STRING: pl.String(),
    TIMESTAMP: pl.Datetime("us", "UTC"),
    BOOL: pl.Boolean(),
    FLOAT64: pl.Float64(),
    INT64: pl.Int64(),
    INT32: pl.Int32(),
    UINT32: pl.UInt32(),
    UINT8: pl.UInt8(),
}
_STRINGS = {pa.string(), pa.large_string(), pa.string_view()}


def _pandas_type(arrow: pa.DataType) -> object:
    """How an Arrow type becomes a pandas dtype (dictionaries become categoricals)."""
    import pandas as pd

    if arrow in _STRINGS:
        return pd.StringDtype("pyarrow")
    if pa.types.is_timestamp(arrow) or pa.types.is_dictionary(arrow):
        return None
    return pd.ArrowDtype(arrow)


class Columns(Protocol):
    """A part of a table that gives its columns one at a time (already conformed)."""

    @property
    def height(self) -> int:
        """Rows."""
        ...

    def arrow(self, name: str) -> pa.Array:
        """One column as Arrow, typed as its published polars type converts."""
        ...

    def drop(self, name: str) -> Columns:
        """The part without a column."""
        ...


#: A part of a published table: a polars frame, or columns made on demand.
Part = pl.DataFrame | Columns


#: Tables up to this many rows (runs, monitor) are published in one Arrow chunk rather
#: than one per file: the analysis filters the runs table again and again, and a pandas
#: filter over many chunks is about twice as slow (measured: 0.1-0.2 s of the diagnosis
#: on 1 GB). The large tables keep a chunk per file: joining them costs memory.
_ONE_CHUNK_ROWS = 1_000_000


#: The order ``to_pandas`` makes columns in, by dtype (the rest after these).
_MAKING_ORDER = {STRING: 0, TIMESTAMP: 1, CATEGORY: 2, "kind": 2, "end": 2}


def to_pandas(
    parts: list[Part],
    columns: tuple[Column, ...],
    rows: Callable[[Part], pa.BooleanArray | None] | None = None,
) -> pd.DataFrame:
    """Join polars frames into one table with the published columns and dtypes (with
    ``rows``, only the rows it marks in each part: None keeps a part whole).

    Types are set in polars and handed over through Arrow, so numbers and strings
    are not copied and categoricals arrive as pandas categoricals. ``parts`` is
    emptied and each column is let go of in every part as soon as it is converted,
    so a large table is never held twice (polars' own concatenation would be).
    """
    import pandas as pd

    kept: list[Part] = [
        conform(part, columns) if isinstance(part, pl.DataFrame) else part
        for part in parts
        if part.height
    ]
    if rows is not None:
        kept = [part if (mask := rows(part)) is None else Rows(part, mask) for part in kept]
    parts.clear()
    if not kept:
        kept = [pl.DataFrame(schema=polars_schema(columns))]
    lock = Lock()

    def convert(column: Column) -> pd.Series:
        chunks = []
        for at in range(len(kept)):  # each part's column let go of once converted
            with lock:
                part = kept[at]
            chunks.append(arrow_of(part, column.name))
            with lock:
                kept[at] = kept[at].drop(column.name)
            del part
        arrow = pa.chunked_array(chunks)
        del chunks
        if arrow.num_chunks > 1 and len(arrow) <= _ONE_CHUNK_ROWS:
            arrow = pa.chunked_array([arrow.combine_chunks()])
        series: pd.Series = arrow.to_pandas(types_mapper=_pandas_type)
        del arrow
        if column.dtype in _CATEGORIES:
            series = series.astype(pandas_dtype(column))  # type: ignore[call-overload]
        return series

    # The columns whose making needs the most memory for a while first, when the least
    # is held: text (its Arrow copy; the overloaded 1 GB fleet's events' text is 214 MB),
    # then times (copied into numpy) and categoricals (their codes remade), then numbers,
    # handed over as they are. Measured on that fleet: text first, peak RSS 1,225 → 1,180
    # MiB (median of 7); then times and categoricals, 1,018 → 1,005 MiB (median of 5).
    order = sorted(columns, key=lambda column: _MAKING_ORDER.get(column.dtype, 3))
    # Two columns at a time: this runs once the scanning is over, with a core to spare.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish") as pool:
        made = dict(zip([c.name for c in order], pool.map(convert, order), strict=True))
    return pd.DataFrame({c.name: made[c.name] for c in columns}, copy=False)


class Rows:
    """The rows of a part that a mask keeps, given a column at a time (a ``Columns``):
    Arrow's filter keeps a categorical's dictionary, so its categories stay the part's."""

    def __init__(self, part: Part, mask: pa.BooleanArray) -> None:
        self._part = part
        self._mask = mask

    @property
    def height(self) -> int:
        """Rows kept."""
        return int(self._mask.true_count)

    def arrow(self, name: str) -> pa.Array:
        """One column's kept rows."""
        return arrow_of(self._part, name).filter(self._mask)

    def drop(self, name: str) -> Rows:
        """Let go of a column once it is converted."""
        self._part = self._part.drop(name)
        return self


def arrow_of(part: Part, name: str) -> pa.Array:
    """One column of a part, as Arrow."""
    if isinstance(part, pl.DataFrame):
        return series_arrow(part.get_column(name))
    return part.arrow(name)


def series_arrow(series: pl.Series) -> pa.Array:
    """A polars column as Arrow. Strings are handed over as polars holds them (views)
    and copied by Arrow, onto the heap the published tables are on, not into polars'
    own allocator, which keeps what it frees for a while (measured on the overloaded
    1 GB fleet: parse peak 1,002 → 978 MiB, median of 5)."""
    if series.dtype == pl.String:
        view = series.to_arrow(compat_level=pl.CompatLevel.newest())
        return view.cast(pa.large_string())
    return series.to_arrow()


def polars_schema(columns: tuple[Column, ...]) -> dict[str, pl.DataType]:
    """The polars types of a table's columns."""
    return {c.name: _POLARS[c.dtype] for c in columns}


def conform(part: pl.DataFrame, columns: tuple[Column, ...]) -> pl.DataFrame:
    """One part with exactly the table's columns and polars types (casts are no-ops mostly)."""
    return conform_to(part, polars_schema(columns))


def conform_to(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with exactly these columns, in order: cast where present, null where not."""
    if not frame.width:
        return pl.DataFrame(schema=dict(schema))
    return frame.select(
        (
            pl.col(name).cast(dtype, strict=False)
            if name in frame.columns
            else pl.lit(None, dtype=dtype).alias(name)
        )
        for name, dtype in schema.items()
    )


def describe() -> str:
    """The tables and their columns as Markdown, for the README and ``--help``."""
    parts: list[str] = []
    for table, columns in TABLES.items():
        parts.append(f"### `{table}`\n\n| column | dtype | meaning |\n|---|---|---|")
        parts.extend(f"| `{c.name}` | {c.dtype} | {c.doc} |" for c in columns)
        parts.append("")
    return "\n".join(parts)
