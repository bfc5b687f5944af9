"""The tables ingest produces: their columns, compact dtypes and meaning.

This module is the documentation of the DataFrames the rest of poolwatch (and anyone
loading the Parquet files) relies on. ``to_pandas`` turns the polars frames the
parser builds into pandas frames with exactly these columns and dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import polars as pl
import pyarrow as pa

from poolwatch.ingest.grammar import KINDS


@dataclass(frozen=True)
class Column:
    """One column of a published table."""

    name: str
    dtype: str
    doc: str


STRING = "string"
CATEGORY = "category"
TIMESTAMP = "datetime64[us, UTC]"

EVENTS: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file as given (or <stdin>)"),
    Column("line", "UInt32", "1-based line number in the (decompressed) file"),
    Column("instance", CATEGORY, "run_card.sh instance, tmp_batt_<id>"),
    Column("run", "Int32", "run number within the instance's log (0: head of a cut log)"),
    Column("task", CATEGORY, "8-hex-digit task id, from the line or the task being processed"),
    Column("kind", "kind", "event kind, one of grammar.KINDS"),
    Column("threads", "Int32", "per-process thread count (overload, thread_snapshot)"),
    Column(
        "count",
        "Int32",
        "tasks (run_end), candidates (task_done), leaked objects, "
        "alert count (monitor_alert), host threads (monitor_sample, ps -eLf snapshot)",
    ),
    Column("timeouts", "Int32", "sample timeouts reported by run_end"),
    Column("error_type", CATEGORY, "exception class named by the line (OSError, MemoryError)"),
    Column("message", STRING, "error text, Running: command, signal or snapshot source"),
    Column("sample_kind", CATEGORY, "demo or test"),
    Column("sample_index", "Int32", "index of the sample within its kind"),
    Column("seconds", "Float64", "timing_total, or the limit a timeout line names"),
    Column("timestamp", TIMESTAMP, "wall-clock time where the log gives one (UTC)"),
    Column(
        "text",
        STRING,
        "the line (colour codes removed, cut at 2,000 characters); "
        "empty for task_start and task_done, whose fields say it all",
    ),
)

TASKS: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file"),
    Column("instance", CATEGORY, "instance"),
    Column("run", "Int32", "run number"),
    Column("task", CATEGORY, "task id"),
    Column("task_index", "Int32", "position of the task in its run"),
    Column("line", "UInt32", "first line of the task"),
    Column("last_line", "UInt32", "last line attributed to the task"),
    Column("samples", "Int32", "per-sample progress lines seen"),
    Column("sample_timeouts", "Int32", "sample_timeout lines"),
    Column("sample_failures", "Int32", "sample_failed lines"),
    Column("overloads", "Int32", "System overloaded lines while the task ran"),
    Column("processpool_failed", "Int32", "ProcessPoolExecutor failed lines"),
    Column("threadpool_failed", "Int32", "ThreadPoolExecutor also failed lines"),
    Column("parallel_failed", "Int32", "Parallel execution failed lines"),
    Column("thread_retries", "Int32", "thread creation failed lines"),
    Column("max_threads", "Int32", "highest thread count an overload line reported"),
    Column("started", "boolean", "its start line was seen"),
    Column("done", "boolean", "its done line was seen"),
    Column("candidates", "Int32", "candidates scored, from the done line"),
    Column("start_line", "UInt32", "line of its start line"),
    Column("done_line", "UInt32", "line of its done line"),
)

RUNS: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file holding the run"),
    Column("family", CATEGORY, "console (run_card.sh output) or run_batt (a run log)"),
    Column("instance", CATEGORY, "instance"),
    Column("run", "Int32", "run number within the file (0: head of a cut log)"),
    Column("line", "UInt32", "first line of the run"),
    Column("last_line", "UInt32", "last line of the run"),
    Column("started_at", TIMESTAMP, "from the iteration's date line, when there is one"),
    Column("command", STRING, "the Running: command line"),
    Column("requested_tasks", "Int32", "|-c| of the command (missing for -c 0: all tasks)"),
    Column("timeout_s", "Float64", "the timeout the command runs under, when it names one"),
    Column("tasks_started", "Int32", "tasks with a start line"),
    Column("tasks_done", "Int32", "tasks with a done line"),
    Column("samples", "Int32", "per-sample progress lines"),
    Column("closed", "boolean", "its closing '<N> tasks - <M> timeouts' line was seen"),
    Column("reported_tasks", "Int32", "N of the closing line"),
    Column("reported_timeouts", "Int32", "M of the closing line"),
    Column("total_seconds", "Float64", "main.run_batt timing row"),
    Column("seconds", "Float64", "wall time to the next run's date line"),
    Column("end", "end", "completed, killed, exited or unfinished (tail of a file)"),
    Column("end_evidence", STRING, "why: the line that shows how the run ended"),
    Column("last_line_cut", "boolean", "the run ends with a line cut in half"),
)

MONITOR: tuple[Column, ...] = (
    Column("file", CATEGORY, "monitor log"),
    Column("line", "UInt32", "first physical line of the record"),
    Column("lines", "UInt8", "physical lines the record was split over"),
    Column("record", CATEGORY, "sample or alert"),
    Column("timestamp", TIMESTAMP, "record time (alerts: their sample's)"),
    Column("python_threads", "Int32", "Python= (always 1: a fresh interpreter's threads)"),
    Column("system_threads", "Int32", "System= (every thread on the host, plus one)"),
    Column("process_fails", "Int32", "Fails: Process="),
    Column("thread_fails", "Int32", "Fails: Thread="),
    Column("overload", "Int32", "Fails: Overload="),
    Column("alert", CATEGORY, "System overloaded or ThreadPool failures"),
    Column("alert_count", "Int32", "the count the alert quotes"),
    Column("text", STRING, "the record, physical lines joined by ' / '"),
)

FILES: tuple[Column, ...] = (
    Column("path", STRING, "input as given"),
    Column("family", CATEGORY, "console, run_batt, monitor, snapshot or none"),
    Column("status", CATEGORY, "read, skipped or duplicate"),
    Column("reason", STRING, "why it was skipped, or what it duplicates"),
    Column("bytes", "Int64", "decompressed bytes read"),
    Column("lines", "Int64", "lines read"),
    Column("unparsed", "Int64", "lines that matched no pattern"),
    Column("compressed", CATEGORY, "gzip, bzip2 or xz"),
    Column("digest", STRING, "xxh3-128 of the decompressed content"),
    Column("mtime", TIMESTAMP, "modification time when read"),
    Column("last_line_cut", "boolean", "the file ends without a newline"),
    Column("grew", "boolean", "the file grew while it was read (the prefix was used)"),
)

UNPARSED: tuple[Column, ...] = (
    Column("file", CATEGORY, "input file"),
    Column("line", "UInt32", "line number"),
    Column("text", STRING, "the line (first few per file)"),
)

END_STATES: tuple[str, ...] = ("completed", "killed", "exited", "unfinished")

TABLES: dict[str, tuple[Column, ...]] = {
    "events": EVENTS,
    "tasks": TASKS,
    "runs": RUNS,
    "monitor": MONITOR,
    "files": FILES,
    "unparsed": UNPARSED,
}

_SPECIAL = {
    "kind": pd.CategoricalDtype(list(KINDS)),
    "end": pd.CategoricalDtype(list(END_STATES)),
    STRING: pd.StringDtype("pyarrow"),
}


def pandas_dtype(column: Column) -> object:
    """The pandas dtype a column is published with."""
    return _SPECIAL.get(column.dtype, column.dtype)


def empty(columns: tuple[Column, ...]) -> pl.DataFrame:
    """An empty polars frame with the table's columns (as strings), for concatenation."""
    return pl.DataFrame(schema=dict.fromkeys((c.name for c in columns), pl.String))


