"""Realistic, deterministic logs of a run_card.sh fleet, with the ground truth of every run.

One call writes, into one directory, what a host running several ``run_card.sh`` instances
leaves behind: one console log per instance (every run, in order), one run log per instance
(``tee``'s copy of its latest run only), the ``week6b_monitoring.log`` that the guide's
monitoring script really writes, the records ``poolwatch monitor`` writes over the same
window (``poolwatch-monitor.jsonl``: every run's process and its threads at each sample),
and optionally the thread snapshots operators paste.
Every byte derives from ``random.Random(seed)`` and ``start``, so the same arguments always
produce the same files, and each run's ground truth (executor path, fallback counts, kill,
hang, exit, limits, console-only lines) comes back as a :class:`RunTruth`.

The realities of log-formats.md are written on purpose: stderr lines reach the console but
never ``tee``'s run log, runs die of memory seconds after their start, hangs can be silent,
each version of run_batt.py has its own limits, and copied files lose their times.
"""

from __future__ import annotations

import json
import math
import os
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import add
from pathlib import Path

__all__ = [
    "MONITOR_STYLES",
    "SCENARIOS",
    "SNAPSHOTS",
    "VERSIONS",
    "RunTruth",
    "SimulationResult",
    "SnapshotTruth",
    "simulate",
]

SCENARIOS = (
    "healthy",
    "overloaded",
    "memory-pressure",
    "timeouts",
    "sequential-excessive",
    "deadlock",
    "degraded",
)
MONITOR_STYLES = ("emoji", "mojibake", "plain")
# Which run_batt.py the instances run: all the first version, all a later one, or half each.
VERSIONS = ("first", "later", "mixed")
# Pasted thread snapshots: none, every instance steady, or one instance leaking threads.
SNAPSHOTS = ("none", "steady", "leak")
DEFAULT_START = datetime(2025, 10, 14, 9, 36, 8, tzinfo=UTC)
MONITOR_LOG = "week6b_monitoring.log"
RECORDS_LOG = "poolwatch-monitor.jsonl"

# --- Numbers taken from the guide (monitoring-guide.md) -------------------------------------

# "Expected Production Patterns", Healthy Production: 75 % ProcessPool, 15 % ThreadPool,
# 10 % Sequential, in percent of runs; the first kind takes what the others leave.
HEALTHY_MIX = (("process", 75), ("thread", 15), ("sequential", 10))
# Healthy runs beyond the fixed rounds (--size, --live): chance that a degraded kind the
# mix owes one run is dealt now rather than later (it is dealt at once when owed two).
CATCH_UP_CHANCE = 0.5
# "Expected Production Patterns", Healthy Production: thread count 40-60; a task reports
# overload only above its version's threshold (51-60 for the first version's 50).
HEALTHY_OVERLOAD_THREADS = (40, 60)
# "Expected Production Patterns", Overloaded Production: thread count > 80, constant.
OVERLOADED_THREADS = (81, 95)
# Share of tasks that print "System overloaded" on an overloaded instance ("most tasks").
OVERLOADED_TASK_SHARE = 0.92
# The degraded fleet's chance per sample of "timed out": about 1.5 % of its lines.
DEGRADED_SAMPLE_TIMEOUT = 0.03
# Overloaded Production, Instance 3 ("ThreadPoolExecutor fails, sequential"): share of its
# tasks that report overload; its other tasks lose both pools.
OVERLOADED_TP_INSTANCE_SHARE = 0.6
# "Quick Diagnostics", Scenario 2: ProcessPool fallback in > 30 % of runs is critical;
# here 11 of 20 runs show a ProcessPool failure, and one of 20 exits out of memory.
MEMORY_PRESSURE_RUN_DECK = (("process", 8), ("thread", 8), ("sequential", 3), ("exit", 1))
# "Quick Diagnostics", Scenario 3: script timeouts; 4 of 20 runs of an ordinary instance hang.
TIMEOUTS_RUN_DECK = (("process", 12), ("thread", 2), ("sequential", 2), ("hang", 4))
# Thread counts reported by the overloaded tasks of the timeouts scenario (Warning band).
TIMEOUTS_OVERLOAD_THREADS = (51, 70)
# "Quick Diagnostics", Scenario 4: "ThreadPoolExecutor also failed" in > 30 % of runs;
# here 10 of 20 runs.
SEQUENTIAL_EXCESSIVE_RUN_DECK = (("process", 2), ("thread", 3), ("overload", 5), ("tpfail", 10))
# "Health Check Thresholds", Thread count Warning band 50-80 (reported only above 50).
SEQUENTIAL_EXCESSIVE_THREADS = (51, 80)
# "Quick Diagnostics", Scenario 3 when the hang is silent: 3 of 20 runs of an otherwise
# healthy fleet deadlock without a word and are killed at the timeout.
DEADLOCK_RUN_DECK = (("process", 12), ("thread", 3), ("sequential", 2), ("deadlock", 3))
# "Performance Expectations", Normal Load: 6-8 samples on ProcessPool take ~2-4 s.
PROCESS_SECONDS_PER_SAMPLE = (0.3, 0.5)
# "Performance Expectations", High Load: ThreadPool 1.5-2x normal, Sequential 2-3x normal.
THREAD_SLOWDOWN = (1.5, 2.0)
SEQUENTIAL_SLOWDOWN = (2.0, 3.0)
# "Script Timeout": run_card.sh kills a run after 600 s; the overload check fires above 50.
RUN_TIMEOUT_SECONDS = 600
OVERLOAD_ABOVE = 50
# "Health Check Thresholds", Active threads per instance: < 15 healthy, > 25 "Resource
# leak?".  Snapshots of a steady instance stay under 12; a leaking one climbs 11 -> 34.
SNAPSHOT_STEADY_THREADS = (7, 11)
SNAPSHOT_LEAK_THREADS = (11, 34)
# poolwatch monitor's samples: a run's own thread count is the steady one of a snapshot,
# unless most of its tasks print "System overloaded" (then the count they report); a run
# on the ProcessPool ("3 workers", Normal Operation) has its workers beside it.
SAMPLED_STEADY_THREADS = SNAPSHOT_STEADY_THREADS
SAMPLED_WORKERS = 3
SAMPLED_RSS = (150_000_000, 420_000_000)  # bytes a run's process holds
# Monitoring script: CHECK_INTERVAL=60, alerts when Overload > 5 and Thread > 3, tail -100.
MONITOR_INTERVAL_SECONDS = 60
OVERLOAD_ALERT_ABOVE = 5
THREADPOOL_ALERT_ABOVE = 3
MONITOR_TAIL_LINES = 100

# --- Numbers taken from log-formats.md and run_batt.py ---------------------------------------

RUN_TASKS = 32  # -c -32: 32 randomly sampled ARC tasks per run
ARC_TASKS = 400  # -c 0: every ARC training task, in a fixed order
SAMPLE_TIMEOUT_SECONDS = 10.0  # -t 10.0
HOST_BASE_THREADS = 90  # ps -eLf | wc -l on a quiet small host
MANY_SAMPLES_SHARE = 0.12  # ARC tasks with many more demo/test samples than usual
TERM_MESSAGE_SHARE = 0.5  # killed runs whose console shows timeout --verbose's message
LATER_FORM_SHARE = 0.375  # instances echoing "Running: timeout -k 5s 600s python ..."
TIMING_SHARE = 0.25  # instances running with --timing
LOKY_WARNING_SHARE = 0.25  # instances whose run_batt.py warns that loky is missing
# "Each run states its own limits": a later version runs under `timeout -k 5s <2 x |count|>s`
# (64 s for -c -32; 0s, which GNU timeout reads as no limit, for -c 0) and reports overload
# above 40 threads.  Its 2 s a task only make sense if tasks take about half that: its
# samples score faster than the guide's 0.3-0.5 s (the --timing example ran in 5.4 s).
LATER_SECONDS_PER_TASK = 2
LATER_OVERLOAD_ABOVE = 40
LATER_SECONDS_PER_SAMPLE = (0.1, 0.25)
LATER_VERSION_SHARE = 0.5  # instances of a "mixed" fleet that run the later version
EXIT_AFTER_TASKS = (0, 2)  # tasks an out-of-memory run finishes before it gives up
EXIT_SECONDS = (0.3, 1.5)  # from its CRITICAL line to the process's end
EXIT_SEMLOCK_SHARE = 0.5  # exits after a pool existed that leak semlocks at shutdown
DEADLOCK_IN_SAMPLES_SHARE = 0.3  # deadlocks after some samples (else right after `-- <tid> -`)
SNAPSHOT_STYLES = ("active", "nlwp")  # `Active threads: <n>` loop, or `ps -o nlwp <PID>` blocks
SNAPSHOT_SLEEP_SECONDS = 30  # the operator's loop sleeps this long between snapshots
SNAPSHOT_MOST = 40  # snapshots per file at most: a longer window spaces them out
SNAPSHOT_FEWEST = 4  # snapshots per file at least: a short window packs them closer
SNAPSHOT_LOOP_LAG = (0.05, 0.3)  # seconds one loop iteration adds (python -c starting)
SNAPSHOT_TYPING = (0.5, 1.5)  # an operator typing ps by hand: the interval times this
PID_FIRST = (2000, 40000)  # PID of an instance's first python
PIDS_PER_ITERATION = 5  # processes one run_card.sh iteration forks (date, card.py, ...)

# --- Timing of one run_card.sh iteration (seconds) -------------------------------------------

