"""The states the guide's words name, as types: a grade, a verdict, a flag's colour, a
run's outcome and executor path, and what became of an input file.

Each is a ``StrEnum``: its members are the very strings the tables, summary.json and
the templates hold (``Grade.CRITICAL == "critical"``), so outputs do not change, while
mypy catches a state that does not exist.
"""

from __future__ import annotations

from enum import StrEnum


class Grade(StrEnum):
    """A metric's place in the guide's Health Check Thresholds table."""

    HEALTHY = "healthy"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
    """No value to grade (nothing measured it)."""


class Verdict(StrEnum):
    """The fleet's (or an instance's, or a day's) state, from its flags and grades."""

    HEALTHY = "healthy"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
    """No run finished: nothing to judge."""


class FlagColor(StrEnum):
    """The colour of a What-to-Watch flag: green what a healthy fleet shows, yellow a
    warning sign, red a critical one."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Outcome(StrEnum):
    """How a run ended."""

    COMPLETED = "completed"
    EXITED = "exited"
    """Out of memory: it did not complete its batch."""
    TIMED_OUT = "timed_out"
    """Killed by the timeout while making progress."""
    HUNG = "hung"
    """Killed by the timeout after its progress stopped."""
    INCOMPLETE = "incomplete"
    """Still going at the end of its log."""


class ExecutorPath(StrEnum):
    """The executor a run's tasks ended up on (a run takes its worst task's)."""

    PROCESS = "process"
    THREAD = "thread"
    """A 1-worker ThreadPoolExecutor, after the ProcessPool failed."""
    SEQUENTIAL = "sequential"
    TIMEOUT = "timeout"
    """The timeout killed it: the last safety net."""


class FileStatus(StrEnum):
    """What became of an input."""

    READ = "read"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    """The same file or content as an earlier input, or a tee copy of a console run."""
