"""Findings: everything a report shows, as one frozen, typed object.

The analysis builds it; summary.json, the terminal check, and the reports read it
and compute nothing. Every finding carries its numbers and the log lines behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from poolwatch.config import SettingName
from poolwatch.states import ExecutorPath, FileStatus, FlagColor, Grade, Verdict


@dataclass(frozen=True)
class Ref:
    """One log line behind a finding."""

    file: str
    line: int
    text: str | None = None


@dataclass(frozen=True)
class MetricRow:
    """One graded row of the guide's "Health Check Thresholds" table."""

    name: str
    value: float | None
    unit: str
    grade: Grade
    source: str
    action: str
    warning: float
    critical: float
    ranges: tuple[str, str, str] = ("", "", "")
    """The healthy, warning and critical ranges, worded (``< 50``, ``50-80``, ``> 80``)."""
    title: str = ""
    """The metric as the guide's table names it (``Active threads per instance``)."""
    measured_by: str = ""
    """What the value was read from: ``monitor_samples`` (poolwatch monitor's),
    ``snapshots`` (pasted thread counts), ``logs`` (run and console logs); empty without
    a value."""


@dataclass(frozen=True)
class Flag:
    """One line of the guide's "Summary: What to Watch", held or not."""

    id: str
    color: FlagColor
    text: str
    holds: bool
    evidence: str
    refs: tuple[Ref, ...] = ()
    reading: str = ""
    """How poolwatch reads the line: at which share of runs it holds."""
    share: float = 0.0
    """The share of finished runs it counts, in %."""


@dataclass(frozen=True)
class Step:
    """One question of the guide's decision tree, its answer, and the numbers behind it."""

    question: str
    answer: str
    evidence: str
    node: str | None = None
    """The ``TreeNode`` the answer lands on; None where the data falls off the tree."""


@dataclass(frozen=True)
class SettingChange:
    """A fleet setting to change, from the number it runs with to another."""

    setting: SettingName
    before: float
    after: float
    unit: str


@dataclass(frozen=True)
class Scenario:
    """A "Quick Diagnostics" scenario the logs show."""

    id: str
    title: str
    diagnosis: str
    evidence: str
    solutions: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    changes: tuple[SettingChange | None, ...] = ()
    """Each solution's change with its numbers (``None``: it changes no setting, or the
    change is not indicated), in the order of ``solutions``."""


#: A number an action names (a share, a thread count), or the names it acts on (task ids).
ActionValue = float | str | tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """A concrete change to make, why, and the runs and lines that call for it."""

    id: str
    text: str
    reason: str
    evidence: str
    refs: tuple[Ref, ...] = ()
    change: SettingChange | None = None
    """The setting it changes, with the numbers in ``text`` (from 8 to 4 instances)."""
    details: tuple[tuple[str, ActionValue], ...] = ()
    """The other numbers and names in ``text``, by name (task ids, an instance's PID)."""

    @property
    def values(self) -> tuple[tuple[str, ActionValue], ...]:
        """Every number and name in ``text``: the change's ``from`` and ``to``, then
        the details."""
        change = self.change
        moved = () if change is None else (("from", change.before), ("to", change.after))
        return moved + self.details


@dataclass(frozen=True)
class Limit:
    """A limit the runs ran under (their timeout, the overload threshold), and where
    its value came from: the logs, poolwatch.toml or the guide."""

    name: str
    value: float
    unit: str
    source: str
    title: str = ""
    """How reports name it: ``timeout``, ``overload threshold``."""


@dataclass(frozen=True)
class PatternLine:
    """One instance in the guide's "Expected Production Patterns" form."""

    instance: str
    line: str
    """``ThreadPoolExecutor (1 worker) - some pressure``."""
    ok: bool
    """The guide's ✓ (True) or ❌."""
    runs: str
    """``4 of 5 runs``: the runs that took this path."""


@dataclass(frozen=True)
class PatternAspect:
    """One overall line of the patterns (mix, thread count, fallback rate) for this fleet
    beside both of the guide's."""

    name: str
    fleet: str
    healthy: str
    overloaded: str
    like_healthy: bool
    like_overloaded: bool | None
    """None where the logs cannot tell (no thread count)."""


@dataclass(frozen=True)
class PatternMatch:
    """The fleet beside the guide's Healthy and Overloaded Production patterns."""

    classification: str
    """``healthy``, ``overloaded`` or ``between``."""
    lines: tuple[PatternLine, ...]
    aspects: tuple[PatternAspect, ...]
    text: str
    """One sentence: which pattern the fleet is, and which lines differ."""