CARD_SECONDS = (1.0, 3.0)  # card.py writes the solver module between `date` and python
STARTUP_SECONDS = (2.0, 4.5)  # run_batt.py imports and loads the ARC data
SHUTDOWN_SECONDS = (0.2, 0.8)  # after the last task, before the process exits
LOOP_GAP_SECONDS = (1.0, 4.0)  # from a run's end to the next `date`
KILLED_GAP_SECONDS = (0.1, 0.6)  # from the timeout's kill to the next `date`
HANG_AFTER_SECONDS = (20.0, 200.0)  # when a hanging run stops making progress
INSTANCE_STAGGER_SECONDS = (10.0, 240.0)  # start of each instance after the first
LIVE_AFTER = (30.0, 90.0)  # a live snapshot is taken this long after the latest run began
LIVE_MARGIN_SECONDS = 5.0  # a run ending this close to the snapshot is still the live one

# --- Executor decisions ----------------------------------------------------------------------

PATHS = ("process", "thread", "sequential")
_PROCESS, _THREAD, _SEQUENTIAL = 0, 1, 2
# Decision codes of one task, in run_batt.py's order of checks.
_D_PROCESS = 0  # ProcessPool, silent
_D_THREAD = 1  # ProcessPool failed, trying ThreadPool (which works)
_D_OVERLOAD = 2  # "System overloaded": skipped to sequential
_D_TPFAIL = 3  # ProcessPool failed, ThreadPool also failed: sequential
_D_PPSEQ = 4  # older wording: ProcessPool failed, falling back to sequential
_D_PARALLEL = 5  # any other exception: parallel execution failed, sequential
_D_RANK = (_PROCESS, _THREAD, _SEQUENTIAL, _SEQUENTIAL, _SEQUENTIAL, _SEQUENTIAL)
_DECISION_PHRASES = (
    "System overloaded",
    "ProcessPoolExecutor failed",
    "ThreadPoolExecutor also failed",
    "Parallel execution failed",
)

_P72, _P476, _P840 = "run_batt.py:72: ", "run_batt.py:476: ", "run_batt.py:840: "
_P402, _P419, _P428 = "run_batt.py:402: ", "run_batt.py:419: ", "run_batt.py:428: "
_P517, _P523, _P539 = "run_batt.py:517: ", "run_batt.py:523: ", "run_batt.py:539: "
_P591, _P625, _P647 = "run_batt.py:591: ", "run_batt.py:625: ", "run_batt.py:647: "
_P682, _P845, _P850 = "run_batt.py:682: ", "run_batt.py:845: ", "run_batt.py:850: "

_GPU_LINE = f"{_P72}GPU Support: Disabled (CuPy not available)\n"
_LOKY_LINE = (
    "Warning: loky not available, using standard ProcessPoolExecutor (may fail on closures)\n"
)
# The three ways run_batt.py gives up for want of memory (log-formats.md).
_EXIT_PROCESSPOOL = (
    "CRITICAL: MemoryError in CPU ProcessPoolExecutor. System out of memory. Exiting.\n"
)
_EXIT_THREADPOOL = (
    "CRITICAL: MemoryError in ThreadPoolExecutor fallback. System out of memory. Exiting.\n"
)
_EXIT_LOW_MEMORY = "System critically low on memory. Cannot create workers. Exiting.\n"
_EXIT_LINES = (_EXIT_PROCESSPOOL, _EXIT_THREADPOOL, _EXIT_LOW_MEMORY)
_TERM_LINE = "timeout: sending signal TERM to command 'python'\n"
_PYLIB = "/usr/lib/python3.11"
_APP = "/home/ubuntu/dsl/tokpidjin"

# Error texts, repeated to weight them; picked uniformly.
_PP_ERRORS = (
    *("OSError: [Errno 12] Cannot allocate memory",) * 6,
    *("MemoryError: ",) * 2,
    "RuntimeError: can't start new thread",
    "BrokenProcessPool: A process in the process pool was terminated abruptly while the "
    "future was running or pending.",
)
_TP_ERRORS = (*("can't start new thread",) * 5, "cannot schedule new futures after shutdown")
_PARALLEL_ERRORS = (
    "A process in the process pool was terminated abruptly while the future was running "
    "or pending.",
    "Can't pickle local object 'check_batt.<locals>.score_sample'",
    "cannot pickle '_thread.RLock' object",
)
_SAMPLE_ERRORS = (
    "IndexError: tuple index out of range",
    "ValueError: max() arg is an empty sequence",
    "TypeError: 'NoneType' object is not iterable",
    "ZeroDivisionError: division by zero",
)
# Candidate outputs per sample (mostly a few dozen, sometimes none, sometimes many), drawn
# once into a long fixed sequence; a task takes a slice at a random offset.
_OUTPUT_WEIGHTS = (*range(4, 64), *range(4, 64), *range(4, 64), *range(64, 181), 0, 1, 2, 3)
_OUTPUTS = tuple(random.Random(20251014).choices(_OUTPUT_WEIGHTS, k=1 << 16))
_OUTPUT_LINES = tuple(f"{k}\n" for k in _OUTPUTS)
_OUTPUT_SPAN = len(_OUTPUTS) - 32
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WARN = "\u26a0\ufe0f"  # warning sign emoji as the monitoring script holds it
_CROSS = "\u274c"  # cross mark emoji


@dataclass(frozen=True)
class RunTruth:
    """Ground truth of one simulated run, for checking a parser against what was written.

    ``exited``: ended by one of run_batt.py's out-of-memory exits, without a closing line.
    ``stuck_task``: the task id a hung run stopped in; ``silent``: it hung without a word
    (no thread-exhaustion line).  ``version`` is the run_batt.py it ran ("first" or "later")
    with that version's limits: ``timeout_seconds`` (None: no limit) and ``overload_above``
    (the thread count it reports overload above).  ``stderr_lines``: its lines that only
    the console shows (tracebacks, warnings, timeout's message), never the run log.
    """

    instance: str
    run: int
    console: str
    started_at: datetime
    seconds: float
    path: str
    tasks: int
    overloads: int
    processpool_failed: int
    threadpool_failed: int
    parallel_failed: int
    sample_timeouts: int
    sample_failures: int
    killed: bool
    hang: bool
    incomplete: bool
    max_threads: int | None
    exited: bool
    stuck_task: str | None
    silent: bool
    version: str
    timeout_seconds: int | None
    overload_above: int
    stderr_lines: int


@dataclass(frozen=True)
class SnapshotTruth:
    """Ground truth of one pasted thread-snapshot file: whose threads, when, how many.

    ``style`` is "active" (a loop of ``date`` and ``Active threads: <n>``) or "nlwp"
    (``$ date; ps -o nlwp <PID>`` blocks); ``leak`` marks the instance whose count climbs.
    """

    instance: str
    file: str
    style: str
    taken_at: tuple[datetime, ...]
    threads: tuple[int, ...]
    leak: bool


@dataclass(frozen=True)
class SimulationResult:
    """Files written by one simulation, their total size and line count, every run, and
    the thread snapshots if any were pasted."""

    files: tuple[Path, ...]
    bytes: int
    lines: int
    runs: tuple[RunTruth, ...]
    snapshots: tuple[SnapshotTruth, ...] = ()


# --- Scenario profiles -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Recipe:
    """How a kind of run spreads executor decisions over its tasks."""

    forced: tuple[tuple[int, int, int], ...] = ()  # (decision, fewest, most) on random tasks
    background: tuple[tuple[int, float], ...] = ()  # (decision, chance) for every task


@dataclass(frozen=True)
class _Profile:
    """Everything that distinguishes one scenario from another."""

    deck: tuple[tuple[str, int], ...]  # run kinds per 20 runs, dealt from shuffled decks
    recipes: Mapping[str, _Recipe]
    overload_threads: tuple[int, int]
    sample_timeout: float = 0.0
    sample_failure: float = 0.0
    special_failure: str = ""  # "failed due to <this>" sample lines
    special_failure_share: float = 0.0
    retry: float = 0.0  # chance per sample of a recovered thread-creation failure
    noise: float = 0.0  # chance per run of a stray traceback on stderr
    noise_kind: str = "teardown"  # which: a thread's teardown, or "memory" running out
    semlock: float = 0.0  # chance that a run with ProcessPool failures leaks semlocks
    host_threads: int = 12  # ps -eLf threads per running instance
    unavailable: float = 0.005  # chance that a monitor value reads N/A
    monitor_lag: tuple[float, float] = (0.1, 0.6)  # seconds one monitor pass takes
    mix: tuple[tuple[str, int], ...] = ()  # (kind, percent) the whole fleet holds, if no deck