_POLARS: dict[str, pl.DataType] = {
    CATEGORY: pl.Categorical(),
    "kind": pl.Categorical(),
    "end": pl.Categorical(),
    STRING: pl.String(),
    TIMESTAMP: pl.Datetime("us", "UTC"),
    "boolean": pl.Boolean(),
    "Float64": pl.Float64(),
    "Int64": pl.Int64(),
    "Int32": pl.Int32(),
    "UInt32": pl.UInt32(),
    "UInt8": pl.UInt8(),
}
_ARROW_TO_PANDAS: dict[pa.DataType, object] = {
    pa.int8(): pd.Int8Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.string_view(): pd.StringDtype("pyarrow"),
}


def to_pandas(parts: list[pl.DataFrame], columns: tuple[Column, ...]) -> pd.DataFrame:
    """Concatenate polars frames into one table with the published columns and dtypes.

    Types are set in polars and handed over through Arrow, so strings stay Arrow
    strings and categoricals arrive as pandas categoricals without a Python loop.
    ``parts`` is emptied and columns are converted one at a time and let go of, so a
    large table is never held twice.
    """
    kept = [_conform(part, columns) for part in parts if part.height]
    parts.clear()
    if not kept:
        kept = [pl.DataFrame(schema={c.name: _POLARS[c.dtype] for c in columns})]
    frame = pl.concat(kept, rechunk=False)
    kept.clear()
    out: dict[str, pd.Series] = {}
    for column in columns:
        arrow = frame.get_column(column.name).to_arrow()
        frame = frame.drop(column.name)
        series: pd.Series = arrow.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)
        del arrow
        if column.dtype in _SPECIAL and column.dtype != STRING:
            series = series.astype(pandas_dtype(column))  # type: ignore[call-overload]
        out[column.name] = series
    return pd.DataFrame(out, copy=False)


def _conform(part: pl.DataFrame, columns: tuple[Column, ...]) -> pl.DataFrame:
    """One part with exactly the table's columns and polars types (casts are no-ops mostly)."""
    return part.select(
        (
            pl.col(c.name).cast(_POLARS[c.dtype], strict=False)
            if c.name in part.columns
            else pl.lit(None, dtype=_POLARS[c.dtype]).alias(c.name)
        )
        for c in columns
    )


def describe() -> str:
    """The tables and their columns as Markdown, for the README and ``--help``."""
    parts: list[str] = []
    for table, columns in TABLES.items():
        parts.append(f"### `{table}`\n\n| column | dtype | meaning |\n|---|---|---|")
        parts.extend(f"| `{c.name}` | {c.dtype} | {c.doc} |" for c in columns)
        parts.append("")
    return "\n".join(parts)
