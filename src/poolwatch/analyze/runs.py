"""Executor path of every task and run, and how each run ended.

run_batt.py chooses an executor for each task and degrades under load
(log-formats.md): ProcessPool is silent; a ProcessPool failure retries on a 1-worker
ThreadPool; an overload skip, a ThreadPool that also failed, a parallel failure, or the
older "ProcessPool failed, falling back to sequential" run the task sequentially (the
overload message says "sequential" although a 1-worker ThreadPool runs it). A run's
path is the most degraded of its tasks', and a run killed by the timeout is
``timeout``: runs are the unit of the guide's percentages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from poolwatch.analyze.collection import Collection, collection
from poolwatch.analyze.limits import run_timeouts, stated_limits
from poolwatch.analyze.progress import STUCK_PACE, open_tasks, paces
from poolwatch.analyze.rows import split_rows, take_rows, take_values
from poolwatch.analyze.sampled import Active, active_threads, readings
from poolwatch.analyze.sampled import concurrency as sampled_concurrency
from poolwatch.config import Config
from poolwatch.ingest.parse import Ingest
from poolwatch.states import ExecutorPath, Outcome

#: Executor paths, from the normal case to the most degraded.
PATHS: tuple[str, ...] = tuple(path.value for path in ExecutorPath)
PATH_DTYPE = pd.CategoricalDtype(list(PATHS), ordered=True)
#: How a run ended: its closing line; a CRITICAL exit; killed by the timeout while
#: making steady progress (a legitimately long batch) or while hanging; or still running
#: (the unfinished tail of a file being written when the logs were collected).
OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in Outcome)
#: The outcomes of runs the timeout killed.
KILLED: tuple[str, ...] = (Outcome.TIMED_OUT.value, Outcome.HUNG.value)
#: What the analysis adds to each run: its outcome and executor path; the timeout it ran
#: under; for a killed run, how long it ran, its instance's usual pace and its own
#: (``progress``), why it was stuck (``thread exhaustion``, ``no progress``) and the
#: task it was in; what a memory exit says failed; whether the ProcessPool or the
#: ThreadPool failed (a fallback line or a memory exit).
JUDGED: tuple[str, ...] = (
    "outcome", "path", "run_timeout", "elapsed", "usual_pace", "pace", "stuck", "open_task",
    "memory_exit", "processpool_failure", "threadpool_failure",
)  # fmt: skip


def executor_paths(counts: pd.DataFrame) -> pd.Series:
    """The executor path shown by each row's fallback line counts (a task's or a run's).

    For a run, these are all its tasks' lines, so its path is its worst task's.
    """
    sequential = (
        counts["overloads"]
        + counts["threadpool_failed"]
        + counts["parallel_failed"]
        + counts["processpool_to_sequential"]
    ) > 0
    thread = counts["processpool_failed"] > 0
    codes = np.where(
        sequential.to_numpy(dtype=bool, na_value=False),
        2,
        np.where(thread.to_numpy(dtype=bool, na_value=False), 1, 0),
    )
    return pd.Series(pd.Categorical.from_codes(codes, dtype=PATH_DTYPE), index=counts.index)


def task_paths(result: Ingest) -> pd.Series:
    """The executor path of every task, aligned with ``result.tasks``."""
    return executor_paths(result.tasks)


def run_outcomes(
    result: Ingest, kinds: Kinds, timeouts: pd.Series, collected: Collection
) -> pd.DataFrame:
    """Each run's outcome, executor path and what its end shows, beside the runs table's
    identity columns; ``kinds`` is the notable events by kind, ``timeouts`` each run's
    timeout.

    A run without its closing line that the log shows killed (a timeout message, or
    the next run starting) was killed. So was the last run of a file last written
    more than its timeout before the logs were collected (``collection``): it cannot
    still be running. Otherwise it is incomplete. A killed run hung when its last task
    shows thread exhaustion or it made less than half its instance's usual progress
    (``progress``); otherwise it timed out while working.
    """
    runs = result.runs
    outcome = pd.Series("incomplete", index=runs.index, dtype="object")
    outcome[runs["end"] == "completed"] = "completed"
    outcome[runs["end"] == "exited"] = "exited"
    killed = (runs["end"] == "killed") | _stale_tail(result, timeouts, collected)
    outcome[killed] = "timed_out"
    files = file_names(result)
    kills = _kills(result, kinds, timeouts, killed, files)
    outcome[kills["stuck"].notna()] = "hung"
    path = executor_paths(runs).astype(object)
    path[killed] = "timeout"
    critical = kinds.of("critical_memory")
    memory = _memory_exits(runs, critical, event_text(result, critical), files)
    return pd.DataFrame(
        {
            "file": runs["file"],
            "instance": runs["instance"],
            "run": runs["run"],
            "outcome": pd.Categorical(outcome, categories=list(OUTCOMES)),
            "path": path.astype(PATH_DTYPE),
            "run_timeout": timeouts.to_numpy(),
            **{column: kills[column].to_numpy() for column in kills.columns},
            "memory_exit": memory,
            "processpool_failure": (runs["processpool_failed"] > 0).to_numpy()
            | np.isin(memory, _PROCESSPOOL_EXITS),
            "threadpool_failure": (runs["threadpool_failed"] > 0).to_numpy()
            | (memory == "ThreadPoolExecutor"),
        }
    )


def _kills(
    result: Ingest, kinds: Kinds, timeouts: pd.Series, killed: pd.Series, files: pd.Index
) -> pd.DataFrame:
    """For each killed run: how long it ran, its instance's usual pace and its own
    (``elapsed``, ``usual_pace``, ``pace``), why it was stuck (``stuck``: thread exhaustion
    in its last task, or no progress; None while working) and that task (``open_task``)."""
    runs = result.runs
    keys = run_keys(runs, files)
    # Only killed runs are judged: most fleets have none, and the tasks table is large.
    cut = open_tasks(result.tasks if killed.any() else result.tasks.iloc[:0])
    pace = paces(runs, timeouts).rename(columns={"usual": "usual_pace"})
    pace[~killed] = np.nan
    slow = (pace["pace"] < STUCK_PACE).to_numpy(dtype=bool, na_value=False)
    stuck = pd.Series(None, index=runs.index, dtype=object)
    stuck[killed & slow] = "no progress"
    stuck[killed & np.isin(keys, _exhausted(cut, kinds, files))] = "thread exhaustion"
    # A run without an open task finds -1, which picks the None put last.
    tasks = np.array([*cut["task"].astype(object), None], dtype=object)
    open_task = pd.Series(tasks[run_rows(cut, keys, files)], index=runs.index).where(killed)
    return pace.assign(stuck=stuck, open_task=open_task)


#: What a CRITICAL memory exit says ran out of memory, by a phrase of its line
#: (log-formats.md): the ProcessPool, the ThreadPool fallback, or the workers.
_MEMORY_EXITS = {
    "CPU ProcessPoolExecutor": "ProcessPoolExecutor",
    "ThreadPoolExecutor fallback": "ThreadPoolExecutor",
    "Cannot create workers": "workers",
}
#: Memory exits that count as a ProcessPool failure: the pool could not be had at all.
_PROCESSPOOL_EXITS = ("ProcessPoolExecutor", "workers")


def _memory_exits(
    runs: pd.DataFrame, critical: pd.DataFrame, texts: list[str | None], files: pd.Index
) -> np.ndarray:
    """What each run's CRITICAL memory exit (``critical_memory`` events, their ``texts``)
    says failed (None where the run did not exit)."""
    out = np.full(len(runs), None, dtype=object)
    if critical.empty:
        return out
    rows = run_rows(runs, run_keys(critical, files), files)
    for row, text in zip(rows, texts, strict=True):
        said = text or ""
        what = next((name for phrase, name in _MEMORY_EXITS.items() if phrase in said), None)
        if row >= 0 and what is not None:
            out[row] = what
    out[(runs["end"] != "exited").to_numpy()] = None
    return out


def _exhausted(cut: pd.DataFrame, kinds: Kinds, files: pd.Index) -> np.ndarray:
    """Runs, as ``run_keys``, whose open last task shows thread exhaustion (``thread
    creation failed`` retries, an exception), the guide's cause of hangs."""
    troubled = pd.concat([kinds.of("exception"), kinds.of("thread_retry")])
    troubled = troubled[troubled["task"].notna()]
    trouble, tasks = (
        pd.MultiIndex.from_arrays([run_keys(frame, files), frame["task"].astype(str).to_numpy()])
        for frame in (troubled, cut)
    )
    return run_keys(cut[tasks.isin(trouble)], files)