@dataclass(frozen=True)
class Inputs:
    """What was read to make the findings."""

    files: int
    bytes: int
    lines: int
    unparsed_lines: int
    duplicates: int
    skipped: tuple[tuple[str, str], ...]
    collected: datetime | None = None
    """When the logs were collected: the newest modification time that can be believed."""
    times_note: str | None = None
    """Why files' modification times were not believed (a copy's), when some were not."""


@dataclass(frozen=True)
class RunCounts:
    """How the runs ended."""

    total: int
    completed: int
    exited: int
    timed_out: int
    hung: int
    incomplete: int


@dataclass(frozen=True)
class ExecutorMix:
    """Percent of finished runs on each executor path (a run takes its worst task's)."""

    process: float
    thread: float
    sequential: float
    timeout: float


@dataclass(frozen=True)
class Counts:
    """Lines, as ``grep -c`` counts them in the kept run and console logs."""

    system_overloaded: int
    processpool_failed: int
    threadpool_failed: int
    parallel_failed: int
    sample_timeouts: int
    sample_failures: int


@dataclass(frozen=True)
class MonitorCheck:
    """What the monitor log saw, and whether it was blind to what the run logs show."""

    samples: int
    alerts: int
    blind: bool
    reason: str | None
    host_threads: tuple[int, int] | None = None
    """Lowest and highest System= (every thread on the host): context, never graded."""


@dataclass(frozen=True)
class Sampling:
    """What poolwatch monitor's samples measured, and what the guide's monitor log beside
    them did not."""

    samples: int
    readings: int
    """Run processes' thread counts read (one run in one sample)."""
    instances: int
    first: datetime | None
    last: datetime | None
    measured: tuple[str, ...]
    """The metrics graded from the samples (``MetricRow.name``)."""
    text: str
    """Which monitor measured what, in a sentence or two."""


@dataclass(frozen=True)
class Performance:
    """Run durations against the guide's "Performance Expectations"."""

    measured: int
    slower: int
    worst_ratio: float | None
    evidence: str


@dataclass(frozen=True)
class TreeNode:
    """One box of the guide's "Troubleshooting Decision Tree", and whether the walk reached it."""

    id: str
    parent: str | None
    label: str
    taken: bool


@dataclass(frozen=True)
class InstanceRow:
    """One instance of the fleet: its runs, executor mix, fallbacks, peak threads, verdict."""

    instance: str
    runs: int
    finished: int
    mix: ExecutorMix
    processpool_failed: int
    threadpool_failed: int
    overloads: int
    killed: int
    peak_threads: int | None
    verdict: Verdict


@dataclass(frozen=True)
class ThreadPoint:
    """A per-process thread count one instance reported (an overload message, a snapshot).

    ``at`` is estimated within its run by line position when the run's start is known.
    """

    instance: str
    run: int
    at: datetime | None
    threads: int


@dataclass(frozen=True)
class TimePoint:
    """A value at a wall-clock time (UTC)."""

    at: datetime
    value: float


@dataclass(frozen=True)
class RunTime:
    """A completed run's duration beside what the guide expects for its tasks."""

    instance: str
    run: int
    seconds: float
    expected_low: float
    expected_high: float
    path: ExecutorPath


@dataclass(frozen=True)
class Charts:
    """The series behind the report's charts, downsampled so their size is bounded."""

    threads: tuple[ThreadPoint, ...]
    running: tuple[TimePoint, ...]
    """Instances running at once, as a step series."""
    durations: tuple[RunTime, ...]
    timed_runs: int
    """Completed runs with a duration; ``durations`` holds an even sample of them."""
    host_threads: tuple[TimePoint, ...]
    """The monitor's System= (every thread on the host): context, never graded."""
    thread_band: tuple[float, float]
    """The thread count's warning and critical limits, drawn as bands."""
    instances: float
    """The configured fleet size, drawn beside the instances running at once."""
    running_measured: bool = False
    """``running`` is the runs in progress at each of the monitor's samples, not runs'
    start and end times estimated from the logs."""
    threads_measured: bool = False
    """``threads`` is the runs' counts in the monitor's samples, not the overload
    messages'."""


@dataclass(frozen=True)
class Moment:
    """A notable event on the timeline (first overload, a timeout or hang, an error)."""

    at: datetime | None
    instance: str
    run: int
    kind: str
    text: str
    ref: Ref


