"""Console files that interleave the lines of several instances, told apart.

Two copies of run_card.sh started with ``nohup`` in one directory write to one
``nohup.out``: their lines interleave, and a boundary of one instance's iteration
falls in the middle of the other's run. Such a file is read line by line as one
stream per instance: each ``Generating``/``Running:`` line names its instance and
starts or continues that instance's run, and every other notable line goes to the
run it can belong to, by what each run is doing at that point:

- ``date`` and banner lines name no instance: each goes to the next iteration that
  starts after it (one of each kind per iteration, oldest first);
- a GPU line (run_batt's first) to the earliest started run still without one;
- a task start to a run with no task open whose next task index it carries (run_batt
  numbers a run's tasks from 0), the one idle longest if several;
- a task done, and a sample line naming its task, to the run that task is open in;
- a closing ``<N> tasks - <M> timeouts`` line to an idle run with N tasks done, the one
  that finished its last task first;
- an executor-decision line to the run whose open task started last (the line follows
  its task's start), and to that task;
- anything else to the run that printed last.

A run whose instance starts a new iteration is over. Runs are numbered in each file
by their first line (0: the lines before any iteration), as in any other file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import polars as pl

from poolwatch.ingest import grammar

#: The kinds an iteration starts with, by rank (date, banner, generating, run_start).
_RANKS = {"date": 0, "banner": 1, "generating": 2, "run_start": 3}
#: Executor-decision lines: printed by a task, after its start line.
_TASK_KINDS = frozenset(
    ("overload", "processpool_failed", "threadpool_failed", "parallel_failed", "thread_retry")
)


def named_instance() -> pl.Expr:
    """The instance a ``Running:`` or ``Generating`` mark names (null for other marks)."""
    kind = pl.col("kind")
    return (
        pl.when(kind == "run_start")
        .then(pl.col("message").str.extract(grammar.RUNNING_INSTANCE, 1))
        .when(kind == "generating")
        .then(pl.col("message"))
    )


def interleaved(instances: tuple[str, ...]) -> str:
    """What the files table says of a file that interleaves these instances' lines."""
    return (
        f"interleaves the console lines of {len(instances)} instances ({', '.join(instances)}): "
        "runs told apart by instance and task ids; their samples are unknown"
    )


def mixed_files(marks: pl.DataFrame) -> dict[int, tuple[str, ...]]:
    """The files whose iterations name more than one instance, with those instances
    (``fid``-keyed)."""
    named = (
        marks.filter(pl.col("kind").is_in(("run_start", "generating")))
        .select("fid", instance=named_instance())
        .drop_nulls()
        .unique(maintain_order=True)
        .group_by("fid", maintain_order=True)
        .agg("instance")
    )
    return {fid: tuple(names) for fid, names in named.iter_rows() if len(names) > 1}


class _Line(NamedTuple):
    """A notable line of an interleaved file, as the reader needs it."""

    row: int
    line: int
    kind: str
    task: str | None
    from_tasks: bool
    instance: str | None
    task_index: int | None
    closing_count: int | None
    """The N of a ``<N> tasks - <M> timeouts`` line."""


_LINE_COLUMNS = ("_row", "line", "kind", "task", "_tasks", "instance", "task_index", "count")


@dataclass
class _Run:
    """One instance's run while the file is read."""

    instance: str | None
    rank: int = -1
    gpu: bool = False
    over: bool = False
    open_task: str | None = None
    open_since: int = 0
    started: int = 0
    done: int = 0
    idle_since: int = 0


class _Reader:
    """The runs of one interleaved file, built line by line."""

    def __init__(self) -> None:
        self.head = _Run(None)
        self.active: list[_Run] = []
        """The runs not over (about one per instance: each line looks only at these)."""
        self.latest = self.head
        self.current: dict[str, _Run] = {}
        """Each instance's latest run (none yet: no iteration has started)."""
        self.pending: dict[str, list[int]] = {"date": [], "banner": []}
        self.claimed: dict[int, _Run] = {}

    def _end(self, run: _Run) -> None:
        if not run.over:
            run.over = True
            self.active.remove(run)

    def _start(self, instance: str, rank: int, at: int) -> _Run:
        run = self.current.get(instance)
        if run is not None and run.rank < rank and not run.over:
            run.rank = rank
            return run
        if run is not None:
            self._end(run)
        run = _Run(instance, rank, idle_since=at)
        self.active.append(run)
        self.current[instance] = run
        for rows in self.pending.values():
            if rows:
                self.claimed[rows.pop(0)] = run
        return run

    def read(self, seen: _Line) -> tuple[_Run | None, str | None]:
        """The run a notable line belongs to (None: decided later) and the task it names
        or belongs to."""
        kind, task, line = seen.kind, seen.task, seen.line
        if kind in self.pending:
            self.pending[kind].append(seen.row)
            return None, task
        if kind in _RANKS and seen.instance is not None:
            run = self._start(seen.instance, _RANKS[kind], line)
        elif kind == "gpu":
            run = self._gpu()
        elif kind == "task_start":
            run = self._task_start(seen.task_index)
            run.open_task, run.open_since, run.started = task, line, run.started + 1
        elif kind == "task_done":
            run = self._with_task(task)
            run.open_task, run.idle_since, run.done = None, line, run.done + 1
        elif task is not None:
            run = self._with_task(task)
        elif kind == "run_end":
            run = self._closing(seen.closing_count)
            self._end(run)
        elif kind in _TASK_KINDS:
            busy = [run for run in self.active if run.open_task is not None]
            run = max(busy, key=lambda r: r.open_since) if busy else self.latest
            task = run.open_task
        else:
            run = self.latest
        self.latest = run
        return run, task

    def _gpu(self) -> _Run:
        waiting = [run for run in self.active if not run.gpu]
        run = waiting[0] if waiting else self.latest
        run.gpu = True
        return run

    def _task_start(self, index: int | None) -> _Run:
        idle = [run for run in self.active if run.open_task is None]
        expected = [run for run in idle if run.started == index] or idle
        if expected:
            return min(expected, key=lambda run: run.idle_since)
        stuck = [run for run in self.active if run.started == index]
        return stuck[0] if stuck else self.latest

    def _with_task(self, task: str | None) -> _Run:
        holding = [run for run in self.active if run.open_task == task]
        return min(holding, key=lambda run: run.open_since) if holding else self.latest

    def _closing(self, count: int | None) -> _Run:
        idle = [run for run in self.active if run.open_task is None]
        finished = [run for run in idle if run.done == count] or idle
        return min(finished, key=lambda run: run.idle_since) if finished else self.latest

    def unclaimed(self, row: int) -> _Run:
        """The run of a date or banner line no iteration claimed: the head's before any
        run, else a run of its own (an iteration whose other lines never came)."""
        if row in self.claimed:
            return self.claimed[row]
        if not self.current:  # no iteration has started
            return self.head
        run = _Run(None, over=True)
        self.claimed[row] = run
        return run


