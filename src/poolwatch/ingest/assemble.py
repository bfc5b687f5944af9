"""Files' scans to events, tasks and runs: run boundaries, instances, task attribution.

An assembly covers one large file, or a batch of small ones at once (per-file work
would cost more than their lines): every step is keyed by the file (``fid``), lines
are numbered across the batch while they are ordered and joined, and each file's own
numbers (its lines from 1, its runs from 0) are given back at the end.

Runs a console log holds are separated by the first line of each iteration: its
``date``, else its banner, ``Generating`` or ``Running:`` line; a bare run log is one
run that starts with run_batt's GPU line. Fallback lines do not name their task: they belong to the
task open at that point (started and not yet done).

Task start and done lines (two per task, the commonest notable lines) stay in their
own compact frame; they meet the rare lines only through sorted as-of joins on the
line number, never through a pass over every line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from poolwatch.ingest import grammar, numbers, streams
from poolwatch.ingest.scan import RARE_SCHEMA, TASK_SCHEMA, ChunkScan
from poolwatch.ingest.tables import TASKS
from poolwatch.ingest.timestamps import parse_date_lines

#: The lines an iteration of run_card.sh starts with, in the order it prints them, then
#: run_batt's first line: each starts a run unless one before it in this order just did.
_BOUNDARY_KINDS = ("date", "banner", "generating", "run_start", "gpu")
_INTERNAL_KINDS = ("date", "banner", "gpu", "generating")
_END_KINDS = ("run_end", "timeout_kill", "critical_memory")
#: Lines a run log's copy of a console run lacks: run_card.sh's own, and standard error's.
_CONTENT_EXCLUDED = (*_INTERNAL_KINDS, "run_start", *grammar.STDERR_KINDS)
#: A rare line as run content (to recognise tee copies): its kind and text.
_RARE_ITEM = pl.concat_str(["kind", "text"], separator="|", ignore_nulls=True)
#: The published event kinds, as a polars Enum.
_KIND = pl.Enum(grammar.KINDS)
#: Columns kept as polars categoricals from assembly on (few distinct values, many rows).
_CATEGORICAL = ("file", "instance", "task", "kind", "error_type", "sample_kind")
#: Counts of the executor-decision lines, by the column that holds them (tasks and runs).
_FALLBACK_COUNTS = {
    "overloads": "overload",
    "processpool_failed": "processpool_failed",
    "threadpool_failed": "threadpool_failed",
    "parallel_failed": "parallel_failed",
    "thread_retries": "thread_retry",
}
#: Counts only tasks have: their samples' problems.
_SAMPLE_COUNTS = {"sample_timeouts": "sample_timeout", "sample_failures": "sample_failed"}
_COUNTED = (*_FALLBACK_COUNTS, "processpool_to_sequential")
#: Runs are numbered across an assembly as ``fid * _RUNS + run``: one key, per file in order.
_RUNS = 1 << 32
_FID = (pl.col("run") // _RUNS).cast(pl.UInt32)

#: The files an assembly covers. ``first``: the line number, across the assembly, just
#: before the file's first line; ``instance``: the one its name gives, if no line does.
FILE_SCHEMA: dict[str, pl.DataType] = {
    "fid": pl.UInt32(),
    "name": pl.String(),
    "instance": pl.String(),
    "first": pl.UInt32(),
    "lines": pl.UInt32(),
    "progress": pl.UInt32(),
    "cut": pl.Boolean(),
}


def files_frame(
    names: Sequence[str], firsts: Sequence[int], lines: Sequence[int], progress: Sequence[int],
    cuts: Sequence[bool],
) -> pl.DataFrame:  # fmt: skip
    """The files of an assembly, numbered from 0 in order."""
    return pl.DataFrame(
        {
            "fid": range(len(names)),
            "name": names,
            "instance": [instance_from_name(name) for name in names],
            "first": firsts,
            "lines": lines,
            "progress": progress,
            "cut": cuts,
        },
        schema=FILE_SCHEMA,
    )


def _with_counted(marks: pl.DataFrame) -> pl.DataFrame:
    """Marks with what tasks and runs count of them, worked out once for both: whether
    each is one of the counted kinds (a flag per count), and an overload's thread count.
    """
    kind = pl.col("kind")
    counted = {**_FALLBACK_COUNTS, **_SAMPLE_COUNTS}
    to_sequential = (kind == "processpool_failed") & pl.col("text").str.contains(
        grammar.PROCESSPOOL_TO_SEQUENTIAL, literal=True
    )
    return marks.with_columns(
        **{_flag(name): kind == event for name, event in counted.items()},
        **{_flag("processpool_to_sequential"): to_sequential},
        _overload_threads=pl.when(kind == "overload").then(pl.col("threads")),
    )


def _flag(count: str) -> str:
    """The column ``_with_counted`` flags the marks a count counts in."""
    return f"_is_{count}"


#: The columns ``_with_counted`` adds.
_COUNTING = (*map(_flag, (*_COUNTED, *_SAMPLE_COUNTS)), "_overload_threads")


def _counts(names: Iterable[str]) -> dict[str, pl.Expr]:
    """Aggregations counting a group's marks of each of these counts (``_with_counted``)."""
    return {name: pl.col(_flag(name)).sum().cast(pl.Int32) for name in names}


