"""Findings: everything a report shows, as one frozen, typed object.

The analysis builds it; summary.json, the terminal check, and the reports read it
and compute nothing. Every finding carries its numbers and the log lines behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
    grade: str
    source: str
    action: str
    warning: float
    critical: float


@dataclass(frozen=True)
class Flag:
    """One line of the guide's "Summary: What to Watch", held or not."""

    id: str
    color: str
    text: str
    holds: bool
    evidence: str
    refs: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Step:
    """One question of the guide's decision tree, its answer, and the numbers behind it."""

    question: str
    answer: str
    evidence: str


@dataclass(frozen=True)
class Scenario:
    """A "Quick Diagnostics" scenario the logs show."""

    id: str
    title: str
    diagnosis: str
    evidence: str
    solutions: tuple[str, ...]
    refs: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Action:
    """A concrete change to make, why, and the runs and lines that call for it."""

    id: str
    text: str
    reason: str
    evidence: str
    refs: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Inputs:
    """What was read to make the findings."""

    files: int
    bytes: int
    lines: int
    unparsed_lines: int
    duplicates: int
    skipped: tuple[tuple[str, str], ...]


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
class Performance:
    """Run durations against the guide's "Performance Expectations"."""

    measured: int
    slower: int
    worst_ratio: float | None
    evidence: str


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
    verdict: str
    summary: str
    flags: tuple[Flag, ...]
    scenarios: tuple[Scenario, ...]
    decision_path: tuple[Step, ...]
    actions: tuple[Action, ...]
    performance: Performance | None