_HEALTHY_RECIPES = {
    "process": _Recipe(),
    "thread": _Recipe(forced=((_D_THREAD, 1, 2),)),
    "sequential": _Recipe(forced=((_D_OVERLOAD, 2, 4),)),
}
_OVERLOADED_RECIPE = _Recipe(
    background=((_D_OVERLOAD, OVERLOADED_TASK_SHARE), (_D_THREAD, 1 - OVERLOADED_TASK_SHARE))
)
_PROFILES: dict[str, _Profile] = {
    "healthy": _Profile(
        deck=(),
        recipes=_HEALTHY_RECIPES,
        overload_threads=HEALTHY_OVERLOAD_THREADS,
        sample_failure=0.003,
        mix=HEALTHY_MIX,
    ),
    "overloaded": _Profile(
        deck=(),
        recipes={
            "overloaded": _OVERLOADED_RECIPE,
            "overloaded-tp": _Recipe(
                forced=((_D_TPFAIL, 2, 4),),
                background=(
                    (_D_OVERLOAD, OVERLOADED_TP_INSTANCE_SHARE),
                    (_D_TPFAIL, 1 - OVERLOADED_TP_INSTANCE_SHARE),
                ),
            ),
            "hang": _OVERLOADED_RECIPE,
        },
        overload_threads=OVERLOADED_THREADS,
        sample_timeout=0.02,
        sample_failure=0.003,
        special_failure="nested thread exhaustion (in call_with_timeout)",
        special_failure_share=0.01,
        retry=0.01,
        noise=0.1,
        host_threads=45,
        unavailable=0.03,
        monitor_lag=(0.3, 2.0),
    ),
    "memory-pressure": _Profile(
        deck=MEMORY_PRESSURE_RUN_DECK,
        recipes={
            "process": _Recipe(),
            "thread": _Recipe(forced=((_D_THREAD, 2, 8),)),
            "sequential": _Recipe(
                forced=((_D_THREAD, 1, 4), (_D_PPSEQ, 1, 2)),
                background=((_D_TPFAIL, 0.03), (_D_PARALLEL, 0.02)),
            ),
            "exit": _Recipe(forced=((_D_THREAD, 1, 3),)),
        },
        overload_threads=HEALTHY_OVERLOAD_THREADS,
        sample_timeout=0.01,
        sample_failure=0.003,
        special_failure="MemoryError",
        special_failure_share=0.02,
        noise=0.15,
        noise_kind="memory",
        semlock=0.5,
        host_threads=14,
    ),
    "timeouts": _Profile(
        deck=TIMEOUTS_RUN_DECK,
        recipes={
            **_HEALTHY_RECIPES,
            "hang": _Recipe(background=((_D_OVERLOAD, 0.25),)),
            "long": _Recipe(background=((_D_THREAD, 0.01),)),
        },
        overload_threads=TIMEOUTS_OVERLOAD_THREADS,
        sample_timeout=0.03,
        sample_failure=0.003,
        retry=0.005,
        host_threads=15,
    ),
    "sequential-excessive": _Profile(
        deck=SEQUENTIAL_EXCESSIVE_RUN_DECK,
        recipes={
            "process": _Recipe(),
            "thread": _Recipe(forced=((_D_THREAD, 1, 3),)),
            "overload": _Recipe(forced=((_D_OVERLOAD, 4, 16),), background=((_D_THREAD, 0.05),)),
            "tpfail": _Recipe(
                forced=((_D_TPFAIL, 2, 6),),
                background=((_D_OVERLOAD, 0.3), (_D_THREAD, 0.05)),
            ),
        },
        overload_threads=SEQUENTIAL_EXCESSIVE_THREADS,
        sample_timeout=0.02,
        sample_failure=0.003,
        special_failure="nested thread exhaustion (in call_with_timeout)",
        special_failure_share=0.01,
        retry=0.01,
        noise=0.05,
        host_threads=30,
        unavailable=0.01,
    ),
    "deadlock": _Profile(
        deck=DEADLOCK_RUN_DECK,
        recipes={**_HEALTHY_RECIPES, "deadlock": _Recipe()},
        overload_threads=HEALTHY_OVERLOAD_THREADS,
        sample_failure=0.003,
        host_threads=13,
    ),
    # The logs that need a report are dense (log-formats.md, "Degraded runs are dense"):
    # the guide's mix, but a ThreadPool run fell back on every task and a sequential run
    # was overloaded on every task, next to sample timeouts.
    "degraded": _Profile(
        deck=(),
        recipes={
            "process": _Recipe(),
            "thread": _Recipe(background=((_D_THREAD, 1.0),)),
            "sequential": _Recipe(background=((_D_OVERLOAD, 1.0),)),
        },
        overload_threads=TIMEOUTS_OVERLOAD_THREADS,
        sample_timeout=DEGRADED_SAMPLE_TIMEOUT,
        sample_failure=0.003,
        host_threads=20,
        mix=HEALTHY_MIX,
    ),
}


@dataclass(frozen=True)
class _Version:
    """The limits one version of run_card.sh and run_batt.py works under, and its speed."""

    name: str
    overload_above: int  # "System overloaded" is printed above this many threads
    seconds_per_task: int  # the timeout per task of -c; 0: RUN_TIMEOUT_SECONDS, whatever -c
    sample_seconds: tuple[float, float]  # seconds one sample takes on the ProcessPool

    def timeout(self, count: int) -> int:
        """The timeout's limit for ``-c count``, in seconds (0: none, as GNU timeout reads it)."""
        return self.seconds_per_task * abs(count) if self.seconds_per_task else RUN_TIMEOUT_SECONDS


_FIRST = _Version("first", OVERLOAD_ABOVE, 0, PROCESS_SECONDS_PER_SAMPLE)
_LATER = _Version("later", LATER_OVERLOAD_ABOVE, LATER_SECONDS_PER_TASK, LATER_SECONDS_PER_SAMPLE)


def _roles(scenario: str, instances: int) -> list[str]:
    """Run kind fixed per instance ("deck": drawn per run), after the guide's instance tables."""
    roles = ["deck"] * instances
    if scenario == "overloaded":
        roles = ["overloaded"] * instances
        if instances >= 2:  # "Instance 6: Timeout after 10 minutes"
            roles[5 if instances > 5 else instances - 1] = "hang"
        if instances >= 3:  # "Instance 3: ThreadPoolExecutor fails, sequential"
            roles[2 if instances > 3 else instances - 2] = "overloaded-tp"
    elif scenario == "timeouts" and instances >= 2:
        roles[5 if instances > 5 else instances - 1] = "long"
    return roles


# --- Static pieces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _ArcTask:
    """One ARC task with its fixed demo and test samples, and its precomputed line prefixes."""

    tid: str
    head: str  # "-- <tid> - "
    progress: tuple[str, ...]  # "run_batt.py:428: demo[0] - <tid> - ", one per sample
    kinds: tuple[str, ...]  # "demo[0]", one per sample
    samples: int
    cache: dict[int, tuple[str, str, str, str]] = field(default_factory=dict, compare=False)

    def fixed(self, i: int) -> tuple[str, str, str, str]:
        """Its start, header and scored lines and its done-line prefix at run index ``i``."""
        found = self.cache.get(i)
        if found is None:
            h = self.head
            found = (
                f"{_P840}{h}{i} start --\n",
                f"{_P476}{h}{i} --\n",
                f"{_P845}{h}{i} scored --\n",
                f"{_P850}{h}{i} done - ",
            )
            self.cache[i] = found
        return found


def _arc_tasks(rng: random.Random) -> tuple[_ArcTask, ...]:
    """The fixed ARC training set the fleet samples from, with 8-hex-digit task ids."""
    seen: set[str] = set()
    tasks: list[_ArcTask] = []
    while len(tasks) < ARC_TASKS:
        tid = f"{rng.getrandbits(32):08x}"
        if tid in seen:
            continue
        seen.add(tid)
        if rng.random() < MANY_SAMPLES_SHARE:
            demo, test = rng.randint(6, 10), rng.randint(2, 3)
        else:
            demo, test = rng.randint(3, 5), 1 if rng.random() < 0.7 else 2
        kinds = (*(f"demo[{k}]" for k in range(demo)), *(f"test[{k}]" for k in range(test)))
        progress = tuple(f"{_P428}{kind} - {tid} - " for kind in kinds)
        tasks.append(_ArcTask(tid, f"-- {tid} - ", progress, kinds, demo + test))
    return tuple(tasks)


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    """One of the options, uniformly."""
    return options[int(rng.random() * len(options))]


def _uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    """A uniform draw between the two bounds."""
    return bounds[0] + (bounds[1] - bounds[0]) * rng.random()


def _date_line(epoch: float) -> str:
    """What `date` prints in UTC (``%a %b %e %H:%M:%S %Z %Y``), newline included."""
    d = datetime.fromtimestamp(epoch // 1, UTC)
    return f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:>2} {d:%H:%M:%S} UTC {d.year}\n"


def _traceback(kind: int) -> str:
    """A Python traceback the fleet prints when it runs out of threads."""
    if kind == 0:
        return (
            "Traceback (most recent call last):\n"
            f'  File "{_APP}/utils.py", line 326, in call_with_timeout\n'
            "    thread.start()\n"
            f'  File "{_PYLIB}/threading.py", line 964, in start\n'
            "    _start_new_thread(self._bootstrap, ())\n"
            "RuntimeError: can't start new thread\n"
        )
    return (
        "Traceback (most recent call last):\n"
        f'  File "{_APP}/run_batt.py", line 605, in check_batt\n'
        "    future = executor.submit(score_sample, args)\n"
        f'  File "{_PYLIB}/concurrent/futures/thread.py", line 176, in submit\n'
        "    self._adjust_thread_count()\n"
        f'  File "{_PYLIB}/concurrent/futures/thread.py", line 199, in _adjust_thread_count\n'
        "    t.start()\n"
        f'  File "{_PYLIB}/threading.py", line 964, in start\n'
        "    _start_new_thread(self._bootstrap, ())\n"
        "RuntimeError: can't start new thread\n"
    )


def _teardown_noise(ident: int, number: int) -> str:
    """The traceback a worker thread leaves when the interpreter loses track of it."""
    return (
        "Exception ignored in thread started by: <bound method Thread._bootstrap of "
        f"<Thread(Thread-{number} (worker), stopped daemon {ident})>>\n"
        "Traceback (most recent call last):\n"
        f'  File "{_PYLIB}/threading.py", line 1002, in _bootstrap\n'
        "    self._bootstrap_inner()\n"
        f'  File "{_PYLIB}/threading.py", line 1049, in _bootstrap_inner\n'
        "    self._delete()\n"
        f'  File "{_PYLIB}/threading.py", line 1081, in _delete\n'
        "    del _active[get_ident()]\n"
        "        ~~~~~~~^^^^^^^^^^^^^\n"
        f"KeyError: {ident}\n"
    )


def _memory_traceback() -> str:
    """The traceback the ProcessPool's manager thread leaves when memory runs out."""
    return (
        "Exception in thread ExecutorManagerThread:\n"
        "Traceback (most recent call last):\n"
        f'  File "{_PYLIB}/threading.py", line 1045, in _bootstrap_inner\n'
        "    self.run()\n"
        f'  File "{_PYLIB}/concurrent/futures/process.py", line 342, in run\n'
        "    self.add_call_item_to_queue()\n"
        f'  File "{_PYLIB}/multiprocessing/queues.py", line 94, in put\n'
        "    self._start_thread()\n"
        "MemoryError\n"
    )