def file_names(result: Ingest) -> pd.Index:
    """Every input's name, the ``file`` of the tables' rows: what ``run_keys`` number."""
    names: pd.Index = pd.Index(result.files["path"].astype(str).unique())
    return names


def run_keys(frame: pd.DataFrame, files: pd.Index) -> np.ndarray:
    """Each row's run (``file``, ``run``) as one integer, to compare runs with ``np.isin``:
    the file's position in ``files`` (``file_names``), then the run number."""
    names = frame["file"].astype("category")
    # A missing file's code, -1, picks the -1 put last.
    position = np.append(files.get_indexer(names.cat.categories.astype(str)), -1)
    file = position.astype(np.int64).take(names.cat.codes.to_numpy())
    run = frame["run"].to_numpy(dtype=np.int64, na_value=-1)
    return (file << 32) | (run & 0xFFFFFFFF)


def run_rows(frame: pd.DataFrame, keys: np.ndarray, files: pd.Index) -> np.ndarray:
    """The row of ``frame`` (one per run) for each of these ``run_keys``; -1 where none."""
    found: np.ndarray = pd.Index(run_keys(frame, files)).get_indexer(keys)
    return found


def sum_by_run(
    rows: pd.DataFrame, values: list[np.ndarray], runs: pd.DataFrame, files: pd.Index
) -> list[np.ndarray]:
    """Each of ``values`` (one per row of ``rows``) summed over each of ``runs``' runs.

    A run's rows are consecutive (the tables are in line order): each stretch is summed
    at once, and only the stretches are looked up among ``runs``.
    """
    if not len(rows):
        return [np.zeros(len(runs)) for _ in values]
    file = rows["file"].astype("category").cat.codes.to_numpy()
    number = rows["run"].to_numpy(dtype=np.int32, na_value=-1)
    starts = np.flatnonzero((number[1:] != number[:-1]) | (file[1:] != file[:-1])) + 1
    starts = np.r_[0, starts]
    run = run_rows(runs, run_keys(rows[["file", "run"]].take(starts), files), files)
    mine = run >= 0
    return [
        np.bincount(run[mine], weights=np.add.reduceat(v, starts)[mine], minlength=len(runs))
        for v in values
    ]


