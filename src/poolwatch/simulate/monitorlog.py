"""The guide's monitor_week6b.sh log, as the script really writes it (blind)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime

from poolwatch.simulate.fleet import Fleet, Instance
from poolwatch.simulate.numbers import (
    HOST_BASE_THREADS,
    MONITOR_INTERVAL_SECONDS,
    MONITOR_TAIL_LINES,
    OVERLOAD_ALERT_ABOVE,
    THREADPOOL_ALERT_ABOVE,
)
from poolwatch.simulate.phrases import CROSS, WARN
from poolwatch.simulate.pieces import date_line, uniform

# --- The monitor log -------------------------------------------------------------------------


def _alert_symbols(style: str) -> tuple[str, str]:
    """The warning and cross prefixes of the alert lines in the given style."""
    if style == "plain":
        return "", ""
    if style == "mojibake":  # the script copied from a page whose UTF-8 was read as Mac Roman
        warn = WARN.encode("utf-8").decode("mac_roman")
        cross = CROSS.encode("utf-8").decode("mac_roman")
        return f"{warn}  ", f"{cross} "
    return f"{WARN}  ", f"{CROSS} "


def _grep_count(count: int) -> str:
    """What ``grep -c ... || echo "0"`` leaves in the variable: a zero is printed twice."""
    return "0\n0" if count == 0 else str(count)


def _tail_counts(inst: Instance, t: float) -> tuple[int, int, int]:
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


def _system_threads(fleet: Fleet, t: float) -> str:
    """``ps -eLf | wc -l`` at t: the host's base plus every running instance's threads."""
    rng, profile = fleet.monitor_rng, fleet.profile
    if rng.random() < profile.unavailable / 3:
        return "N/A"
    total = HOST_BASE_THREADS + rng.randint(-4, 8)
    for inst in fleet.instances:
        if inst.first_start <= t <= inst.end:
            total += round(profile.host_threads * uniform(rng, (0.75, 1.25)))
    return str(total)


def monitor_text(fleet: Fleet, window_end: float, style: str) -> str:
    """The whole week6b_monitoring.log for the window, quirks included."""
    rng, profile = fleet.monitor_rng, fleet.profile
    warn, cross = _alert_symbols(style)
    lone = fleet.instances[0] if len(fleet.instances) == 1 else None
    parts = ["=== Week 6B Monitoring Started ===\n", date_line(fleet.epoch0)]
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
        t += MONITOR_INTERVAL_SECONDS + uniform(rng, profile.monitor_lag)
    return "".join(parts)