def _fallbacks() -> dict[str, pl.Expr]:
    """Aggregations of a group's executor-decision lines: counts and the highest thread
    count an overload line reported (the same for a task and for a run)."""
    return {**_counts(_COUNTED), "max_threads": pl.col("_overload_threads").max()}


@dataclass(frozen=True)
class RunFile:
    """Run_batt and console files after assembly (polars frames, published columns; a
    ``file`` column names the file of each row)."""

    families: dict[str, str]
    """Each file's family, console or run_batt, by name."""
    events: pl.DataFrame
    """The rare events; task start and done events are made from ``tasks`` when published."""
    tasks: pl.DataFrame
    runs: pl.DataFrame
    content: pl.DataFrame
    """Per run: its file, number, first line, instance and hashes of its notable lines
    and of its tasks, to recognise tee copies."""
    last_content: dict[str, tuple[str, ...]]
    """Each file's last run's notable lines, to recognise a copy still being written."""
    mixed: dict[str, tuple[str, ...]]
    """The console files that interleave several instances' lines, with those instances."""

    def without(self, names: set[str]) -> RunFile:
        """These frames without the files named."""
        if not names:
            return self
        keep = ~pl.col("file").cast(pl.String).is_in(list(names))
        return RunFile(
            {k: v for k, v in self.families.items() if k not in names},
            self.events.filter(keep),
            self.tasks.filter(keep) if self.tasks.height else self.tasks,
            self.runs.filter(keep),
            self.content.filter(keep),
            {k: v for k, v in self.last_content.items() if k not in names},
            {k: v for k, v in self.mixed.items() if k not in names},
        )