#: Event kinds a task has one of each: the bulk of the events, cited by no finding.
TASK_KINDS: tuple[str, ...] = ("task_start", "task_done")
#: The events' columns findings read; a line's text is looked up for the few rows a
#: finding cites (``event_text``): copying it for every notable event was most of the
#: diagnosis's first second on a degraded 1 GB fleet (measured).
NOTABLE_COLUMNS: tuple[str, ...] = (
    "file", "line", "instance", "run", "task", "kind", "threads", "message",
)  # fmt: skip


def event_text(result: Ingest, rows: pd.DataFrame) -> list[str | None]:
    """The text of events' rows (rows of the events table, or of a frame with its
    index), in the rows' order; None where a line has none.

    A finding cites a few rows: they are read from the Arrow chunks that hold them
    (``take_values``; measured: taking them from the chunked column concatenated its
    chunks, 40 ms a call on the overloaded 1 GB fleet).
    """
    positions = result.events.index.get_indexer(rows.index)
    order = np.argsort(positions, kind="stable")
    taken = take_values(result.events["text"].array, positions[order])
    found: list[str | None] = [None] * len(positions)
    for at, value in zip(order, taken, strict=True):  # type: ignore[call-overload]
        found[at] = None if pd.isna(value) else str(value)
    return found


def _snapshot_times(result: Ingest) -> pd.DataFrame:
    """The thread snapshots' files and times (by the kind's category code: the events'
    other kinds carry no time)."""
    chosen = of_kinds(result.events["kind"], ("thread_snapshot",))
    return result.events.loc[chosen, ["file", "timestamp"]]