def separate(
    marks: pl.DataFrame, task_lines: pl.DataFrame, fids: set[int], runs_per_file: int
) -> tuple[pl.DataFrame, pl.DataFrame, set[int]]:
    """Marks and task lines with the runs of these files re-numbered by instance where
    their runs interleave (the others' unchanged: consoles one after the other, say), and
    the files that do; marks of a task get its id; both frames in line order."""
    in_mixed = pl.col("fid").is_in(list(fids))
    mine_marks = marks.filter(in_mixed).with_row_index("_row")
    mine_tasks = task_lines.filter(in_mixed).with_row_index("_row")
    rows = pl.concat(
        [
            mine_marks.select(
                "_row", "fid", "line", "kind", "task",
                _tasks=pl.lit(False), instance=named_instance(),
                task_index=pl.lit(None, pl.Int32), count=pl.col("count").cast(pl.Int64),
            ),
            mine_tasks.select(
                "_row", "fid", "line",
                kind=pl.when("done").then(pl.lit("task_done")).otherwise(pl.lit("task_start")),
                task="task", _tasks=pl.lit(True), instance=pl.lit(None, pl.String),
                task_index="task_index", count=pl.lit(None, pl.Int64),
            ),
        ]
    ).sort("fid", "line", "_tasks", maintain_order=True)  # fmt: skip
    mark_runs: list[int] = list(mine_marks.get_column("run"))
    mark_tasks: list[str | None] = list(mine_marks.get_column("task"))
    task_runs: list[int] = list(mine_tasks.get_column("run"))
    interleaved: set[int] = set()
    for (fid,), group in rows.group_by("fid", maintain_order=True):
        reader = _Reader()
        seen = [_Line(*values) for values in group.select(_LINE_COLUMNS).iter_rows()]
        read = [reader.read(line) for line in seen]
        pairs = zip(seen, read, strict=True)
        runs = [run or reader.unclaimed(line.row) for line, (run, _) in pairs]
        if not _overlap(runs):
            continue
        interleaved.add(int(fid))
        order = _numbers(reader, runs)
        base = int(fid) * runs_per_file
        for line, run, (_, task) in zip(seen, runs, read, strict=True):
            if line.from_tasks:
                task_runs[line.row] = base + order[id(run)]
            else:
                mark_runs[line.row], mark_tasks[line.row] = base + order[id(run)], task
    if not interleaved:
        return marks, task_lines, interleaved
    marks = pl.concat(
        [
            marks.filter(~in_mixed),
            mine_marks.drop("_row").with_columns(
                run=pl.Series(mark_runs, dtype=pl.Int64),
                task=pl.Series(mark_tasks, dtype=pl.String),
            ),
        ]
    ).sort("line", maintain_order=True)
    task_lines = pl.concat(
        [
            task_lines.filter(~in_mixed),
            mine_tasks.drop("_row").with_columns(run=pl.Series(task_runs, dtype=pl.Int64)),
        ]
    ).sort("line", maintain_order=True)
    return marks, task_lines, interleaved


def _overlap(runs: list[_Run]) -> bool:
    """Whether a run has a line after another's first line and before its last (the rows
    given in line order, by their runs)."""
    last = {id(run): position for position, run in enumerate(runs)}
    reach = -1
    seen: set[int] = set()
    for position, run in enumerate(runs):
        if id(run) not in seen:
            if position < reach:
                return True
            seen.add(id(run))
        reach = max(reach, last[id(run)])
    return False


def _numbers(reader: _Reader, runs: list[_Run]) -> dict[int, int]:
    """Each run's number in its file (by ``id``): 0 for the head, then 1 on in the order
    of first lines."""
    numbers = {id(reader.head): 0}
    for run in runs:
        numbers.setdefault(id(run), len(numbers))
    return numbers