def _noise(rng: random.Random, kind: str) -> str:
    """A stray stderr traceback of the given kind ("teardown" or "memory")."""
    if kind == "memory":
        return _memory_traceback()
    return _teardown_noise(rng.getrandbits(47), rng.randint(200, 4000))


def _semlock_leak(count: int) -> str:
    """The resource tracker's warning at shutdown after ProcessPool trouble."""
    return (
        f"{_PYLIB}/multiprocessing/resource_tracker.py:254: UserWarning: resource_tracker: "
        f"There appear to be {count} leaked semlock objects to clean up at shutdown\n"
        "  warnings.warn('resource_tracker: There appear to be %d '\n"
    )


def _timing_block(rng: random.Random, seconds: float) -> str:
    """run_batt.py's ``--timing`` report, whose main.run_batt row is the run's seconds."""
    check = seconds * _uniform(rng, (0.8, 0.95))
    rows = {
        "main.run_batt": seconds,
        "run_batt.check_batt": check,
        "batt.demo.run_with_timeout": check * _uniform(rng, (0.55, 0.75)),
        "batt.test.run_with_timeout": check * _uniform(rng, (0.1, 0.2)),
        "utils.inline_variables": seconds * _uniform(rng, (0.005, 0.02)),
    }
    ordered = sorted(rows.items(), key=lambda kv: kv[1], reverse=True)
    return "\nTiming summary (seconds):\n" + "".join(f"  {k:32s} {v:8.3f}\n" for k, v in ordered)


# --- One run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
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


