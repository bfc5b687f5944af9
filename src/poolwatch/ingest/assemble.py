"""One file's marks to events, tasks and runs: run boundaries, instances, task attribution.

Runs a console log holds are separated by the iteration's ``date`` line (or the
``Running:`` line when no date was printed); a bare run log is one run that starts
with run_batt's GPU line. Fallback lines do not name their task: they belong to the
task open at that point (started and not yet done).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from poolwatch.ingest import grammar
from poolwatch.ingest.scan import MARK_SCHEMA, ChunkScan
from poolwatch.ingest.timestamps import parse_date_lines

_BOUNDARY_KINDS = ("date", "run_start", "gpu")
_NOT_EVENTS = ("date", "gpu", "generating", "task_start", "task_done")
_END_KINDS = ("run_end", "timeout_kill", "critical_memory")


_CONTENT_EXCLUDED = ("date", "gpu", "generating", "run_start")
#: Columns kept as polars categoricals from assembly on (few distinct values, many rows).
_CATEGORICAL = ("file", "instance", "task", "kind", "error_type", "sample_kind")


@dataclass(frozen=True)
class RunFile:
    """A run_batt or console file after assembly (polars frames, published columns)."""

    family: str
    events: pl.DataFrame
    tasks: pl.DataFrame
    runs: pl.DataFrame
    content: pl.DataFrame
    """Per run: instance, content hash and size, to recognise tee copies (``dedupe``)."""
    last_content: tuple[str, ...]
    """The last run's notable lines, to recognise a copy still being written."""


def concat_scans(scans: list[ChunkScan]) -> pl.DataFrame:
    """The marks of a file's chunks, in order, with lines and progress counted from the start.

    Chunks are scanned as if each began a file (line 1, no progress before it), so
    that no reader has to count lines ahead of the scanners.
    """
    frames: list[pl.DataFrame] = []
    progress = lines = 0
    for scan in scans:
        frames.append(
            scan.marks.with_columns(prog=pl.col("prog") + progress, line=pl.col("line") + lines)
        )
        progress += scan.progress
        lines += scan.lines
    return pl.concat(frames) if frames else pl.DataFrame(schema=MARK_SCHEMA)


def assemble(name: str, marks: pl.DataFrame, *, lines: int, progress: int, cut: bool) -> RunFile:
    """Turn one file's marks into its events, tasks and runs."""
    family = "console" if (marks["kind"] == "run_start").any() else "run_batt"
    marks = _with_runs(marks)
    marks = _with_instances(marks, name)
    marks = _with_open_task(marks)
    runs = _runs(marks, name, family, lines, progress, cut)
    tasks = _tasks(marks, runs, name)
    content, last = _content(marks)
    # Task start and done lines are rebuilt from the tasks table when published
    # (``task_events``): keeping them twice would double memory per task.
    events = marks.filter(~pl.col("kind").is_in(_NOT_EVENTS)).with_columns(file=pl.lit(name))
    return RunFile(
        family, _categorical(events.drop("prog", "task_index")), _categorical(tasks), runs,
        content, last,
    )  # fmt: skip


def task_events(tasks: pl.DataFrame) -> pl.DataFrame:
    """The task_start and task_done events of a tasks table, in line order."""
    if not tasks.height:
        return tasks
    common = ("file", "instance", "run", "task")
    starts = tasks.filter(pl.col("start_line").is_not_null()).select(
        *common, line=pl.col("start_line"), kind=pl.lit("task_start")
    )
    dones = tasks.filter(pl.col("done_line").is_not_null()).select(
        *common, line=pl.col("done_line"), kind=pl.lit("task_done"), count=pl.col("candidates")
    )
    return pl.concat([starts, dones], how="diagonal").sort("line")


def _categorical(frame: pl.DataFrame) -> pl.DataFrame:
    """Store the repetitive string columns as categoricals (4 bytes a row, not 16 and up)."""
    return frame.with_columns(
        pl.col(name).cast(pl.Categorical) for name in _CATEGORICAL if name in frame.columns
    )


