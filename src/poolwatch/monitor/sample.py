"""One sample: the processes, the host, and what each instance's logs gained since the
previous sample, with the alerts those counts raise.

``tee`` writes every line of a run twice, into the run log and into the run_card.sh
console, so an instance's fallbacks are counted from one of them: from its console
when a console among the files names the instance (a console is only appended to, so
it keeps the lines a run wrote after the previous sample even when tee has since
truncated the run log for the next run), else from its run log. Lines of a console
above its first ``Running:`` line belong to no instance and are reported on the file
only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from poolwatch.monitor import alerts, logfiles
from poolwatch.monitor.fallbacks import Fallbacks
from poolwatch.monitor.processes import Census, census
from poolwatch.monitor.state import State, Totals


@dataclass(frozen=True)
class InstanceRow:
    """One instance in one sample."""

    instance: str
    pids: tuple[int, ...]
    """Its runs in progress (run_batt.py processes that are not workers)."""
    processes: int
    """Its run_batt.py processes, workers included."""
    threads: int | None
    """The thread count of its run (the highest, if several); None when none runs."""
    fallbacks: Fallbacks
    counted_from: logfiles.Kind | None
    totals: Fallbacks


@dataclass(frozen=True)
class Sample:
    """Everything one sample saw."""

    number: int
    now: float
    window: float | None
    duration: float
    census: Census
    patterns: tuple[str, ...]
    unmatched: tuple[str, ...]
    readings: tuple[logfiles.Reading, ...]
    counted: frozenset[str]
    """The paths whose counts were used (see the module's docstring)."""
    errors: tuple[tuple[str, str], ...]
    """Files that matched but could not be read, and why."""
    instances: tuple[InstanceRow, ...]
    alerts: tuple[alerts.Alert, ...]

    @property
    def fallbacks(self) -> Fallbacks:
        """The window's fallbacks over every instance."""
        return sum((row.fallbacks for row in self.instances), Fallbacks())

    @property
    def python_threads(self) -> int | None:
        """The highest thread count of a run in progress (None when none runs)."""
        return max((p.threads for p in self.census.runs), default=None)


def take(
    patterns: Sequence[str],
    state: State,
    *,
    exclude: Sequence[tuple[int, int]] = (),
    now: float | None = None,
) -> Sample:
    """Sample once, and move ``state`` on to this sample (marks, totals, count, time)."""
    started = time.monotonic()
    now = time.time() if now is None else now
    seen = census(now)
    files, unmatched = logfiles.expand(patterns, exclude)
    readings, errors = _read_all(files, state)
    counts, counted = _counts(readings)
    window = None if state.last_time is None else max(0.0, now - state.last_time)
    names = {p.instance for p in seen.processes if p.instance} | set(counts)
    names |= {r.instance for r in readings if r.instance}
    found = alerts.check({name: c for name, (_, c) in counts.items()}, window)
    rows = tuple(
        _row(n, seen=seen, counted=counts.get(n), state=state, now=now, found=found)
        for n in sorted(names)
    )
    state.samples += 1
    state.last_time = now
    state.marks = {r.path: r.mark for r in readings}
    state.forget_old(now)
    return Sample(state.samples, now, window, time.monotonic() - started, seen,
                  tuple(patterns), tuple(unmatched), tuple(readings), counted,
                  tuple(errors), rows, tuple(found))  # fmt: skip


def _read_all(
    files: Sequence[str], state: State
) -> tuple[list[logfiles.Reading], list[tuple[str, str]]]:
    """Each file read from its mark; a file that cannot be read is an error of the sample."""
    readings: list[logfiles.Reading] = []
    errors: list[tuple[str, str]] = []
    for path in files:
        try:
            readings.append(logfiles.read(path, state.marks.get(path)))
        except OSError as err:
            errors.append((path, err.strerror or str(err)))
    return readings, errors


def _counts(
    readings: Sequence[logfiles.Reading],
) -> tuple[dict[str, tuple[logfiles.Kind, Fallbacks]], frozenset[str]]:
    """Each instance's window counts and where they come from; the paths counted."""
    consoles = {
        name
        for r in readings
        if r.kind == "console"
        for name in (r.instance, *(s.instance for s in r.segments))
        if name
    }
    counts: dict[str, tuple[logfiles.Kind, Fallbacks]] = {}
    counted: set[str] = set()
    for reading in readings:
        kind = reading.kind
        named = [(s.instance, s.fallbacks) for s in reading.segments if s.instance]
        if reading.instance and all(n != reading.instance for n, _ in named):
            named.append((reading.instance, Fallbacks()))  # nothing new: still its source
        for name, found in named:
            if (name in consoles) == (kind == "console"):
                counted.add(reading.path)
                counts[name] = (kind, counts.get(name, (kind, Fallbacks()))[1] + found)
    return counts, frozenset(counted)


def _row(
    name: str,
    *,
    seen: Census,
    counted: tuple[logfiles.Kind, Fallbacks] | None,
    state: State,
    now: float,
    found: Sequence[alerts.Alert],
) -> InstanceRow:
    """One instance's row; its totals in ``state`` moved on by the window's counts."""
    source, window = counted if counted else (None, Fallbacks())
    totals = state.totals.setdefault(name, Totals())
    totals.fallbacks = totals.fallbacks + window
    totals.last_seen = now
    for alert in found:
        if alert.instance == name:
            totals.alerts[alert.rule.name] = totals.alerts.get(alert.rule.name, 0) + 1
    mine = [p for p in seen.processes if p.instance == name]
    runs = [p for p in mine if not p.worker]
    return InstanceRow(
        instance=name,
        pids=tuple(sorted(p.pid for p in runs)),
        processes=len(mine),
        threads=max((p.threads for p in runs), default=None),
        fallbacks=window,
        counted_from=source,
        totals=totals.fallbacks,
    )
