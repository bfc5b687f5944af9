"""One run of run_batt.py as its console and its run log show it, of each kind."""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import add

from poolwatch.simulate.numbers import (
    ARC_TASKS,
    DEADLOCK_IN_SAMPLES_SHARE,
    EXIT_AFTER_TASKS,
    EXIT_SECONDS,
    EXIT_SEMLOCK_SHARE,
    HANG_AFTER_SECONDS,
    RUN_TASKS,
    RUN_TIMEOUT_SECONDS,
    SAMPLE_TIMEOUT_SECONDS,
    SEQUENTIAL_SLOWDOWN,
    SHUTDOWN_SECONDS,
    STARTUP_SECONDS,
    THREAD_SLOWDOWN,
)
from poolwatch.simulate.phrases import (
    D_OVERLOAD,
    D_PARALLEL,
    D_PPSEQ,
    D_PROCESS,
    D_RANK,
    D_TPFAIL,
    DECISION_PHRASES,
    EXIT_LINES,
    EXIT_LOW_MEMORY,
    EXIT_THREADPOOL,
    GPU_LINE,
    LOKY_LINE,
    OUTPUT_LINES,
    OUTPUT_SPAN,
    OUTPUTS,
    P402,
    P419,
    P517,
    P523,
    P539,
    P591,
    P625,
    P647,
    P682,
    PARALLEL_ERRORS,
    PP_ERRORS,
    PROCESS,
    SAMPLE_ERRORS,
    THREAD,
    TP_ERRORS,
)
from poolwatch.simulate.pieces import (
    ArcTask,
    noise,
    pick,
    semlock_leak,
    timing_block,
    traceback,
    uniform,
)
from poolwatch.simulate.profiles import Profile, Recipe, Version

# --- One run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """What a run (or the part of it kept so far) shows, counted from its events."""

    path: int
    tasks: int
    overloads: int
    processpool_failed: int
    threadpool_failed: int
    parallel_failed: int
    sample_timeouts: int
    sample_failures: int
    max_threads: int | None