def of_kinds(kind: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Whether each row's kind (the events' categorical) is one of ``names``, by its
    category code (no string is compared). A table of the codes, not ``np.isin``, which
    widened 4.5 million int8 codes to compare them (0.19 s on the degraded 1 GB fleet;
    the table: a few ms)."""
    categories = kind.cat.categories
    table = np.zeros(len(categories) + 1, np.bool_)  # its last entry: code -1, no kind
    found = categories.get_indexer(pd.Index(names))
    table[found[found >= 0]] = True
    chosen: np.ndarray = table[kind.cat.codes.to_numpy()]
    return chosen


def _stale_tail(result: Ingest, timeouts: pd.Series, collected: Collection) -> pd.Series:
    """Unfinished last runs of files that stopped changing more than the run's timeout
    before the logs were collected (only believed modification times count)."""
    runs = result.runs
    if collected.at is None:
        return pd.Series(False, index=runs.index)
    files = result.files[result.files["path"].astype(str).isin(collected.believed)]
    mtimes = dict(zip(files["path"].astype(str), files["mtime"], strict=True))
    modified = pd.to_datetime(runs["file"].astype(str).map(mtimes), utc=True)
    quiet = (collected.at - modified).dt.total_seconds() > timeouts
    stale = (runs["end"] == "unfinished").to_numpy() & quiet.to_numpy(dtype=bool, na_value=False)
    return pd.Series(stale, index=runs.index)


def run_intervals(result: Ingest, outcomes: pd.DataFrame, collected: Collection) -> pd.DataFrame:
    """When each run with a known start ran: file, run, instance, start, end (UTC).

    A run ends where the next run of its instance starts, else after its
    ``main.run_batt`` time, else at its timeout if it was killed; a completed last run
    without a timing row gets its instance's median duration. A run still going ends
    at the collection time, and never after its timeout; without a believable
    collection time its end is unknown and it is left out.
    """
    runs = result.runs
    start = runs["started_at"]
    seconds = runs["seconds"].astype("Float64").fillna(runs["total_seconds"].astype("Float64"))
    killed = outcomes["outcome"].isin(KILLED)
    timeout = pd.Series(outcomes["run_timeout"].to_numpy(), index=runs.index)
    seconds = seconds.mask(seconds.isna() & killed, timeout)
    median = seconds.groupby(runs["instance"], observed=True).transform("median")
    seconds = seconds.fillna(median.where(outcomes["outcome"] != "incomplete"))
    end = start + pd.to_timedelta(seconds.astype("float64"), unit="s")
    still = outcomes["outcome"] == "incomplete"
    limit = start + pd.to_timedelta(timeout, unit="s")
    at = pd.NaT if collected.at is None else collected.at
    end = end.mask(still, limit.where(limit < at, at) if collected.at is not None else pd.NaT)
    frame = pd.DataFrame(
        {"file": runs["file"], "run": runs["run"], "instance": runs["instance"],
         "start": start, "end": end}
    )  # fmt: skip
    return frame.dropna(subset=["start", "end"]).reset_index(drop=True)


def concurrency(intervals: pd.DataFrame) -> pd.DataFrame:
    """How many runs were going at once, as a step series (``time``, ``running``)."""
    steps = pd.concat(
        [
            pd.DataFrame({"time": intervals["start"], "step": 1}),
            pd.DataFrame({"time": intervals["end"], "step": -1}),
        ]
    )
    # At one instant an ending run is counted out before a starting one is counted in.
    steps = steps.sort_values(["time", "step"], kind="stable")
    running = steps.groupby("time", sort=True)["step"].sum().cumsum()
    return pd.DataFrame({"time": running.index, "running": running.to_numpy()})


@dataclass(frozen=True)
class Kinds:
    """Notable events split by kind once (a degraded fleet has millions of them: each
    filter over the whole table costs a pass)."""

    empty: pd.DataFrame
    by_kind: dict[str, pd.DataFrame]
    keys: dict[str, np.ndarray] = field(default_factory=dict)
    """Each kind's ``run_keys``, made the first time a finding asks."""

    @staticmethod
    def of_events(events: pd.DataFrame) -> Kinds:
        """The events findings cite, split by kind: every kind but ``TASK_KINDS``, in
        ``NOTABLE_COLUMNS`` (the index is the events'). Chosen by the kind's category
        code (no string is compared) and taken chunk by chunk (``split_rows``)."""
        kind = events["kind"]
        names = kind.cat.categories
        codes = kind.cat.codes.to_numpy().copy()  # small integers: sorted by radix
        codes[of_kinds(kind, TASK_KINDS)] = -1
        split = split_rows(events, codes, NOTABLE_COLUMNS)
        empty = take_rows(events, np.zeros(0, np.int64), NOTABLE_COLUMNS)
        return Kinds(empty, {str(names[code]): frame for code, frame in split.items()})

    def of(self, kind: str) -> pd.DataFrame:
        """The events of one kind, in line order (none: an empty frame)."""
        return self.by_kind.get(kind, self.empty)

    def keys_of(self, kind: str, files: pd.Index) -> np.ndarray:
        """The run of each event of one kind (``run_keys``), computed once."""
        if kind not in self.keys:
            self.keys[kind] = run_keys(self.of(kind), files)
        return self.keys[kind]