def _content(marks: pl.DataFrame) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Each run's notable lines as one hash, and the last run's lines themselves."""
    line = pl.concat_str(
        [pl.col("kind"), pl.col("task"), pl.col("count"), pl.col("text")],
        separator="|",
        ignore_nulls=True,
    )
    kept = marks.filter(~pl.col("kind").is_in(_CONTENT_EXCLUDED)).select(
        "run", "instance", content=line
    )
    per_run = kept.group_by("run", maintain_order=True).agg(
        instance=pl.col("instance").first(),
        hash=pl.col("content").str.join("\n").hash(),
    )
    if per_run.is_empty():
        return per_run, ()
    last = kept.filter(pl.col("run") == per_run["run"][-1])["content"]
    return per_run, tuple(last.to_list())


def _with_runs(marks: pl.DataFrame) -> pl.DataFrame:
    """Number the runs: a date line starts one, a Running or GPU line does if none just did."""
    marker = pl.when(pl.col("kind").is_in(_BOUNDARY_KINDS)).then(pl.col("kind")).otherwise(None)
    previous = marker.shift(1).forward_fill()
    kind = pl.col("kind")
    boundary = (
        (kind == "date")
        | ((kind == "run_start") & (previous.is_null() | (previous != "date")))
        | ((kind == "gpu") & (previous.is_null() | (previous == "gpu")))
    )
    return marks.with_columns(run=boundary.cum_sum().cast(pl.Int32))


def _with_instances(marks: pl.DataFrame, name: str) -> pl.DataFrame:
    """Name each run's instance from its Running/Generating line, else from the file name."""
    named = (
        pl.when(pl.col("kind") == "run_start")
        .then(pl.col("message").str.extract(grammar.RUNNING_INSTANCE, 1))
        .when(pl.col("kind") == "generating")
        .then(pl.col("message").str.extract(r"(tmp_batt_\w+?)_run\.py", 1))
    )
    marks = marks.with_columns(instance=named)
    per_run = marks.group_by("run").agg(pl.col("instance").drop_nulls().first())
    marks = marks.drop("instance").join(per_run, on="run", how="left")
    fallback = _instance_from_name(name)
    return marks.with_columns(
        instance=pl.col("instance").forward_fill().backward_fill().fill_null(fallback)
    )


def _instance_from_name(name: str) -> str:
    """``tmp_batt_<id>`` from a run log's file name, else the file's own name."""
    found = re.search(grammar.RUN_LOG_NAME, name)
    return found.group("instance") if found else name.rsplit("/", 1)[-1]


def _with_open_task(marks: pl.DataFrame) -> pl.DataFrame:
    """Attribute every mark to the task open at its line (the line's own task if it names one)."""
    kind = pl.col("kind")
    opened = (
        pl.when(kind == "task_start")
        .then(pl.col("task"))
        .when((kind == "task_done") | kind.is_in(_BOUNDARY_KINDS))
        .then(pl.lit(""))
    )
    current = opened.forward_fill().over("run")
    return marks.with_columns(
        task=pl.coalesce(pl.col("task"), pl.when(current != "").then(current))
    )


def _tasks(marks: pl.DataFrame, runs: pl.DataFrame, name: str) -> pl.DataFrame:
    """One row per task: samples, sample problems, fallbacks while it ran, start and done."""
    kind = pl.col("kind")
    rows = marks.filter(pl.col("task").is_not_null())
    if rows.is_empty():
        return pl.DataFrame()
    tasks = (
        rows.group_by("run", "task", maintain_order=True)
        .agg(
            instance=pl.col("instance").first(),
            task_index=pl.col("task_index").drop_nulls().first().cast(pl.Int32),
            line=pl.col("line").min(),
            last_line=pl.col("line").max(),
            first_prog=pl.col("prog").min(),
            sample_timeouts=(kind == "sample_timeout").sum(),
            sample_failures=(kind == "sample_failed").sum(),
            overloads=(kind == "overload").sum(),
            processpool_failed=(kind == "processpool_failed").sum(),
            threadpool_failed=(kind == "threadpool_failed").sum(),
            parallel_failed=(kind == "parallel_failed").sum(),
            thread_retries=(kind == "thread_retry").sum(),
            max_threads=pl.col("threads").cast(pl.Int32, strict=False).max(),
            started=(kind == "task_start").any(),
            done=(kind == "task_done").any(),
            start_line=pl.col("line").filter(kind == "task_start").first(),
            done_line=pl.col("line").filter(kind == "task_done").first(),
            candidates=pl.col("count").filter(kind == "task_done").first().cast(pl.Int32),
        )
        .sort("line")
    )
    run_end = runs.select("run", end_prog=pl.col("end_prog"))
    tasks = tasks.join(run_end, on="run", how="left").with_columns(
        samples=(
            pl.col("first_prog").shift(-1).over("run").fill_null(pl.col("end_prog"))
            - pl.col("first_prog")
        ).cast(pl.Int32)
    )
    return tasks.drop("first_prog", "end_prog").with_columns(file=pl.lit(name))