class Run:
    """One run's run_batt.py output under construction, with the line index of every event."""

    # Slots keep attribute access in the per-task loop fast beyond CPython's 30 shared keys.
    __slots__ = (
        "bad_edges", "clock", "closing", "decided", "exit_line", "failures", "hang", "killed",
        "limit", "lines", "marks_n", "marks_t", "overload_range", "overload_threads",
        "overloads", "p_bad", "parallel_failed", "pp_failed", "profile", "ranks", "recipe",
        "rng", "sample_low", "sample_span", "silent", "starts", "stderr", "stuck_line",
        "stuck_task", "timeout", "timeouts", "tp_failed",
    )  # fmt: skip

    def __init__(
        self, rng: random.Random, profile: Profile, recipe: Recipe, version: Version, count: int
    ) -> None:
        """Starts an empty ``-c count`` run for the given profile, recipe and version."""
        self.rng = rng
        self.profile = profile
        self.recipe = recipe
        self.timeout = version.timeout(count)  # what run_card.sh passes to timeout (0: none)
        self.limit = float(self.timeout) if self.timeout else math.inf
        self.sample_low = version.sample_seconds[0]
        self.sample_span = version.sample_seconds[1] - version.sample_seconds[0]
        low, high = profile.overload_threads
        self.overload_range = (max(low, version.overload_above + 1), high)
        self.lines: list[str] = []
        self.stderr: list[int] = []  # indices of the lines written to stderr (console only)
        self.clock = 0.0  # seconds since python started
        self.marks_t: list[float] = []  # at marks_t[k] seconds, marks_n[k] lines were written
        self.marks_n: list[int] = []
        self.starts: list[int] = []
        self.decided: list[int] = []  # index of each task's last decision line
        self.ranks: list[int] = []  # executor path rank of each task
        self.overloads: list[int] = []
        self.overload_threads: list[int] = []
        self.pp_failed: list[int] = []
        self.tp_failed: list[int] = []
        self.parallel_failed: list[int] = []
        self.timeouts: list[int] = []
        self.failures: list[int] = []
        self.killed = False
        self.hang = False
        self.silent = False  # the hang printed nothing about itself
        self.stuck_task: str | None = None  # the task a hang stopped in
        self.stuck_line = -1  # index of that task's start line
        self.closing = -1  # index of the closing "<N> tasks - <M> timeouts" line, once written
        self.exit_line = -1  # index of the line of an out-of-memory exit, once written
        bad = (
            profile.sample_timeout,
            profile.sample_failure,
            profile.special_failure_share,
            profile.retry,
        )
        self.p_bad = sum(bad)
        self.bad_edges = (
            [sum(bad[: k + 1]) / self.p_bad for k in range(3)] + [1.0] if self.p_bad else []
        )

    def mark(self) -> None:
        """Records that all lines so far were written by the current clock."""
        self.marks_t.append(self.clock)
        self.marks_n.append(len(self.lines))

    def plan(self, tasks: int) -> list[int]:
        """Executor decision codes for this many tasks, following the run's recipe."""
        rng = self.rng
        codes = [D_PROCESS] * tasks
        if self.recipe.background:
            edges: list[float] = []
            chosen: list[int] = []
            for code, chance in self.recipe.background:
                edges.append((edges[-1] if edges else 0.0) + chance)
                chosen.append(code)
            chosen.append(D_PROCESS)
            r = rng.random
            codes = [chosen[bisect_right(edges, r())] for _ in range(tasks)]
        for code, fewest, most in self.recipe.forced:
            for i in rng.sample(range(tasks), min(tasks, rng.randint(fewest, most))):
                codes[i] = code
        return codes

    def decision(self, code: int) -> int:
        """Appends the executor decision lines for one task and returns its path rank."""
        lines, rng = self.lines, self.rng
        if code == D_OVERLOAD:
            threads = rng.randint(*self.overload_range)
            self.overloads.append(len(lines))
            self.overload_threads.append(threads)
            lines.append(
                f"{P539}-- System overloaded ({threads} threads), using sequential processing\n"
            )
        elif code == D_PARALLEL:
            self.parallel_failed.append(len(lines))
            error = pick(rng, PARALLEL_ERRORS)
            lines.append(
                f"{P647}-- Parallel execution failed ({error}), falling back to sequential\n"
            )
        elif code == D_PPSEQ:
            self.pp_failed.append(len(lines))
            lines.append(
                f"{P591}-- ProcessPoolExecutor failed ([Errno 12] Cannot allocate memory), "
                "falling back to sequential\n"
            )
        else:
            self.processpool_failure(pick(rng, PP_ERRORS))
            if code == D_TPFAIL:
                self.tp_failed.append(len(lines))
                error = pick(rng, TP_ERRORS)
                lines.append(
                    f"{P625}-- ThreadPoolExecutor also failed ({error}), "
                    "using sequential processing\n"
                )
        return D_RANK[code]

    def processpool_failure(self, error: str) -> None:
        """Appends a ProcessPool failure that retries on a ThreadPool."""
        self.pp_failed.append(len(self.lines))
        self.lines.append(
            f"{P591}-- ProcessPoolExecutor failed ({error}), trying ThreadPoolExecutor\n"
        )

    def task(self, task: ArcTask, i: int, code: int) -> None:
        """Appends one whole task (start, decision, samples, scoring, done) and advances time."""
        lines, r = self.lines, self.rng.random
        start, header, scored, done = task.cache.get(i) or task.fixed(i)
        n = task.samples
        self.starts.append(len(lines))
        lines.append(start)
        lines.append(header)
        rank = self.decision(code) if code else PROCESS
        self.decided.append(len(lines) - 1)
        self.ranks.append(rank)
        at = int(r() * OUTPUT_SPAN)  # this task's candidate counts: a slice of the pool
        x = r() / self.p_bad if self.p_bad else n
        if x < n:
            outputs, timeouts = self.odd_sample(task, rank, at, x)
        else:
            outputs, timeouts = sum(OUTPUTS[at : at + n]), 0
            lines.extend(map(add, task.progress, OUTPUT_LINES[at : at + n]))
        u, v = r(), r()
        diffs = int(outputs * (0.2 + 0.5 * u))
        lines.append(
            f"{P682}-- Demo+Test scoring: {outputs} outputs, {int(v * v * 5)} matches, "
            f"{diffs} diff calls (skipped {outputs - diffs})\n"
        )
        lines.append(scored)
        lines.append(f"{done}{int(outputs * (0.8 - 0.5 * u))} candidates scored\n")
        seconds = n * (self.sample_low + self.sample_span * r()) + 0.1
        if rank or timeouts:
            seconds = self.degraded_seconds(seconds, rank, timeouts)
        self.clock += seconds
        self.marks_t.append(self.clock)
        self.marks_n.append(len(lines))

    def odd_sample(self, task: ArcTask, rank: int, at: int, x: float) -> tuple[int, int]:
        """Appends the progress lines of a task with one sample timed out, failed or retried."""
        rng = self.rng
        n = task.samples
        block = list(map(add, task.progress, OUTPUT_LINES[at : at + n]))
        total = sum(OUTPUTS[at : at + n])
        j = int(x)
        what = bisect_right(self.bad_edges, x - j)
        where = len(self.lines) + j
        kind = task.kinds[j]
        if what == 0:
            self.timeouts.append(where)
            block[j] = f"{P419}{task.head}{kind} timed out\n"
        elif what == 1:
            self.failures.append(where)
            block[j] = f"{P517}{task.head}{kind} failed: {pick(rng, SAMPLE_ERRORS)}\n"
        elif what == 2:
            self.failures.append(where)
            block[j] = f"{P523}{task.head}{kind} failed due to {self.profile.special_failure}\n"
        else:
            block.insert(j, _retry_line(task, kind, rank))
        if what < 3:
            total -= OUTPUTS[at + j]
        self.lines.extend(block)
        return total, int(what == 0)

    def degraded_seconds(self, seconds: float, rank: int, timeouts: int) -> float:
        """A task's time after the guide's slowdowns and the sample timeouts it waited for."""
        r = self.rng.random
        if rank:
            low, high = THREAD_SLOWDOWN if rank == THREAD else SEQUENTIAL_SLOWDOWN
            seconds *= low + (high - low) * r()
        return seconds + timeouts * (SAMPLE_TIMEOUT_SECONDS + r())

    def kept_lines(self, tau: float) -> int:
        """How many lines were (at least partly) written ``tau`` seconds after python started."""
        j = bisect_right(self.marks_t, tau)
        if j >= len(self.marks_t):
            return len(self.lines)
        n0, t0 = (self.marks_n[j - 1], self.marks_t[j - 1]) if j else (0, 0.0)
        n1, t1 = self.marks_n[j], self.marks_t[j]
        share = (tau - t0) / (t1 - t0) if t1 > t0 else 1.0
        return max(1, n0 + max(1, int(share * (n1 - n0))))

    def counts(self, kept: int, partial: str | None = None) -> Counts:
        """Counts of the events visible in the first ``kept`` lines, the last maybe ``partial``."""
        whole = kept if partial is None else kept - 1

        def seen(events: list[int], phrase: str) -> int:
            """How many of the events are visible, the cut line only if its phrase survived."""
            n = bisect_left(events, whole)
            cut_here = partial is not None and n < len(events) and events[n] == whole
            return n + (cut_here and phrase in (partial or ""))

        return Counts(
            path=self.visible_path(whole, partial),
            tasks=seen(self.starts, " start --"),
            overloads=seen(self.overloads, "System overloaded"),
            processpool_failed=seen(self.pp_failed, "ProcessPoolExecutor failed"),
            threadpool_failed=seen(self.tp_failed, "ThreadPoolExecutor also failed"),
            parallel_failed=seen(self.parallel_failed, "Parallel execution failed"),
            sample_timeouts=seen(self.timeouts, " timed out"),
            sample_failures=seen(self.failures, " failed"),
            max_threads=max(
                self.overload_threads[: seen(self.overloads, "threads)")], default=None
            ),
        )

    def visible_path(self, whole: int, partial: str | None) -> int:
        """Most degraded executor path shown by ``whole`` lines and a ``partial`` one."""
        n = bisect_left(self.decided, whole)
        path = max(self.ranks[:n], default=PROCESS)
        if partial is None or n == len(self.decided):
            return path
        if self.decided[n] == whole and any(phrase in partial for phrase in DECISION_PHRASES):
            return max(path, self.ranks[n])
        if whole in self.tp_failed or (whole in self.pp_failed and "ProcessPool" in partial):
            return max(path, THREAD)  # its ProcessPool failure shows, not what came next
        return path

    def text(self, kept: int, cut: bool) -> tuple[str, str | None]:
        """The first ``kept`` lines, and the last one cut in half if the run was interrupted."""
        if not cut:
            return "".join(self.lines[:kept]), None
        last = self.lines[kept - 1].rstrip("\n")
        partial = last[: max(1, int(len(last) * uniform(self.rng, (0.3, 0.8))))]
        return "".join(self.lines[: kept - 1]) + partial, partial

    def stdout_text(self, kept: int, partial: str | None, output: str) -> str:
        """What ``tee`` copies of the ``output`` of ``text``: every line but the stderr ones."""
        if not self.stderr or self.stderr[0] >= kept:
            return output
        skip = set(self.stderr)
        whole = kept if partial is None else kept - 1
        text = "".join(line for i, line in enumerate(self.lines[:whole]) if i not in skip)
        return text + partial if partial is not None and whole not in skip else text

    def stderr_shown(self, kept: int) -> int:
        """How many of the first ``kept`` lines went to stderr."""
        return bisect_left(self.stderr, kept)

    def on_stdout(self, kept: int) -> int:
        """``kept``, moved back so that the line being written (the last) is a stdout line."""
        while kept > 1 and self.stderr and kept - 1 in self.stderr:
            kept -= 1
        return kept

    def stdout_numbers(self, indices: list[int]) -> list[int]:
        """Line indices (or counts) as in ``tee``'s copy, where the stderr lines are missing."""
        if not self.stderr:
            return indices
        return [i - bisect_left(self.stderr, i) for i in indices]