class _Run:
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
        self, rng: random.Random, profile: _Profile, recipe: _Recipe, version: _Version, count: int
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
        codes = [_D_PROCESS] * tasks
        if self.recipe.background:
            edges: list[float] = []
            chosen: list[int] = []
            for code, chance in self.recipe.background:
                edges.append((edges[-1] if edges else 0.0) + chance)
                chosen.append(code)
            chosen.append(_D_PROCESS)
            r = rng.random
            codes = [chosen[bisect_right(edges, r())] for _ in range(tasks)]
        for code, fewest, most in self.recipe.forced:
            for i in rng.sample(range(tasks), min(tasks, rng.randint(fewest, most))):
                codes[i] = code
        return codes

    def decision(self, code: int) -> int:
        """Appends the executor decision lines for one task and returns its path rank."""
        lines, rng = self.lines, self.rng
        if code == _D_OVERLOAD:
            threads = rng.randint(*self.overload_range)
            self.overloads.append(len(lines))
            self.overload_threads.append(threads)
            lines.append(
                f"{_P539}-- System overloaded ({threads} threads), using sequential processing\n"
            )
        elif code == _D_PARALLEL:
            self.parallel_failed.append(len(lines))
            error = _pick(rng, _PARALLEL_ERRORS)
            lines.append(
                f"{_P647}-- Parallel execution failed ({error}), falling back to sequential\n"
            )
        elif code == _D_PPSEQ:
            self.pp_failed.append(len(lines))
            lines.append(
                f"{_P591}-- ProcessPoolExecutor failed ([Errno 12] Cannot allocate memory), "
                "falling back to sequential\n"
            )
        else:
            self.processpool_failure(_pick(rng, _PP_ERRORS))
            if code == _D_TPFAIL:
                self.tp_failed.append(len(lines))
                error = _pick(rng, _TP_ERRORS)
                lines.append(
                    f"{_P625}-- ThreadPoolExecutor also failed ({error}), "
                    "using sequential processing\n"
                )
        return _D_RANK[code]

    def processpool_failure(self, error: str) -> None:
        """Appends a ProcessPool failure that retries on a ThreadPool."""
        self.pp_failed.append(len(self.lines))
        self.lines.append(
            f"{_P591}-- ProcessPoolExecutor failed ({error}), trying ThreadPoolExecutor\n"
        )

    def task(self, task: _ArcTask, i: int, code: int) -> None:
        """Appends one whole task (start, decision, samples, scoring, done) and advances time."""
        lines, r = self.lines, self.rng.random
        start, header, scored, done = task.cache.get(i) or task.fixed(i)
        n = task.samples
        self.starts.append(len(lines))
        lines.append(start)
        lines.append(header)
        rank = self.decision(code) if code else _PROCESS
        self.decided.append(len(lines) - 1)
        self.ranks.append(rank)
        at = int(r() * _OUTPUT_SPAN)  # this task's candidate counts: a slice of the pool
        x = r() / self.p_bad if self.p_bad else n
        if x < n:
            outputs, timeouts = self.odd_sample(task, rank, at, x)
        else:
            outputs, timeouts = sum(_OUTPUTS[at : at + n]), 0
            lines.extend(map(add, task.progress, _OUTPUT_LINES[at : at + n]))
        u, v = r(), r()
        diffs = int(outputs * (0.2 + 0.5 * u))
        lines.append(
            f"{_P682}-- Demo+Test scoring: {outputs} outputs, {int(v * v * 5)} matches, "
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

    def odd_sample(self, task: _ArcTask, rank: int, at: int, x: float) -> tuple[int, int]:
        """Appends the progress lines of a task with one sample timed out, failed or retried."""
        rng = self.rng
        n = task.samples
        block = list(map(add, task.progress, _OUTPUT_LINES[at : at + n]))
        total = sum(_OUTPUTS[at : at + n])
        j = int(x)
        what = bisect_right(self.bad_edges, x - j)
        where = len(self.lines) + j
        kind = task.kinds[j]
        if what == 0:
            self.timeouts.append(where)
            block[j] = f"{_P419}{task.head}{kind} timed out\n"
        elif what == 1:
            self.failures.append(where)
            block[j] = f"{_P517}{task.head}{kind} failed: {_pick(rng, _SAMPLE_ERRORS)}\n"
        elif what == 2:
            self.failures.append(where)
            block[j] = f"{_P523}{task.head}{kind} failed due to {self.profile.special_failure}\n"
        else:
            block.insert(j, _retry_line(task, kind, rank))
        if what < 3:
            total -= _OUTPUTS[at + j]
        self.lines.extend(block)
        return total, int(what == 0)

    def degraded_seconds(self, seconds: float, rank: int, timeouts: int) -> float:
        """A task's time after the guide's slowdowns and the sample timeouts it waited for."""
        r = self.rng.random
        if rank:
            low, high = THREAD_SLOWDOWN if rank == _THREAD else SEQUENTIAL_SLOWDOWN
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

    def counts(self, kept: int, partial: str | None = None) -> _Counts:
        """Counts of the events visible in the first ``kept`` lines, the last maybe ``partial``."""
        whole = kept if partial is None else kept - 1

        def seen(events: list[int], phrase: str) -> int:
            """How many of the events are visible, the cut line only if its phrase survived."""
            n = bisect_left(events, whole)
            cut_here = partial is not None and n < len(events) and events[n] == whole
            return n + (cut_here and phrase in (partial or ""))

        return _Counts(
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
        path = max(self.ranks[:n], default=_PROCESS)
        if partial is None or n == len(self.decided):
            return path
        if self.decided[n] == whole and any(phrase in partial for phrase in _DECISION_PHRASES):
            return max(path, self.ranks[n])
        if whole in self.tp_failed or (whole in self.pp_failed and "ProcessPool" in partial):
            return max(path, _THREAD)  # its ProcessPool failure shows, not what came next
        return path

    def text(self, kept: int, cut: bool) -> tuple[str, str | None]:
        """The first ``kept`` lines, and the last one cut in half if the run was interrupted."""
        if not cut:
            return "".join(self.lines[:kept]), None
        last = self.lines[kept - 1].rstrip("\n")
        partial = last[: max(1, int(len(last) * _uniform(self.rng, (0.3, 0.8))))]
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


def _retry_line(task: _ArcTask, kind: str, rank: int) -> str:
    """A sample's recovered (or not) thread-creation failure, as the worker prints it."""
    where = " (ThreadPool fallback)" if rank == _THREAD else ""
    return f"{_P402}{task.head}{kind} thread creation failed{where}, retrying with backoff...\n"


# --- Kinds of run ----------------------------------------------------------------------------


def _add_block(run: _Run, block: str, *, stderr: bool = False) -> None:
    """Appends a multi-line block (traceback, timing report) one physical line at a time;
    ``stderr`` for Python's noise, which reaches the console only."""
    lines = block.splitlines(keepends=True)
    if stderr:
        run.stderr.extend(range(len(run.lines), len(run.lines) + len(lines)))
    run.lines.extend(lines)


def _begin(run: _Run, loky: bool) -> None:
    """Appends the start-up lines of run_batt.py and the time its imports take."""
    run.lines.append(_GPU_LINE)
    if loky:
        run.lines.append(_LOKY_LINE)
    run.clock = _uniform(run.rng, STARTUP_SECONDS)
    run.mark()


def _finish(run: _Run, tasks: int, timing: bool) -> float:
    """Appends the closing line (and timing and shutdown noise); returns the run's seconds."""
    rng = run.rng
    run.closing = len(run.lines)
    run.lines.append(f"{tasks} tasks - {len(run.timeouts)} timeouts\n")
    run.clock += _uniform(rng, SHUTDOWN_SECONDS)
    seconds = round(run.clock, 3)
    if timing:
        _add_block(run, _timing_block(rng, seconds))
    leak_chance = run.profile.semlock if run.pp_failed else run.profile.semlock / 10
    if rng.random() < leak_chance:
        _add_block(run, _semlock_leak(rng.randint(1, 12)), stderr=True)
    run.mark()
    return seconds


def _complete_run(run: _Run, tasks: list[_ArcTask], timing: bool) -> float:
    """A -c -32 run that finishes normally; returns its seconds."""
    rng = run.rng
    codes = run.plan(RUN_TASKS)
    noise_at = rng.randrange(RUN_TASKS) if rng.random() < run.profile.noise else -1
    for i in range(RUN_TASKS):
        run.task(tasks[i], i, codes[i])
        if i == noise_at:
            _add_block(run, _noise(rng, run.profile.noise_kind), stderr=True)
    return _finish(run, RUN_TASKS, timing)


def _exit_run(run: _Run, tasks: list[_ArcTask]) -> float:
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
    message = _pick(rng, _EXIT_LINES)
    if message == _EXIT_THREADPOOL:  # the ProcessPool failed first, then its fallback
        run.processpool_failure("MemoryError: ")
    run.decided.append(len(run.lines) - 1)
    run.ranks.append(_THREAD if message == _EXIT_THREADPOOL else _PROCESS)
    run.exit_line = len(run.lines)
    run.lines.append(message)
    if message != _EXIT_LOW_MEMORY and rng.random() < EXIT_SEMLOCK_SHARE:
        _add_block(run, _semlock_leak(rng.randint(3, 12)), stderr=True)
    run.clock += _uniform(rng, EXIT_SECONDS)
    run.mark()
    return round(run.clock, 3)


def _work_until_stuck(run: _Run, tasks: list[_ArcTask]) -> tuple[list[int], int]:
    """Appends the tasks a hanging run finishes (for HANG_AFTER_SECONDS, scaled to its
    limit); returns its decision codes and the index of the task it gets stuck in."""
    codes = run.plan(RUN_TASKS)
    scale = run.limit / RUN_TIMEOUT_SECONDS
    low, high = HANG_AFTER_SECONDS
    hang_after = _uniform(run.rng, (low * scale, high * scale))
    i = 0
    while i < RUN_TASKS - 1 and run.clock < hang_after:
        run.task(tasks[i], i, codes[i])
        i += 1
    return codes, i


def _hang_run(run: _Run, tasks: list[_ArcTask]) -> float:
    """A run that hangs on thread creation and is killed at the timeout; returns its seconds."""
    codes, i = _work_until_stuck(run, tasks)
    _hanging_task(run, tasks[i], i, codes[i])
    run.killed = run.hang = True
    return run.limit


def _deadlock_run(run: _Run, tasks: list[_ArcTask]) -> float:
    """A run that deadlocks without a word in the middle of a task, killed at the timeout."""
    rng = run.rng
    _, i = _work_until_stuck(run, tasks)
    task = tasks[i]
    run.stuck_task, run.stuck_line = task.tid, len(run.lines)
    run.starts.append(len(run.lines))
    run.lines.extend(task.fixed(i)[:2])
    if rng.random() < DEADLOCK_IN_SAMPLES_SHARE:
        for k in range(rng.randrange(1, task.samples)):
            run.lines.append(task.progress[k] + _pick(rng, _OUTPUT_LINES))
    run.clock += _uniform(rng, (0.5, 5.0))
    run.mark()
    run.killed = run.hang = run.silent = True
    return run.limit


def _hanging_task(run: _Run, task: _ArcTask, i: int, code: int) -> None:
    """Appends a task that starts, fails to create threads, retries, and never finishes."""
    rng, lines = run.rng, run.lines
    run.stuck_task, run.stuck_line = task.tid, len(lines)
    run.starts.append(len(lines))
    lines.extend(task.fixed(i)[:2])
    rank = run.decision(code) if code else _PROCESS
    run.decided.append(len(lines) - 1)
    run.ranks.append(rank)
    stuck = rng.randrange(task.samples)
    for k in range(stuck):
        lines.append(task.progress[k] + _pick(rng, _OUTPUT_LINES))
    retry = _retry_line(task, task.kinds[stuck], rank)
    lines.extend([retry] * rng.randint(2, 4))
    _add_block(run, _traceback(rng.randrange(2)), stderr=True)
    if rng.random() < 0.5:
        lines.append(retry)
    run.clock += _uniform(rng, (5.0, 30.0))
    run.mark()


def _long_run(run: _Run, arc: tuple[_ArcTask, ...], timing: bool) -> float:
    """A -c 0 batch over every ARC task, progressing steadily until the timeout kills it."""
    codes = run.plan(ARC_TASKS)
    for i in range(ARC_TASKS):
        run.task(arc[i], i, codes[i])
        if run.clock >= run.limit:
            run.killed = True
            return run.limit
    return _finish(run, ARC_TASKS, timing)


# --- The fleet -------------------------------------------------------------------------------


@dataclass
class _TailRun:
    """What the monitor's ``tail -100`` needs of one run of a lone instance."""

    python_start: float
    marks_t: list[float]
    marks_n: list[int]
    kept: int
    processpool_failed: list[int]
    threadpool_failed: list[int]
    overloads: list[int]


@dataclass
class _Instance:
    """One run_card.sh loop: its files, its habits and where its clock stands."""

    number: int
    iid: str
    role: str
    rng: random.Random
    later_form: bool
    timing: bool
    loky: bool
    clock: float  # seconds after start of its next `date` line
    first_start: float
    console_path: Path
    version: _Version = _FIRST
    end: float = 0.0
    runs: int = 0
    pending: str = ""  # console text owed before the next `date` line
    run_log_text: str = ""  # tee's copy of its latest run
    run_starts: list[float] = field(default_factory=list)  # when each run's python started
    tail: list[_TailRun] = field(default_factory=list)
    tail_starts: list[float] = field(default_factory=list)
    queue: list[_ArcTask] = field(default_factory=list)  # ARC tasks not yet dealt

    @property
    def console(self) -> str:
        """File name of its console log."""
        return self.console_path.name

    @property
    def run_log(self) -> str:
        """File name of its run log (tee's copy of the latest run)."""
        return f"tmp_batt_{self.iid}_run.log"

    @property
    def snapshot_file(self) -> str:
        """File name of the thread snapshots an operator pasted for it."""
        return f"threads_tmp_batt_{self.iid}.txt"

    def header(self, count: int) -> str:
        """What run_card.sh echoes after `date` for one iteration."""
        command = (
            f"timeout -k 5s {self.version.timeout(count)}s python run_batt.py"
            if self.later_form
            else "python run_batt.py"
        )
        return (
            "=== NO GPU - CPU MODE ===\n"
            "Card.py: Generating standard batt for CPU\n"
            "Timeout: 10.0s\n"
            f"Generating batt: python card.py -c 32 -f tmp_batt_{self.iid}_run.py\n"
            f"Running: {command} -t 10.0 -c {count} -b tmp_batt_{self.iid}_run\n"
        )


class _Writer:
    """Appends text to files in large writes, counting bytes and lines."""

    FLUSH_BYTES = 1 << 20

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        """Starts with no files; ``progress`` receives the size of every write."""
        self.progress = progress
        self.files: list[Path] = []
        self.pending: dict[Path, list[bytes]] = {}
        self.pending_size: dict[Path, int] = {}
        self.ends_open: dict[Path, bool] = {}
        self.bytes = 0
        self.lines = 0

    def create(self, path: Path) -> None:
        """Truncates (or creates) one file and starts tracking it."""
        path.write_bytes(b"")
        self.files.append(path)
        self.pending[path] = []
        self.pending_size[path] = 0
        self.ends_open[path] = False

    def append(self, path: Path, text: str) -> None:
        """Queues text for one file, writing once enough has piled up."""
        if not text:
            return
        data = text.encode("utf-8")
        self.bytes += len(data)
        self.lines += data.count(b"\n")
        self.ends_open[path] = not data.endswith(b"\n")
        self.pending[path].append(data)
        self.pending_size[path] += len(data)
        if self.pending_size[path] >= self.FLUSH_BYTES:
            self.flush(path)

    def flush(self, path: Path) -> None:
        """Writes what is queued for one file."""
        data = b"".join(self.pending[path])
        if data:
            with path.open("ab") as handle:
                handle.write(data)
            if self.progress is not None:
                self.progress(len(data))
        self.pending[path] = []
        self.pending_size[path] = 0

    def close(self) -> None:
        """Writes everything still queued and counts unfinished last lines."""
        for path in self.files:
            self.flush(path)
        self.lines += sum(self.ends_open.values())


@dataclass
class _Deck:
    """Run kinds dealt from shuffled decks, so a scenario's mix holds at every size."""

    cards: tuple[str, ...]
    rng: random.Random
    hand: list[str] = field(default_factory=list)

    def draw(self) -> str:
        """The next run kind."""
        if not self.hand:
            self.hand = list(self.cards)
            self.rng.shuffle(self.hand)
        return self.hand.pop()


@dataclass
class _QuotaDeck:
    """Run kinds dealt so that the whole fleet holds a mix of percentages as closely as its
    run count allows, each degraded kind never above its share (rounded down).

    The runs of the fixed rounds are one shuffled hand holding exactly that; runs beyond
    them (``size_bytes``, ``live``) are dealt one at a time, a degraded kind whenever the
    count so far owes it a run: at random soon after, at once when it owes two.
    """

    mix: tuple[tuple[str, int], ...]  # (kind, percent); the first kind takes the rest
    rng: random.Random
    hand: list[str]
    dealt: dict[str, int]
    runs: int = 0

    @classmethod
    def shuffled(
        cls, mix: tuple[tuple[str, int], ...], runs: int, rng: random.Random
    ) -> _QuotaDeck:
        """A deck whose first ``runs`` cards hold the mix, in an order drawn from ``rng``."""
        hand = [kind for kind, percent in mix[1:] for _ in range(runs * percent // 100)]
        hand += [mix[0][0]] * (runs - len(hand))
        rng.shuffle(hand)
        return cls(mix, rng, hand, dict.fromkeys((kind for kind, _ in mix), 0))

    def draw(self) -> str:
        """The next run kind."""
        self.runs += 1
        kind = self.hand.pop() if self.hand else self.owed()
        self.dealt[kind] += 1
        return kind

    def owed(self) -> str:
        """The degraded kind most owed, if it is its turn, else the first kind."""
        most, chosen = 0, self.mix[0][0]
        for kind, percent in self.mix[1:]:
            owes = self.runs * percent // 100 - self.dealt[kind]
            if owes > most:
                most, chosen = owes, kind
        if most >= 2 or (most == 1 and self.rng.random() < CATCH_UP_CHANCE):
            return chosen
        return self.mix[0][0]


@dataclass
class _Fleet:
    """All instances of one simulation and what they have written so far."""

    profile: _Profile
    epoch0: float
    out: Path
    arc: tuple[_ArcTask, ...]
    deck: _Deck | _QuotaDeck
    instances: list[_Instance]
    monitor_rng: random.Random
    writer: _Writer
    extra_rng: random.Random  # for what a default simulation lacks (versions, snapshots)
    truths: list[RunTruth] = field(default_factory=list)


def _instance_id(rng: random.Random, taken: set[str]) -> str:
    """A fresh mktemp-style id of 6 letters and digits."""
    while True:
        iid = "".join(rng.choices(_ID_CHARS, k=6))
        if iid not in taken:
            taken.add(iid)
            return iid


def _chosen(rng: random.Random, count: int, share: float) -> set[int]:
    """Exactly round(count * share) distinct instance indices."""
    return set(rng.sample(range(count), round(count * share)))


def _make_fleet(
    scenario: str,
    count: int,
    seed: int,
    *,
    rounds: int,
    version: str,
    epoch0: float,
    writer: _Writer,
    out: Path,
) -> _Fleet:
    """Instances with ids, habits, versions and staggered start times, all from the seed.

    ``rounds`` is how many runs each instance makes before any is added for size or live.
    """
    master = random.Random(seed)
    arc = _arc_tasks(random.Random(master.getrandbits(64)))
    profile = _PROFILES[scenario]
    deck_rng = random.Random(master.getrandbits(64))
    deck: _Deck | _QuotaDeck
    if profile.mix:
        deck = _QuotaDeck.shuffled(profile.mix, count * rounds, deck_rng)
    else:
        deck = _Deck(tuple(kind for kind, n in profile.deck for _ in range(n)), deck_rng)
    monitor_rng = random.Random(master.getrandbits(64))
    later = _chosen(master, count, LATER_FORM_SHARE)
    timing = _chosen(master, count, TIMING_SHARE)
    loky = _chosen(master, count, LOKY_WARNING_SHARE)
    taken: set[str] = set()
    instances = []
    for k, role in enumerate(_roles(scenario, count)):
        first = _uniform(master, (1.0, 10.0) if k == 0 else INSTANCE_STAGGER_SECONDS)
        rng = random.Random(master.getrandbits(64))
        iid = _instance_id(master, taken)
        habits = (k in later, k in timing, k in loky)
        console = out / f"run_card_{k + 1}.log"
        instances.append(
            _Instance(
                k + 1, iid, role, rng, *habits, clock=first, first_start=first, console_path=console
            )
        )
    extra_rng = random.Random(master.getrandbits(64))
    for k in _later_instances(extra_rng, count, version):
        instances[k].version, instances[k].later_form = _LATER, True
    return _Fleet(profile, epoch0, out, arc, deck, instances, monitor_rng, writer, extra_rng)


def _later_instances(rng: random.Random, count: int, version: str) -> set[int]:
    """Indices of the instances that run the later version of run_batt.py."""
    if version == "later":
        return set(range(count))
    return _chosen(rng, count, LATER_VERSION_SHARE) if version == "mixed" else set()


def _build(fleet: _Fleet, inst: _Instance) -> tuple[_Run, float, int]:
    """Builds the next run of one instance; returns it, its seconds and its task count arg."""
    kind = fleet.deck.draw() if inst.role == "deck" else inst.role
    count = 0 if kind == "long" else -RUN_TASKS
    run = _Run(inst.rng, fleet.profile, fleet.profile.recipes[kind], inst.version, count)
    _begin(run, inst.loky)
    if kind == "long":
        return run, _long_run(run, fleet.arc, inst.timing), count
    tasks = _sampled_tasks(inst, fleet.arc)
    if kind == "hang":
        seconds = _hang_run(run, tasks)
    elif kind == "deadlock":
        seconds = _deadlock_run(run, tasks)
    elif kind == "exit":
        seconds = _exit_run(run, tasks)
    else:
        seconds = _complete_run(run, tasks, inst.timing)
    return run, _within_limit(run, seconds), count


def _within_limit(run: _Run, seconds: float) -> float:
    """The run's seconds, marking it killed if its version's timeout stopped it first."""
    if run.killed or seconds <= run.limit:
        return seconds
    run.killed = True
    return run.limit


def _sampled_tasks(inst: _Instance, arc: tuple[_ArcTask, ...]) -> list[_ArcTask]:
    """32 distinct ARC tasks for a -c -32 run, dealt from the instance's shuffled copy."""
    if len(inst.queue) < RUN_TASKS:
        inst.queue = list(arc)
        inst.rng.shuffle(inst.queue)
    tasks = inst.queue[-RUN_TASKS:]
    del inst.queue[-RUN_TASKS:]
    return tasks


def _interruption(run: _Run, live_seconds: float | None) -> tuple[int, bool]:
    """Lines kept of a run and whether the last is cut: by the timeout, or by ``live_seconds``.

    A live run is caught writing a stdout line, before its closing line is whole or its
    exit line begun; a killed run never shows its closing line, and one killed while
    progressing (not hanging silently at the kill) is cut mid-write.
    """
    if live_seconds is not None:
        run.killed = False
        kept = run.kept_lines(live_seconds)
        if run.closing >= 0:
            kept = min(kept, run.closing + 1)
        if run.exit_line >= 0:
            kept = min(kept, run.exit_line)
        return run.on_stdout(kept), True
    if not run.killed:
        return len(run.lines), False
    kept = run.kept_lines(run.limit)
    if run.closing >= 0:
        kept = min(kept, run.closing)
    return kept, not run.hang or kept < len(run.lines)


def _run_once(fleet: _Fleet, inst: _Instance, now: float | None = None) -> bool:
    """Appends the next run of one instance to its console; True if it is the live last run."""
    run, seconds, count = _build(fleet, inst)
    started = inst.clock
    python_start = started + _uniform(inst.rng, CARD_SECONDS)
    gap = _uniform(inst.rng, KILLED_GAP_SECONDS if run.killed else LOOP_GAP_SECONDS)
    live = now is not None and python_start + seconds + gap + LIVE_MARGIN_SECONDS > now
    if live and now is not None:
        seconds = round(min(max(now - python_start, 0.5), seconds - 0.001), 3)
    kept, cut = _interruption(run, seconds if live else None)
    output, partial = run.text(kept, cut)
    epoch = fleet.epoch0 + started
    text = f"{_date_line(epoch)}{inst.header(count)}{output}"
    termed = _append_console(fleet, inst, text, run.killed)
    inst.run_log_text = run.stdout_text(kept, partial, output)
    inst.runs += 1
    inst.run_starts.append(python_start)
    inst.end = now if live and now is not None else python_start + seconds
    inst.clock = inst.end + gap
    if len(fleet.instances) == 1:
        inst.tail.append(_tail_run(run, python_start, kept))
        inst.tail_starts.append(python_start)
    counts = run.counts(kept, partial)
    stderr = run.stderr_shown(kept) + termed
    fleet.truths.append(
        _truth(inst, run, counts, epoch=epoch, seconds=seconds, live=live, kept=kept, stderr=stderr)
    )
    return live


def _tail_run(run: _Run, python_start: float, kept: int) -> _TailRun:
    """What ``tail -100`` of the run log sees of a run: its stdout lines only."""
    events = (run.pp_failed, run.tp_failed, run.overloads)
    marks_n, kept_n, *numbered = (run.stdout_numbers(n) for n in (run.marks_n, [kept], *events))
    return _TailRun(python_start, run.marks_t, marks_n, kept_n[0], *numbered)


def _append_console(fleet: _Fleet, inst: _Instance, text: str, killed: bool) -> bool:
    """Writes one iteration to the console, after whatever the previous one still owed;
    True if timeout's message (stderr) follows it."""
    fleet.writer.append(inst.console_path, inst.pending + text)
    inst.pending = "" if text.endswith("\n") else "\n"  # the next `date` starts a new line
    termed = killed and inst.rng.random() < TERM_MESSAGE_SHARE
    if termed:
        inst.pending += _TERM_LINE
    return termed


def _truth(
    inst: _Instance,
    run: _Run,
    c: _Counts,
    *,
    epoch: float,
    seconds: float,
    live: bool,
    kept: int,
    stderr: int,
) -> RunTruth:
    """The ground truth of the run just written: ``kept`` lines of its output were written,
    ``stderr`` of its console lines are stderr's (timeout's message included)."""
    hang = run.hang and run.killed
    return RunTruth(
        instance=f"tmp_batt_{inst.iid}",
        run=inst.runs,
        console=inst.console,
        started_at=datetime.fromtimestamp(epoch // 1, UTC),
        seconds=seconds,
        path="timeout" if run.killed else PATHS[c.path],
        tasks=c.tasks,
        overloads=c.overloads,
        processpool_failed=c.processpool_failed,
        threadpool_failed=c.threadpool_failed,
        parallel_failed=c.parallel_failed,
        sample_timeouts=c.sample_timeouts,
        sample_failures=c.sample_failures,
        killed=run.killed,
        hang=hang,
        incomplete=live,
        max_threads=c.max_threads,
        exited=run.exit_line >= 0 and not live,
        stuck_task=run.stuck_task if hang and run.stuck_line < kept else None,
        silent=hang and run.silent,
        version=inst.version.name,
        timeout_seconds=run.timeout or None,
        overload_above=inst.version.overload_above,
        stderr_lines=stderr,
    )


def _next_start(inst: _Instance) -> float:
    """When the instance prints its next `date`, in seconds after start."""
    return inst.clock


def _run_fleet(fleet: _Fleet, runs: int, size_bytes: int | None, live: bool) -> float:
    """Runs the instances in turn; returns the end of the window, seconds after start.

    After ``runs`` rounds, runs are added to whichever instance is furthest behind in time, so
    the instances keep running side by side (slow ones fit fewer runs) until the size is met.
    """
    for _ in range(runs - 1 if live else runs):
        for inst in fleet.instances:
            _run_once(fleet, inst)
    while size_bytes is not None and fleet.writer.bytes < size_bytes:
        _run_once(fleet, min(fleet.instances, key=_next_start))
    if not live:
        return max(inst.end for inst in fleet.instances)
    now = max(inst.clock for inst in fleet.instances) + _uniform(fleet.monitor_rng, LIVE_AFTER)
    for inst in fleet.instances:
        while not _run_once(fleet, inst, now):
            pass
    return now


# --- The monitor log -------------------------------------------------------------------------


def _alert_symbols(style: str) -> tuple[str, str]:
    """The warning and cross prefixes of the alert lines in the given style."""
    if style == "plain":
        return "", ""
    if style == "mojibake":  # the script copied from a page whose UTF-8 was read as Mac Roman
        warn = _WARN.encode("utf-8").decode("mac_roman")
        cross = _CROSS.encode("utf-8").decode("mac_roman")
        return f"{warn}  ", f"{cross} "
    return f"{_WARN}  ", f"{_CROSS} "


def _grep_count(count: int) -> str:
    """What ``grep -c ... || echo "0"`` leaves in the variable: a zero is printed twice."""
    return "0\n0" if count == 0 else str(count)


def _tail_counts(inst: _Instance, t: float) -> tuple[int, int, int]:
    """Process, Thread and Overload counts in the last 100 lines of the lone run log at t."""
    k = bisect_right(inst.tail_starts, t) - 1
    if k < 0:
        return 0, 0, 0  # no run log yet: tail fails, every count reads 0
    tail = inst.tail[k]
    j = bisect_right(tail.marks_t, t - tail.python_start)
    written = min(tail.marks_n[j - 1] if j else 0, tail.kept)
    low = max(0, written - MONITOR_TAIL_LINES)

    def between(events: list[int]) -> int:
        """How many of the events fall in the lines tail shows."""
        return bisect_left(events, written) - bisect_left(events, low)

    return (
        between(tail.processpool_failed),
        between(tail.threadpool_failed),
        between(tail.overloads),
    )


def _system_threads(fleet: _Fleet, t: float) -> str:
    """``ps -eLf | wc -l`` at t: the host's base plus every running instance's threads."""
    rng, profile = fleet.monitor_rng, fleet.profile
    if rng.random() < profile.unavailable / 3:
        return "N/A"
    total = HOST_BASE_THREADS + rng.randint(-4, 8)
    for inst in fleet.instances:
        if inst.first_start <= t <= inst.end:
            total += round(profile.host_threads * _uniform(rng, (0.75, 1.25)))
    return str(total)


def _monitor_text(fleet: _Fleet, window_end: float, style: str) -> str:
    """The whole week6b_monitoring.log for the window, quirks included."""
    rng, profile = fleet.monitor_rng, fleet.profile
    warn, cross = _alert_symbols(style)
    lone = fleet.instances[0] if len(fleet.instances) == 1 else None
    parts = ["=== Week 6B Monitoring Started ===\n", _date_line(fleet.epoch0)]
    t = 0.0
    while t <= window_end:
        process, thread, overload = _tail_counts(lone, t) if lone else (0, 0, 0)
        python = "N/A" if rng.random() < profile.unavailable else "1"
        stamp = datetime.fromtimestamp((fleet.epoch0 + t) // 1, UTC)
        parts.append(
            f"{stamp:%Y-%m-%d %H:%M:%S} | Threads: Python={python} "
            f"System={_system_threads(fleet, t)} | Fails: Process={_grep_count(process)} "
            f"Thread={_grep_count(thread)} Overload={_grep_count(overload)}\n"
        )
        if overload > OVERLOAD_ALERT_ABOVE:
            parts.append(
                f"{warn}ALERT: System overloaded detected {overload} times in last 100 lines\n"
            )
        if thread > THREADPOOL_ALERT_ABOVE:
            parts.append(f"{cross}ALERT: ThreadPool failures {thread} times (extreme load)\n")
        t += MONITOR_INTERVAL_SECONDS + _uniform(rng, profile.monitor_lag)
    return "".join(parts)


# --- poolwatch monitor's records --------------------------------------------------------------


_COUNT_KEYS = ("overload", "processpool_failed", "threadpool_failed")


def _going(truths: list[RunTruth], epoch0: float, t: float) -> list[tuple[int, RunTruth]]:
    """The runs (their place among ``truths``) in progress at ``t`` seconds after start."""
    return [
        (k, r) for k, r in enumerate(truths)
        if r.started_at.timestamp() - epoch0 <= t < r.started_at.timestamp() - epoch0 + r.seconds
    ]  # fmt: skip


def _lines_between(truth: RunTruth, epoch0: float, t0: float, t1: float) -> dict[str, int]:
    """A run's fallback lines written between two samples, spread evenly over its time."""
    start = truth.started_at.timestamp() - epoch0

    def written(t: float) -> float:
        return min(1.0, max(0.0, (t - start) / truth.seconds)) if truth.seconds > 0 else 1.0

    counts = (truth.overloads, truth.processpool_failed, truth.threadpool_failed)
    return {key: math.floor(n * written(t1)) - math.floor(n * written(t0))
            for key, n in zip(_COUNT_KEYS, counts, strict=True)}  # fmt: skip


def _sampled_threads(rng: random.Random, truth: RunTruth, leak: SnapshotTruth | None, *,
                     at: datetime, overload: tuple[int, int]) -> int:  # fmt: skip
    """A run's own thread count at a sample: the leaking instance's snapshot count then,
    a count like its overload lines' (the scenario's ``overload`` range, up to the highest
    they report) when most of its tasks print one, else a steady one."""
    if leak is not None:
        k = max(0, bisect_right(leak.taken_at, at) - 1)
        return leak.threads[k]
    if truth.max_threads is not None and truth.overloads * 2 > truth.tasks:
        low = max(overload[0], truth.overload_above + 1)
        return rng.randint(min(low, truth.max_threads), truth.max_threads)
    return rng.randint(*SAMPLED_STEADY_THREADS)


@dataclass(frozen=True)
class _Sampled:
    """A run_batt.py process at a sample, as the monitor records it."""

    pid: int
    ppid: int
    instance: str
    worker: bool
    threads: int
    rss: int
    age: float


def _sampled_processes(
    rng: random.Random, name: str, going: list[tuple[int, RunTruth]], pid0: int, *,
    at: datetime, leak: SnapshotTruth | None, stride: int, t: float, fleet: _Fleet,
    levels: dict[tuple[str, int], int],
) -> list[_Sampled]:  # fmt: skip
    """One instance's run_batt.py processes at a sample: each run going, and its workers.
    A run keeps its thread count from sample to sample (``levels``), as a run does that
    neither leaks nor changes load ("Thread count: >80 threads (constant)")."""
    out: list[_Sampled] = []
    for k, truth in going:
        pid = pid0 + k * stride
        age = round(t - (truth.started_at.timestamp() - fleet.epoch0), 1)
        rss = rng.randint(*SAMPLED_RSS)
        overload = fleet.profile.overload_threads
        if (name, k) not in levels or leak is not None:
            levels[name, k] = _sampled_threads(rng, truth, leak, at=at, overload=overload)
        out.append(_Sampled(pid, pid - 1, name, False, levels[name, k], rss, age))
        if truth.path == "process":
            out += [_Sampled(pid + w, pid, name, True, 1, rss // 2, age)
                    for w in range(1, SAMPLED_WORKERS + 1)]  # fmt: skip
    return out


def _window_counts(truths: list[RunTruth], epoch0: float, t0: float, t1: float) -> dict[str, int]:
    """An instance's fallback lines written between two samples."""
    counts = dict.fromkeys(_COUNT_KEYS, 0)
    for truth in truths:
        for key, n in _lines_between(truth, epoch0, t0, t1).items():
            counts[key] += n
    return counts


def _instance_row(name: str, mine: list[_Sampled], window: dict[str, int]) -> dict[str, object]:
    """An instance's entry of a sample record."""
    runs = [p for p in mine if not p.worker]
    return {
        "instance": name, "pids": [p.pid for p in runs], "processes": len(mine),
        "threads": max((p.threads for p in runs), default=None), "fallbacks": window,
        "counted_from": "console", "fallbacks_total": window,
    }  # fmt: skip


def _sample_record(
    fleet: _Fleet, number: int, t: float, window: float | None, *, processes: list[_Sampled],
    rows: list[dict[str, object]], counts: list[dict[str, int]],
) -> dict[str, object]:  # fmt: skip
    """One ``sample`` record, in the fields and order ``poolwatch monitor`` writes."""
    at = datetime.fromtimestamp(fleet.epoch0 + t, UTC)
    runs = sum(1 for p in processes if not p.worker)
    return {
        "schema": 1, "record": "sample", "time": at.isoformat(timespec="milliseconds"),
        "zone": "UTC", "hostname": "batch-host", "monitor_pid": 1201, "sample": number,
        "window": None if window is None else round(window, 3), "duration": 0.012,
        "runs": runs, "skipped_processes": 0,
        "host": {"threads": HOST_BASE_THREADS + sum(p.threads for p in processes),
                 "processes": 180 + len(processes), "memory_available": 24 << 30,
                 "memory_total": 32 << 30,
                 "load": [round(runs * 1.1, 2), round(runs * 1.0, 2), round(runs * 0.9, 2)],
                 "cpus": 8},
        "processes": [vars(p) for p in processes], "instances": rows,
        "fallbacks": {key: sum(c[key] for c in counts) for key in _COUNT_KEYS},
        "logs": {"patterns": ["run_card_*.log"], "unmatched": [], "files": [], "errors": []},
        "alerts": 0,
    }  # fmt: skip


def _records_text(
    fleet: _Fleet, window_end: float, snapshots: list[SnapshotTruth], rng: random.Random
) -> str:
    """poolwatch monitor's records over the window, a sample a minute: each instance's
    runs in progress, their threads and workers, and the fallback lines of each window."""
    leaks = {s.instance: s for s in snapshots if s.leak}
    stride = PIDS_PER_ITERATION * len(fleet.instances)
    named = sorted((f"tmp_batt_{inst.iid}", inst) for inst in fleet.instances)
    pids = {name: rng.randint(*PID_FIRST) + inst.number for name, inst in named}
    truths = {name: [r for r in fleet.truths if r.instance == name] for name, _ in named}
    lines: list[str] = []
    levels: dict[tuple[str, int], int] = {}
    previous: float | None = None
    t, number = 0.0, 0
    while t <= window_end:
        number += 1
        at = datetime.fromtimestamp(fleet.epoch0 + t, UTC)
        processes: list[_Sampled] = []
        rows: list[dict[str, object]] = []
        counts: list[dict[str, int]] = []
        for name, _ in named:
            going = _going(truths[name], fleet.epoch0, t)
            mine = _sampled_processes(rng, name, going, pids[name], at=at, leak=leaks.get(name),
                                      stride=stride, t=t, fleet=fleet,
                                      levels=levels)  # fmt: skip
            since = -1.0 if previous is None else previous
            counts.append(_window_counts(truths[name], fleet.epoch0, since, t))
            rows.append(_instance_row(name, mine, counts[-1]))
            processes += mine
        window = None if previous is None else t - previous
        record = _sample_record(fleet, number, t, window, processes=processes, rows=rows,
                                counts=counts)  # fmt: skip
        lines.append(_json_line(record))
        previous = t
        t += MONITOR_INTERVAL_SECONDS
    return "".join(lines)


def _json_line(record: Mapping[str, object]) -> str:
    """A record as the monitor appends it: compact ASCII JSON on one line."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"


# --- Thread snapshots ------------------------------------------------------------------------


def _snapshot_times(rng: random.Random, inst: _Instance, style: str) -> list[float]:
    """When an operator took the snapshots of one instance, over its run window.

    A loop (``active``) sleeps a fixed time, plus what each iteration takes; by hand
    (``nlwp``) the intervals vary.  A long window spaces them out, a short one packs them.
    """
    first, last = inst.run_starts[0], inst.end
    window = last - first
    spread = min(max(SNAPSHOT_SLEEP_SECONDS, window / SNAPSHOT_MOST), window / SNAPSHOT_FEWEST)
    interval = max(1.0, spread)
    sleep = max(1, round(interval))
    times, t = [], first
    while t <= last:
        times.append(t)
        if style == "active":
            t += sleep + _uniform(rng, SNAPSHOT_LOOP_LAG)
        else:
            t += interval * _uniform(rng, SNAPSHOT_TYPING)
    return times


def _leak_counts(rng: random.Random, n: int) -> list[int]:
    """Thread counts that climb from the first snapshot to the last (a resource leak)."""
    low, high = SNAPSHOT_LEAK_THREADS
    if n < 2:
        return [low] * n
    counts = [low]
    for k in range(1, n - 1):
        counts.append(max(counts[-1], round(low + (high - low) * k / (n - 1)) + rng.randint(-1, 1)))
    return [*counts, high]


def _snapshot_text(
    fleet: _Fleet, inst: _Instance, style: str, snaps: list[tuple[float, int]], *, pid0: int
) -> str:
    """The pasted snapshots of one instance, as the operator's terminal printed them."""
    parts = []
    for t, n in snaps:
        date = _date_line(fleet.epoch0 + t)
        if style == "active":
            parts.append(f"{date}Active threads: {n}\n")
        else:  # the PID of the python running then: each iteration starts a new one
            k = max(0, bisect_right(inst.run_starts, t) - 1)
            pid = pid0 + k * PIDS_PER_ITERATION * len(fleet.instances) + inst.number
            parts.append(f"$ date; ps -o nlwp {pid}\n{date}NLWP\n{n:>4}\n")
    return "".join(parts)


def _write_snapshots(fleet: _Fleet, kind: str) -> list[SnapshotTruth]:
    """One ``threads_tmp_batt_<id>.txt`` per instance; with ``leak``, one instance climbs."""
    rng = fleet.extra_rng
    leaker = rng.randrange(len(fleet.instances)) if kind == "leak" else -1
    truths = []
    for k, inst in enumerate(fleet.instances):
        style = _pick(rng, SNAPSHOT_STYLES)
        times = _snapshot_times(rng, inst, style)
        if k == leaker:
            counts = _leak_counts(rng, len(times))
        else:
            counts = [rng.randint(*SNAPSHOT_STEADY_THREADS) for _ in times]
        path = fleet.out / inst.snapshot_file
        fleet.writer.create(path)
        pid0 = rng.randint(*PID_FIRST)
        fleet.writer.append(
            path,
            _snapshot_text(fleet, inst, style, list(zip(times, counts, strict=True)), pid0=pid0),
        )
        taken = tuple(datetime.fromtimestamp((fleet.epoch0 + t) // 1, UTC) for t in times)
        truths.append(
            SnapshotTruth(
                f"tmp_batt_{inst.iid}", path.name, style, taken, tuple(counts), k == leaker
            )
        )
    return truths


# --- Entry point -----------------------------------------------------------------------------


def _set_modification_times(
    fleet: _Fleet, window_end: float, snapshots: list[SnapshotTruth]
) -> None:
    """Dates every file at its last simulated write, the only clock a bare file carries."""
    for inst in fleet.instances:
        when = fleet.epoch0 + inst.end
        os.utime(fleet.out / inst.console, (when, when))
        os.utime(fleet.out / inst.run_log, (when, when))
    for snapshot in snapshots:
        when = snapshot.taken_at[-1].timestamp()
        os.utime(fleet.out / snapshot.file, (when, when))
    when = fleet.epoch0 + window_end
    os.utime(fleet.out / MONITOR_LOG, (when, when))
    os.utime(fleet.out / RECORDS_LOG, (when, when))


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raises ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")


def _validate(
    scenario: str, instances: int, runs: int, size_bytes: int | None, choices: Mapping[str, str]
) -> None:
    """Raises ValueError with one clear line for arguments that cannot be simulated;
    ``choices`` holds the monitor style, version and snapshots asked for."""
    _one_of("scenario", scenario, SCENARIOS)
    if instances < 1:
        raise ValueError(f"instances must be at least 1, got {instances}")
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if size_bytes is not None and size_bytes < 0:
        raise ValueError(f"size_bytes must not be negative, got {size_bytes}")
    _one_of("monitor_style", choices["monitor_style"], MONITOR_STYLES)
    _one_of("version", choices["version"], VERSIONS)
    _one_of("snapshots", choices["snapshots"], SNAPSHOTS)


def simulate(
    scenario: str,
    out: Path,
    *,
    instances: int = 8,
    runs: int = 3,
    seed: int = 0,
    size_bytes: int | None = None,
    live: bool = False,
    monitor_style: str = "emoji",
    version: str = "first",
    snapshots: str = "none",
    copied: bool = False,
    start: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Writes a scenario's console logs, run logs and monitor log into ``out``.

    ``runs`` is the number of runs per instance, a minimum when ``size_bytes`` asks for more
    or when ``live`` lets the instances run on to one common moment (the snapshot), at which
    each one's last run is cut off.  ``version`` is the run_batt.py the instances run (see
    ``VERSIONS``); ``snapshots`` adds a pasted thread-snapshot file per instance (see
    ``SNAPSHOTS``).  ``start`` defaults to a fixed time (a naive one is taken as UTC);
    ``progress`` receives the size in bytes of each write.  The same arguments always give
    byte-identical files, each dated (mtime) at its last simulated write, or, if ``copied``,
    left with the time it was written, as a copy (``cp``, a git checkout) has.
    """
    choices = {"monitor_style": monitor_style, "version": version, "snapshots": snapshots}
    _validate(scenario, instances, runs, size_bytes, choices)
    when = start or DEFAULT_START
    epoch0 = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(progress)
    rounds = runs - 1 if live else runs
    fleet = _make_fleet(
        scenario, instances, seed, rounds=rounds, version=version, epoch0=epoch0,
        writer=writer, out=out,
    )  # fmt: skip
    for inst in fleet.instances:
        writer.create(out / inst.console)
    window_end = _run_fleet(fleet, runs, size_bytes, live)
    for inst in fleet.instances:
        if inst.pending.strip():  # timeout's message for a last run it killed
            writer.append(inst.console_path, inst.pending)
        writer.create(out / inst.run_log)
        writer.append(out / inst.run_log, inst.run_log_text)
    monitor = out / MONITOR_LOG
    writer.create(monitor)
    writer.append(monitor, _monitor_text(fleet, window_end, monitor_style))
    pasted = _write_snapshots(fleet, snapshots) if snapshots != "none" else []
    records = out / RECORDS_LOG
    writer.create(records)
    samples_rng = random.Random(f"{RECORDS_LOG}-{seed}")
    writer.append(records, _records_text(fleet, window_end, pasted, samples_rng))
    writer.close()
    if not copied:
        _set_modification_times(fleet, window_end, pasted)
    return SimulationResult(
        tuple(writer.files), writer.bytes, writer.lines, tuple(fleet.truths), tuple(pasted)
    )