def _runs(  # noqa: PLR0917
    marks: pl.DataFrame, name: str, family: str, lines: int, total_progress: int, cut: bool
) -> pl.DataFrame:
    """One row per run: start, command, task counts, how it ended and why."""
    kind = pl.col("kind")
    runs = (
        marks.group_by("run", maintain_order=True)
        .agg(
            instance=pl.col("instance").first(),
            line=pl.col("line").min(),
            start_prog=pl.col("prog").min(),
            date=pl.col("text").filter(kind == "date").first(),
            command=pl.col("message").filter(kind == "run_start").first(),
            tasks_started=pl.col("task").filter(kind == "task_start").n_unique(),
            tasks_done=pl.col("task").filter(kind == "task_done").n_unique(),
            closed=(kind == "run_end").any(),
            reported_tasks=pl.col("count").filter(kind == "run_end").last().cast(pl.Int32),
            reported_timeouts=pl.col("timeouts").filter(kind == "run_end").last().cast(pl.Int32),
            total_seconds=pl.col("seconds").filter(kind == "timing_total").last().cast(pl.Float64),
            end_kind=pl.col("kind").filter(kind.is_in(_END_KINDS)).last(),
            end_line=pl.col("line").filter(kind.is_in(_END_KINDS)).last(),
            end_text=pl.col("text").filter(kind.is_in(_END_KINDS)).last(),
        )
        .sort("run")
    )
    runs = runs.with_columns(
        end_prog=pl.col("start_prog").shift(-1).fill_null(total_progress),
        next_line=pl.col("line").shift(-1),
        started_at=parse_date_lines(runs["date"]),
        requested_tasks=pl.col("command")
        .str.extract(grammar.RUNNING_COUNT, 1)
        .cast(pl.Int32)
        .abs(),
        timeout_s=pl.col("command").str.extract(grammar.RUNNING_TIMEOUT, 1).cast(pl.Float64),
    )
    runs = runs.with_columns(
        samples=(pl.col("end_prog") - pl.col("start_prog")).cast(pl.Int32),
        seconds=(pl.col("started_at").shift(-1) - pl.col("started_at")).dt.total_microseconds()
        / 1e6,
        requested_tasks=pl.when(pl.col("requested_tasks") > 0).then(pl.col("requested_tasks")),
        last_line_cut=pl.lit(cut) & pl.col("next_line").is_null(),
        last_line=(pl.col("next_line") - 1).fill_null(lines).cast(pl.UInt32),
    )
    return _with_end(runs).with_columns(file=pl.lit(name), family=pl.lit(family))


def _with_end(runs: pl.DataFrame) -> pl.DataFrame:
    """How each run ended, with the line that shows it."""
    end_kind = pl.col("end_kind")
    at = pl.format("line {}: {}", pl.col("end_line"), pl.col("end_text"))
    end = (
        pl.when(pl.col("closed"))
        .then(pl.lit("completed"))
        .when(end_kind == "timeout_kill")
        .then(pl.lit("killed"))
        .when(end_kind == "critical_memory")
        .then(pl.lit("exited"))
        .when(pl.col("next_line").is_not_null())
        .then(pl.lit("killed"))
        .otherwise(pl.lit("unfinished"))
    )
    evidence = (
        pl.when(pl.col("closed") | end_kind.is_in(("timeout_kill", "critical_memory")))
        .then(at)
        .when(pl.col("next_line").is_not_null())
        .then(pl.format("no closing line; the next run starts at line {}", pl.col("next_line")))
        .when(pl.col("last_line_cut"))
        .then(pl.format("last run of the file, its last line cut (line {})", pl.col("last_line")))
        .otherwise(
            pl.format("last run of the file, no closing line after line {}", pl.col("last_line"))
        )
    )
    return runs.with_columns(end=end, end_evidence=evidence)