def _retry_line(task: ArcTask, kind: str, rank: int) -> str:
    """A sample's recovered (or not) thread-creation failure, as the worker prints it."""
    where = " (ThreadPool fallback)" if rank == THREAD else ""
    return f"{P402}{task.head}{kind} thread creation failed{where}, retrying with backoff...\n"


# --- Kinds of run ----------------------------------------------------------------------------


def _add_block(run: Run, block: str, *, stderr: bool = False) -> None:
    """Appends a multi-line block (traceback, timing report) one physical line at a time;
    ``stderr`` for Python's noise, which reaches the console only."""
    lines = block.splitlines(keepends=True)
    if stderr:
        run.stderr.extend(range(len(run.lines), len(run.lines) + len(lines)))
    run.lines.extend(lines)


def begin(run: Run, loky: bool) -> None:
    """Appends the start-up lines of run_batt.py and the time its imports take."""
    run.lines.append(GPU_LINE)
    if loky:
        run.lines.append(LOKY_LINE)
    run.clock = uniform(run.rng, STARTUP_SECONDS)
    run.mark()


def _finish(run: Run, tasks: int, timing: bool) -> float:
    """Appends the closing line (and timing and shutdown noise); returns the run's seconds."""
    rng = run.rng
    run.closing = len(run.lines)
    run.lines.append(f"{tasks} tasks - {len(run.timeouts)} timeouts\n")
    run.clock += uniform(rng, SHUTDOWN_SECONDS)
    seconds = round(run.clock, 3)
    if timing:
        _add_block(run, timing_block(rng, seconds))
    leak_chance = run.profile.semlock if run.pp_failed else run.profile.semlock / 10
    if rng.random() < leak_chance:
        _add_block(run, semlock_leak(rng.randint(1, 12)), stderr=True)
    run.mark()
    return seconds