def concat_scans(scans: list[ChunkScan]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A file's rare lines and task lines, with lines and progress counted from its start
    (the file is file 0 of its assembly).

    Chunks are scanned as if each began a file (line 1, no progress before it), so
    that no reader has to count lines ahead of the scanners.
    """
    rare: list[pl.DataFrame] = [pl.DataFrame(schema=RARE_SCHEMA)]
    tasks: list[pl.DataFrame] = [pl.DataFrame(schema=TASK_SCHEMA)]
    progress = lines = 0
    for scan in scans:
        shift = {"prog": pl.col("prog") + progress, "line": pl.col("line") + lines}
        rare.append(scan.rare.with_columns(**shift))
        tasks.append(scan.tasks.with_columns(**shift))
        progress += scan.progress
        lines += scan.lines
    fid = pl.lit(0, pl.UInt32).alias("fid")
    return (
        pl.concat(rare).with_columns(fid),
        pl.concat(tasks).with_columns(fid).set_sorted("line"),
    )


def assemble(files: pl.DataFrame, marks: pl.DataFrame, task_lines: pl.DataFrame) -> RunFile:
    """Turn files' rare marks and task lines (``fid``-keyed, in line order) into their
    events, tasks and runs."""
    marks = _with_runs(marks)
    task_lines = _task_lines_in_runs(task_lines, marks, files)
    mixed = streams.mixed_files(marks)
    if mixed:
        marks, task_lines, kept = streams.separate(marks, task_lines, set(mixed), _RUNS)
        mixed = {fid: names for fid, names in mixed.items() if fid in kept}
    interleaved = set(mixed)
    instances = _instances(marks, task_lines, files, sorted_runs=not interleaved)
    marks = marks.join(instances, on="run", how="left", maintain_order="left")
    marks = _with_counted(_with_open_task(marks.set_sorted("line"), task_lines))
    task_lines = task_lines.join(instances, on="run", how="left", maintain_order="left")
    consoles = marks.filter(pl.col("kind") == "run_start").get_column("fid").unique()
    files = files.with_columns(
        family=pl.when(pl.col("fid").is_in(consoles.implode()))
        .then(pl.lit("console"))
        .otherwise(pl.lit("run_batt"))
    )
    runs = _runs(marks, task_lines, files, interleaved)
    tasks = _tasks(task_lines, marks, runs, files, interleaved)
    content, last = _content(marks, task_lines, runs, files)
    events = marks.filter(~pl.col("kind").is_in(_INTERNAL_KINDS))
    events = events.drop("prog", "task_index", *_COUNTING)
    events = _own_numbers(events, files, "line")
    families = dict(zip(files["name"], files["family"], strict=True))
    names = dict(zip(files["fid"], files["name"], strict=True))
    return RunFile(
        families,
        _categorical(events),
        _categorical(tasks),
        _local_runs(runs),
        content,
        last,
        {names[fid]: named for fid, named in mixed.items()},
    )


def _own_numbers(frame: pl.DataFrame, files: pl.DataFrame, *lines: str) -> pl.DataFrame:
    """A frame with each file's own line and run numbers, and a ``file`` column, in place
    of the assembly's ``fid`` and numbers."""
    fid = pl.col("fid") if "fid" in frame.columns else _FID
    if files.height == 1 and files["first"][0] == 0:  # one file: its numbers are the assembly's
        frame = frame.with_columns(file=pl.lit(files["name"][0]))
    else:
        first = fid.replace_strict(files["fid"], files["first"], return_dtype=pl.UInt32)
        frame = frame.with_columns(
            *(pl.col(name) - first for name in lines),
            file=fid.replace_strict(files["fid"], files["name"], return_dtype=pl.String),
        )
    return _local_runs(frame.drop("fid", strict=False))


def _local_runs(frame: pl.DataFrame) -> pl.DataFrame:
    """Run numbers within each file (from the assembly's run keys)."""
    if frame.schema.get("run") == pl.Int32:
        return frame
    return frame.with_columns((pl.col("run") % _RUNS).cast(pl.Int32))


def task_events(tasks: pl.DataFrame, *, with_file: bool = False) -> pl.DataFrame:
    """The task_start and task_done events of a tasks table, unsorted: the EVENTS columns
    they fill (the others are empty; ``file``, the same on every row of one file's
    table, is the caller's unless asked for)."""
    common = ("file", "instance", "run", "task") if with_file else ("instance", "run", "task")
    starts = tasks.filter(pl.col("start_line").is_not_null()).select(
        *common,
        line="start_line",
        kind=pl.lit("task_start", dtype=_KIND),
        count=pl.lit(None, dtype=pl.Int32),
    )
    dones = tasks.filter(pl.col("done_line").is_not_null()).select(
        *common, line="done_line", kind=pl.lit("task_done", dtype=_KIND), count="candidates"
    )
    return pl.concat([starts, dones])


def _categorical(frame: pl.DataFrame) -> pl.DataFrame:
    """Store the repetitive string columns as categoricals (4 bytes a row, not 16 and up),
    and the published kinds as the ``kind`` Enum."""
    return frame.with_columns(
        pl.col(name).cast(_KIND if name == "kind" else pl.Categorical())
        for name in _CATEGORICAL
        if name in frame.columns
    )


#: The run boundary kinds in the order an iteration prints them, for the look back.
_BOUNDARY_RANKS = {kind: rank for rank, kind in enumerate(_BOUNDARY_KINDS)}


def _with_runs(marks: pl.DataFrame) -> pl.DataFrame:
    """Number the runs, in each file. An iteration prints its ``date``, banner,
    ``Generating`` and ``Running:`` lines in that order, any of them missing (a date in a
    locale no pattern reads is not a date line): each starts a run unless one earlier in
    that order came just before it. A GPU line starts one only where no iteration's line
    did (a bare run log)."""
    kind, fid = pl.col("kind"), pl.col("fid")
    # Step by step: an expression used twice in one step would be computed twice.
    steps = marks.with_columns(
        _first=(fid != fid.shift(1)).fill_null(True),
        _rank=kind.replace_strict(_BOUNDARY_RANKS, default=None, return_dtype=pl.Int8),
    )
    # The rank of the last boundary kind before each mark in its file (-1: none since the
    # file's start).
    steps = steps.with_columns(
        _previous=pl.when("_first").then(-1).otherwise(pl.col("_rank").shift(1)).forward_fill()
    )
    rank, previous = pl.col("_rank"), pl.col("_previous")
    none, gpu = previous == -1, _BOUNDARY_RANKS["gpu"]
    steps = steps.with_columns(
        _boundary=pl.when(rank.is_null())
        .then(False)
        .when(rank == gpu)
        .then(none | (previous == gpu))
        .otherwise(none | (previous >= rank))
    )
    steps = steps.with_columns(_count=pl.col("_boundary").cum_sum().cast(pl.Int64))
    count = pl.col("_count")
    steps = steps.with_columns(
        _before=pl.when("_first").then(count - pl.col("_boundary").cast(pl.Int64)).forward_fill()
    )
    run = fid.cast(pl.Int64) * _RUNS + count - pl.col("_before")
    return steps.with_columns(run=run).drop(
        "_first", "_rank", "_previous", "_boundary", "_count", "_before"
    )


def _task_lines_in_runs(
    task_lines: pl.DataFrame, marks: pl.DataFrame, files: pl.DataFrame
) -> pl.DataFrame:
    """Give every task line the run of its file whose first line is the last one before it
    (run 0: none is; each file's run 0 "starts" just before its first line)."""
    starts = pl.concat(
        [
            marks.group_by("run").agg(pl.col("line").min()),
            files.select(run=pl.col("fid").cast(pl.Int64) * _RUNS, line="first"),
        ]
    )
    starts = starts.sort("line").set_sorted("line")
    return task_lines.join_asof(starts, on="line", strategy="backward")


def _instances(
    marks: pl.DataFrame, task_lines: pl.DataFrame, files: pl.DataFrame, *, sorted_runs: bool
) -> pl.DataFrame:
    """Each run's instance, from its Running/Generating line, else its neighbours' in its
    file, else the file name (``sorted_runs``: the frames' run numbers rise with their lines)."""
    kind = pl.col("kind")
    named = (
        marks.filter(kind.is_in(("run_start", "generating")))
        .select("run", instance=streams.named_instance())
        .group_by("run")
        .agg(pl.col("instance").drop_nulls().first())
    )
    runs = [frame.get_column("run") for frame in (marks, task_lines)]
    runs = [run.set_sorted().unique() if sorted_runs else run.unique() for run in runs]
    every = pl.concat(runs).unique().to_frame()
    named_by_file = files.select("fid", default="instance")
    return (
        every.join(named, on="run", how="left")
        .sort("run")
        .with_columns(fid=_FID)
        .with_columns(pl.col("instance").forward_fill().backward_fill().over("fid"))
        .join(named_by_file, on="fid", how="left", maintain_order="left")
        .select("run", instance=pl.coalesce("instance", "default"))
    )


def instance_from_name(name: str) -> str:
    """``tmp_batt_<id>`` from a run log's file name, else the file's own name."""
    found = re.search(grammar.RUN_LOG_NAME, name)
    return found.group("instance") if found else name.rsplit("/", 1)[-1]


def _with_open_task(marks: pl.DataFrame, task_lines: pl.DataFrame) -> pl.DataFrame:
    """Attribute every mark to the task open at its line (the line's own task if it names one).

    The open task is the one whose start is the last task line before the mark, in
    the same run; after a done line no task is open.
    """
    opened = task_lines.select(
        "line",
        open_run="run",
        open_task=pl.when(~pl.col("done")).then(pl.col("task")),
    )
    found = marks.join_asof(opened, on="line", strategy="backward")
    in_run = pl.when(pl.col("open_run") == pl.col("run")).then(pl.col("open_task"))
    return found.with_columns(task=pl.coalesce("task", in_run)).drop("open_run", "open_task")


def _tasks(
    task_lines: pl.DataFrame,
    marks: pl.DataFrame,
    runs: pl.DataFrame,
    files: pl.DataFrame,
    mixed: set[int],
) -> pl.DataFrame:
    """One row per task: samples, sample problems, fallbacks while it ran, start and done.

    A task's done line follows its start line with no task line of its run between
    them, so starts and dones pair up by position (a done without its start, at the head
    of a cut log, makes a row of its own). In files that interleave instances (``mixed``)
    progress lines cannot be told apart: their tasks' samples are unknown.
    """
    if mixed:
        task_lines = task_lines.sort("run", "line", maintain_order=True)
    after = {c: pl.col(c).shift(-1) for c in ("line", "prog", "task", "done", "count", "run")}
    paired = (after["task"] == pl.col("task")) & after["done"] & (after["run"] == pl.col("run"))
    before_paired = (
        (pl.col("task").shift(1) == pl.col("task"))
        & ~pl.col("done").shift(1).fill_null(True)
        & (pl.col("run").shift(1) == pl.col("run"))
    )
    paired = paired.fill_null(False)
    lines = task_lines.with_columns(
        orphan=pl.col("done") & ~before_paired.fill_null(False),
        next_line=pl.when(paired).then(after["line"]),
        next_count=pl.when(paired).then(after["count"]),
        next_prog=pl.when(paired).then(after["prog"]),
    )
    starts = lines.filter(~pl.col("done")).select(
        "run", "task", "instance", "task_index",
        start_line="line", start_prog="prog",
        done_line="next_line", candidates="next_count", done_prog="next_prog",
    )  # fmt: skip
    orphans = lines.filter("orphan").select(
        "run", "task", "instance", done_line="line", candidates="count", done_prog="prog"
    )
    keys = ["run", "task"]
    tasks = _with_task_events(pl.concat([starts, orphans], how="diagonal"), marks, keys)
    if not tasks.height:
        return pl.DataFrame()
    tasks = tasks.with_columns(
        instance=pl.coalesce("instance", "event_instance"),
        line=pl.min_horizontal("start_line", "event_line", "done_line"),
        last_line=pl.max_horizontal("start_line", "event_last", "done_line"),
        first_prog=pl.min_horizontal("start_prog", "event_prog", "done_prog"),
        started=pl.col("start_line").is_not_null(),
        done=pl.col("done_line").is_not_null(),
    )
    if not tasks.get_column("line").is_sorted():  # only tasks known from their events
        tasks = tasks.sort("line")
    # A run's tasks follow each other in line order: a task's samples are the progress
    # lines up to the next task of its run, or to the end of the run.
    next_prog = (
        pl.when(pl.col("run").shift(-1) == pl.col("run"))
        .then(pl.col("first_prog").shift(-1))
        .otherwise(pl.col("end_prog"))
    )
    tasks = tasks.join(
        runs.select("run", "end_prog"), on="run", how="left", maintain_order="left"
    ).with_columns(samples=(next_prog - pl.col("first_prog")).cast(pl.Int32))
    if mixed:
        tasks = tasks.with_columns(samples=pl.when(~_FID.is_in(list(mixed))).then("samples"))
    tasks = tasks.select(c.name for c in TASKS if c.name not in ("file", "host"))
    return _own_numbers(tasks, files, "line", "last_line", "start_line", "done_line")


def _with_task_events(tasks: pl.DataFrame, marks: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Add each task's counts of the rare lines that belong to it (and tasks known only so)."""
    counts = (
        marks.select(*keys, "instance", "line", "prog", *_COUNTING)
        .filter(pl.col("task").is_not_null())
        .group_by(keys, maintain_order=True)
        .agg(
            event_instance=pl.col("instance").first(),
            event_line=pl.col("line").min(),
            event_last=pl.col("line").max(),
            event_prog=pl.col("prog").min(),
            **_fallbacks(),
            **_counts(_SAMPLE_COUNTS),
        )
    )
    joined = tasks.join(counts, on=keys, how="left", maintain_order="left")
    # Few tasks have events: find those with no start or done line among them only.
    matched = joined.filter(pl.col("event_line").is_not_null()).select(keys)
    unknown = counts.join(matched, on=keys, how="anti", maintain_order="left")
    return pl.concat([joined, unknown], how="diagonal").with_columns(
        pl.col(*_COUNTED, *_SAMPLE_COUNTS).fill_null(0)
    )


def _runs(
    marks: pl.DataFrame, task_lines: pl.DataFrame, files: pl.DataFrame, mixed: set[int]
) -> pl.DataFrame:
    """One row per run: start, command, task counts, how it ended and why (run keys kept,
    line numbers each file's own)."""
    kind = pl.col("kind")
    from_marks = marks.group_by("run").agg(
        mark_line=pl.col("line").min(),
        mark_last=pl.col("line").max(),
        mark_prog=pl.col("prog").min(),
        mark_instance=pl.col("instance").first(),
        date=pl.col("text").filter(kind == "date").first(),
        command=pl.col("message").filter(kind == "run_start").first(),
        closed=(kind == "run_end").any(),
        reported_tasks=pl.col("count").filter(kind == "run_end").last(),
        reported_timeouts=pl.col("timeouts").filter(kind == "run_end").last(),
        total_seconds=pl.col("seconds").filter(kind == "timing_total").last(),
        **_fallbacks(),
        end_kind=pl.col("kind").filter(kind.is_in(_END_KINDS)).last(),
        end_line=pl.col("line").filter(kind.is_in(_END_KINDS)).last(),
        end_text=pl.col("text").filter(kind.is_in(_END_KINDS)).last(),
    )
    done = pl.col("done")
    from_tasks = task_lines.group_by("run").agg(
        task_line=pl.col("line").min(),
        task_last=pl.col("line").max(),
        task_prog=pl.col("prog").min(),
        task_instance=pl.col("instance").first(),
        tasks_started=pl.col("task").filter(~done).n_unique().cast(pl.Int32),
        tasks_done=pl.col("task").filter(done).n_unique().cast(pl.Int32),
    )
    # A run starts at its first line of either kind (run 0, the head of a cut log,
    # has progress before any kept line: it starts at no progress at all).
    runs = (
        from_marks.join(from_tasks, on="run", how="full", coalesce=True)
        .sort("run")
        .with_columns(
            pl.col("tasks_started", "tasks_done", *_COUNTED).fill_null(0),
            line=pl.min_horizontal("mark_line", "task_line"),
            own_last=pl.max_horizontal("mark_last", "task_last"),
            instance=pl.coalesce("mark_instance", "task_instance"),
            start_prog=pl.when(pl.col("run") % _RUNS == 0)
            .then(0)
            .otherwise(pl.min_horizontal("mark_prog", "task_prog")),
            fid=_FID,
        )
        .join(
            files.select("fid", "first", "lines", "progress", "cut", file="name", family="family"),
            on="fid",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("line", "end_line", "own_last") - pl.col("first"))
    )
    return _with_end(_with_timing(runs, mixed))


def _with_timing(runs: pl.DataFrame, mixed: set[int]) -> pl.DataFrame:
    """Start times, wall durations, the command's limits, samples and last lines.

    A run ends where the next run of its file starts; it lasts until the next run of its
    instance (the same, but in consoles one after the other in a file). In a file that
    interleaves instances (``mixed``) a run's progress lines are not told apart (its
    samples are unknown) and its last line is its own last notable line.
    """
    fid, in_mixed = pl.col("fid"), pl.col("fid").is_in(list(mixed))
    stream = ("fid", "instance")
    in_file = fid.shift(-1) == fid
    in_stream = in_file.over(stream)
    runs = runs.with_columns(
        end_prog=pl.when(in_mixed)
        .then(None)
        .when(in_file)
        .then(pl.col("start_prog").shift(-1))
        .otherwise(pl.col("progress")),
        next_line=pl.when(in_stream).then(pl.col("line").shift(-1).over(stream)),
        _file_next=pl.when(in_file).then(pl.col("line").shift(-1)),
        started_at=parse_date_lines(runs["date"]),
        requested_tasks=numbers.magnitude(pl.col("command").str.extract(grammar.RUNNING_COUNT, 1)),
        timeout_s=numbers.seconds(pl.col("command").str.extract(grammar.RUNNING_TIMEOUT, 1)),
    )
    took = (pl.col("started_at").shift(-1) - pl.col("started_at")).dt.total_microseconds()
    holds_last = pl.col("own_last") == pl.col("own_last").max().over("fid")
    return runs.with_columns(
        samples=(pl.col("end_prog") - pl.col("start_prog")).cast(pl.Int32),
        seconds=pl.when(in_stream).then(took.over(stream) / 1e6),
        # -c -32 samples 32 tasks; -c 0 takes them all (how many is not said).
        requested_tasks=pl.when(pl.col("requested_tasks") != 0).then(pl.col("requested_tasks")),
        last_line_cut=pl.col("cut")
        & pl.when(in_mixed).then(holds_last).otherwise(pl.col("_file_next").is_null()),
        last_line=pl.when(in_mixed)
        .then(pl.col("own_last"))
        .otherwise((pl.col("_file_next") - 1).fill_null(pl.col("lines")))
        .cast(pl.UInt32),
    ).drop("_file_next")


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


def _content(
    marks: pl.DataFrame, task_lines: pl.DataFrame, runs: pl.DataFrame, files: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
    """Each run's notable lines as one hash, and each file's last run's lines themselves.

    The hash covers the run's task ids in order (hashed as a list), its candidate
    counts and its rare lines' kinds and texts (each line hashed, then the list: no
    run's lines are joined into one string): equal for a run and its tee copy, different for
    two runs. ``task_hash`` covers its tasks only: in a file that interleaves instances,
    a rare line naming no task may be told to the wrong one of two runs.
    """
    tasks = task_lines.group_by("run", maintain_order=True).agg(
        task_instance=pl.col("instance").first(),
        tasks=pl.col("task").implode().hash(),
        candidates=pl.col("count").sum(),
    )
    rare = (
        marks.filter(~pl.col("kind").is_in(_CONTENT_EXCLUDED))
        .group_by("run", maintain_order=True)
        .agg(
            instance=pl.col("instance").first(),
            rare=pl.struct("kind", "text").hash().implode().hash().cast(pl.String),
        )
    )
    per_run = rare.join(tasks, on="run", how="full", coalesce=True).sort("run")
    task_items = [pl.col("tasks").cast(pl.String), "candidates"]
    per_run = per_run.select(
        "run",
        instance=pl.coalesce("instance", "task_instance"),
        hash=pl.concat_str([*task_items, "rare"], separator="\n", ignore_nulls=True).hash(),
        task_hash=pl.concat_str(task_items, separator="\n", ignore_nulls=True).hash(),
    )
    places = runs.select("run", "file", "line")
    per_run = per_run.join(places, on="run", how="left", maintain_order="left")
    content = _local_runs(per_run.select("file", "run", "line", "instance", "hash", "task_hash"))
    if per_run.is_empty():
        return content, {}
    last = per_run.group_by(_FID.alias("fid")).agg(pl.col("run").max()).get_column("run")
    in_last = pl.col("run").is_in(last.implode())
    task_item = pl.concat_str(["task", "count"], separator="|", ignore_nulls=True)
    items = pl.concat(
        [
            task_lines.filter(in_last).select("run", "line", item=task_item),
            marks.filter(in_last & ~pl.col("kind").is_in(_CONTENT_EXCLUDED))
            .select("run", "line", item=_RARE_ITEM),
        ]
    ).sort("line")  # fmt: skip
    by_file = items.group_by(_FID.alias("fid"), maintain_order=True).agg("item")
    names = dict(zip(files["fid"], files["name"], strict=True))
    return content, {names[fid]: tuple(item) for fid, item in by_file.iter_rows()}