@dataclass(frozen=True)
class Excerpt:
    """A cited log line with the lines around it, and the findings that cite it."""

    ref: Ref
    before: tuple[str, ...]
    after: tuple[str, ...]
    cited_by: tuple[str, ...]


@dataclass(frozen=True)
class InputFile:
    """One input as it was read, skipped, or counted once."""

    path: str
    family: str | None
    status: FileStatus
    reason: str | None
    bytes: int | None
    lines: int | None


@dataclass(frozen=True)
class Threshold:
    """A threshold or setting in effect, and where its value came from."""

    name: str
    value: str
    source: str


@dataclass(frozen=True)
class Provenance:
    """How the report was made: the program, the command, the inputs, the thresholds."""

    version: str
    command: str
    files: tuple[InputFile, ...]
    files_omitted: int
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class Change:
    """One metric of a day against the day before and the trailing 7-day median."""

    name: str
    value: float | None
    unit: str
    vs_yesterday: float | None
    vs_median: float | None
    text: str
    """``ProcessPool fallback 15 % (+8 pts vs yesterday, +11 vs the 7-day median)``."""


@dataclass(frozen=True)
class TrendDay:
    """One recorded day of the history: its verdict and key metrics."""

    day: date
    verdict: Verdict
    processpool_fallback_rate: float | None
    threadpool_fallback_rate: float | None
    timeout_rate: float | None
    thread_count: float | None
    grades: tuple[tuple[str, Grade], ...] = ()
    """Each trended metric's grade that day (name, grade), for the trend charts' dots."""


@dataclass(frozen=True)
class History:
    """A daily summary's place in the history: changes, and the trailing 30 days."""

    day: date
    changes: tuple[Change, ...]
    baseline_days: int
    """How many recorded days the median is taken over (at most 7)."""
    days: tuple[TrendDay, ...]
    limits: tuple[tuple[str, float, float], ...]
    """Warning and critical limit of each trend metric, drawn beside it."""


@dataclass(frozen=True)
class BaselineRow:
    """One metric before and after (a deployment), and whether it crossed a threshold."""

    key: str
    """The metric's key (summary.json's ``metrics`` keys, and a few more)."""
    name: str
    unit: str
    before: float | None
    after: float | None
    change: str
    before_grade: Grade | Literal["-"]
    """Its grade before (``-``: a metric the thresholds table does not grade)."""
    after_grade: Grade | Literal["-"]
    crossed: bool


@dataclass(frozen=True)
class Baseline:
    """The before/after comparison of a post-deployment review."""

    source: str
    """What "before" is: the paths given, or the store's days."""
    rows: tuple[BaselineRow, ...]
    mix_before: ExecutorMix
    mix_after: ExecutorMix
    conclusion: str


@dataclass(frozen=True)
class Findings:
    """Everything a report shows."""

    generated_at: datetime
    window: tuple[datetime | None, datetime | None]
    inputs: Inputs
    instances: int
    concurrency: int | None
    runs: RunCounts
    executor_mix: ExecutorMix
    counts: Counts
    monitor: MonitorCheck | None
    metrics: tuple[MetricRow, ...]
    limits: tuple[Limit, ...]
    verdict: Verdict
    summary: str
    flags: tuple[Flag, ...]
    scenarios: tuple[Scenario, ...]
    decision_path: tuple[Step, ...]
    actions: tuple[Action, ...]
    performance: Performance | None
    tree: tuple[TreeNode, ...]
    instance_rows: tuple[InstanceRow, ...]
    charts: Charts
    timeline: tuple[Moment, ...]
    timeline_omitted: int
    evidence: tuple[Excerpt, ...]
    provenance: Provenance
    pattern: PatternMatch | None = None
    """The fleet beside the guide's Expected Production Patterns (None: no finished run)."""
    history: History | None = None
    """Set by a daily summary: the day against the history store."""
    sampling: Sampling | None = None
    """poolwatch monitor's samples, when given: what they measured."""
    baseline: Baseline | None = None
    """Set by a post-deployment review: before against after."""
    hosts: tuple[HostFindings, ...] = ()
    """Logs of several hosts: each host's own findings, worst first. The other fields
    are then the worst host's, but for ``inputs``, ``window``, ``provenance`` (every
    host's) and ``summary`` (which names the hosts that are not healthy)."""


@dataclass(frozen=True)
class HostFindings:
    """One host of several, diagnosed on its own as the guide's fleet of one machine."""

    host: str
    findings: Findings