def complete_run(run: Run, tasks: list[ArcTask], timing: bool) -> float:
    """A -c -32 run that finishes normally; returns its seconds."""
    rng = run.rng
    codes = run.plan(RUN_TASKS)
    noise_at = rng.randrange(RUN_TASKS) if rng.random() < run.profile.noise else -1
    for i in range(RUN_TASKS):
        run.task(tasks[i], i, codes[i])
        if i == noise_at:
            _add_block(run, noise(rng, run.profile.noise_kind), stderr=True)
    return _finish(run, RUN_TASKS, timing)


def exit_run(run: Run, tasks: list[ArcTask]) -> float:
    """A run that gives up for want of memory seconds after its start; returns its seconds.

    One of run_batt.py's three exits ends it in its first tasks, without a closing line.
    """
    rng = run.rng
    fatal = rng.randint(*EXIT_AFTER_TASKS)
    codes = run.plan(fatal)
    for i in range(fatal):
        run.task(tasks[i], i, codes[i])
    run.starts.append(len(run.lines))
    run.lines.extend(tasks[fatal].fixed(fatal)[:2])
    message = pick(rng, EXIT_LINES)
    if message == EXIT_THREADPOOL:  # the ProcessPool failed first, then its fallback
        run.processpool_failure("MemoryError: ")
    run.decided.append(len(run.lines) - 1)
    run.ranks.append(THREAD if message == EXIT_THREADPOOL else PROCESS)
    run.exit_line = len(run.lines)
    run.lines.append(message)
    if message != EXIT_LOW_MEMORY and rng.random() < EXIT_SEMLOCK_SHARE:
        _add_block(run, semlock_leak(rng.randint(3, 12)), stderr=True)
    run.clock += uniform(rng, EXIT_SECONDS)
    run.mark()
    return round(run.clock, 3)


