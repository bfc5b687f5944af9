"""The monitor's lines for operators who grep: the guide's format, with right values.

The guide's script writes ``<time> | Threads: Python=<n> System=<n> | Fails: Process=<n>
Thread=<n> Overload=<n>`` and its alert lines. The same fields here hold what the script
meant to hold: ``Python=`` the highest thread count of a run_batt.py run (``N/A`` when none
runs), not a fresh interpreter's 1; ``System=`` what ``ps -eLf | wc -l`` prints (every
thread on the host, plus its header line); ``Fails:`` the fallback lines of every
instance since the previous sample, counted once per instance, not the ``tail -100`` that
GNU tail refuses for two run logs. Each instance follows with its own figures, then the
zone of the times. Every sample is one physical line (a count of zero is ``0``).
"""

from __future__ import annotations

from datetime import datetime

from poolwatch.monitor.alerts import Alert
from poolwatch.monitor.fallbacks import Fallbacks
from poolwatch.monitor.sample import Sample

STARTED = "=== poolwatch monitor: Monitoring Started ==="


def _local(now: float) -> datetime:
    return datetime.fromtimestamp(now).astimezone()


def _when(now: float) -> str:
    return f"{_local(now):%Y-%m-%d %H:%M:%S}"


def _fails(counts: Fallbacks) -> str:
    return (f"Process={counts.processpool_failed} Thread={counts.threadpool_failed} "
            f"Overload={counts.overload}")  # fmt: skip


def _count(value: int | None) -> str:
    return "N/A" if value is None else str(value)


def started(now: float) -> list[str]:
    """The header the guide's script starts with: a banner and a ``date`` line."""
    return [STARTED, f"{_local(now):%a %b %e %H:%M:%S %Z %Y}"]


def sample_line(sample: Sample) -> str:
    """One sample, on one line."""
    host = sample.census.host
    parts = [
        _when(sample.now),
        f"Threads: Python={_count(sample.python_threads)} System={host.threads + 1}",
        f"Fails: {_fails(sample.fallbacks)}",
        f"Runs: {len(sample.census.runs)}",
    ]
    if sample.instances:
        parts.append("Instances: " + "; ".join(
            f"{row.instance} threads={_count(row.threads)} {_fails(row.fallbacks)}"
            for row in sample.instances
        ))  # fmt: skip
    parts.append(f"Zone: {_local(sample.now):%Z %z}")
    return " | ".join(parts)


def alert_line(sample: Sample, alert: Alert) -> str:
    """An alert, as the guide's script words it, with its time and instance."""
    return f"{_when(sample.now)} | {alert.line}"


def stopped(now: float, reason: str) -> str:
    """The line a monitor in the foreground ends with."""
    return f"=== poolwatch monitor: Monitoring Stopped ({reason}) at {_when(now)} ==="