@dataclass(frozen=True)
class Fleet:
    """The facts every later finding starts from, computed once.

    ``runs`` has one row per run: the runs table's columns (fallback line counts
    included) and the ``JUDGED`` columns. ``finished`` is the same without the runs
    still going, the unit of percentages. ``config`` holds the limits the logs state.
    """

    result: Ingest
    config: Config
    runs: pd.DataFrame
    finished: pd.DataFrame
    task_path: pd.Series
    """Every task's executor path, aligned with ``result.tasks``."""
    files: pd.Index
    """The inputs' names, for ``run_keys``."""
    intervals: pd.DataFrame
    concurrency: pd.DataFrame
    collection: Collection
    """When the logs were collected, as far as the files' times can be believed."""

    kinds: Kinds
    """The notable events split by kind: findings ask for a kind again and again."""
    readings: pd.DataFrame
    """Each run's thread count in each of poolwatch monitor's samples (``readings``)."""
    sampled_running: pd.DataFrame
    """Runs in progress at each of the monitor's samples (``sampled.concurrency``)."""
    active: tuple[Active, ...]
    """Each instance's active threads in the samples, highest first (``active_threads``)."""

    def of_kind(self, kind: str) -> pd.DataFrame:
        """The notable events of one kind, in line order."""
        return self.kinds.of(kind)

    def run_keys_of(self, kind: str) -> np.ndarray:
        """The run (``run_keys``) of each notable event of one kind."""
        return self.kinds.keys_of(kind, self.files)

    def text_of(self, rows: pd.DataFrame) -> list[str | None]:
        """The text of notable events' rows (``event_text``)."""
        return event_text(self.result, rows)


def fleet(result: Ingest, config: Config) -> Fleet:
    """Runs with the limits they ran under, their outcomes and paths; when they ran; how
    many at once. ``config`` is completed with the limits the logs state (``limits``)."""
    kinds = Kinds.of_events(result.events)
    config = stated_limits(config, result.runs, kinds.of("run_start"), kinds.of("overload"))
    timeouts = run_timeouts(result.runs, config)
    collected = collection(result, timeouts, _snapshot_times(result))
    outcomes = run_outcomes(result, kinds, timeouts, collected)
    runs = result.runs.assign(**{c: outcomes[c].to_numpy() for c in JUDGED})
    intervals = run_intervals(result, outcomes, collected)
    sampled = readings(result)
    return Fleet(
        result=result,
        config=config,
        runs=runs,
        finished=runs[runs["outcome"] != "incomplete"].reset_index(drop=True),
        task_path=task_paths(result),
        files=file_names(result),
        intervals=intervals,
        concurrency=concurrency(intervals),
        collection=collected,
        kinds=kinds,
        readings=sampled,
        sampled_running=sampled_concurrency(result),
        active=active_threads(sampled),
    )


def overload_threads(fleet: Fleet) -> pd.Series:
    """The per-process thread counts every overload message reported."""
    return fleet.of_kind("overload")["threads"].dropna()