def _work_until_stuck(run: Run, tasks: list[ArcTask]) -> tuple[list[int], int]:
    """Appends the tasks a hanging run finishes (for HANG_AFTER_SECONDS, scaled to its
    limit); returns its decision codes and the index of the task it gets stuck in."""
    codes = run.plan(RUN_TASKS)
    scale = run.limit / RUN_TIMEOUT_SECONDS
    low, high = HANG_AFTER_SECONDS
    hang_after = uniform(run.rng, (low * scale, high * scale))
    i = 0
    while i < RUN_TASKS - 1 and run.clock < hang_after:
        run.task(tasks[i], i, codes[i])
        i += 1
    return codes, i


def hang_run(run: Run, tasks: list[ArcTask]) -> float:
    """A run that hangs on thread creation and is killed at the timeout; returns its seconds."""
    codes, i = _work_until_stuck(run, tasks)
    _hanging_task(run, tasks[i], i, codes[i])
    run.killed = run.hang = True
    return run.limit


def deadlock_run(run: Run, tasks: list[ArcTask]) -> float:
    """A run that deadlocks without a word in the middle of a task, killed at the timeout."""
    rng = run.rng
    _, i = _work_until_stuck(run, tasks)
    task = tasks[i]
    run.stuck_task, run.stuck_line = task.tid, len(run.lines)
    run.starts.append(len(run.lines))
    run.lines.extend(task.fixed(i)[:2])
    if rng.random() < DEADLOCK_IN_SAMPLES_SHARE:
        for k in range(rng.randrange(1, task.samples)):
            run.lines.append(task.progress[k] + pick(rng, OUTPUT_LINES))
    run.clock += uniform(rng, (0.5, 5.0))
    run.mark()
    run.killed = run.hang = run.silent = True
    return run.limit


def _hanging_task(run: Run, task: ArcTask, i: int, code: int) -> None:
    """Appends a task that starts, fails to create threads, retries, and never finishes."""
    rng, lines = run.rng, run.lines
    run.stuck_task, run.stuck_line = task.tid, len(lines)
    run.starts.append(len(lines))
    lines.extend(task.fixed(i)[:2])
    rank = run.decision(code) if code else PROCESS
    run.decided.append(len(lines) - 1)
    run.ranks.append(rank)
    stuck = rng.randrange(task.samples)
    for k in range(stuck):
        lines.append(task.progress[k] + pick(rng, OUTPUT_LINES))
    retry = _retry_line(task, task.kinds[stuck], rank)
    lines.extend([retry] * rng.randint(2, 4))
    _add_block(run, traceback(rng.randrange(2)), stderr=True)
    if rng.random() < 0.5:
        lines.append(retry)
    run.clock += uniform(rng, (5.0, 30.0))
    run.mark()


def long_run(run: Run, arc: tuple[ArcTask, ...], timing: bool) -> float:
    """A -c 0 batch over every ARC task, progressing steadily until the timeout kills it."""
    codes = run.plan(ARC_TASKS)
    for i in range(ARC_TASKS):
        run.task(arc[i], i, codes[i])
        if run.clock >= run.limit:
            run.killed = True
            return run.limit
    return _finish(run, ARC_TASKS, timing)
