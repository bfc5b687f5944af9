"""The fleet beside the guide's "Expected Production Patterns".

The guide describes a Healthy Production and an Overloaded Production fleet instance
by instance ("Instance 3: ThreadPoolExecutor (1 worker) - some pressure ✓",
"Instance 6: Timeout after 10 minutes ❌"), each with an overall mix, a thread count
and a fallback rate. Each instance here gets one such line, from the executor path most
of its finished runs took; the fleet's overall lines are put beside both patterns'; and
the fleet is classified as healthy, overloaded, or between the two.
"""

from __future__ import annotations

import pandas as pd

from poolwatch.analyze.decide import minutes
from poolwatch.analyze.runs import KILLED, Fleet
from poolwatch.findings import PatternAspect, PatternLine, PatternMatch
from poolwatch.states import ExecutorPath, Outcome

#: Instance lines in the guide's words, from the most degraded to the normal case; each
#: with the guide's ✓ (True) or ❌. ``timeout`` is filled with the run's timeout.
LINES: tuple[tuple[str, str, bool], ...] = (
    ("exited", "Exited out of memory", False),
    ("timeout", "Timeout after {timeout}", False),
    ("threadpool-fails", "ThreadPoolExecutor fails, sequential", False),
    ("overloaded", "Sequential - overloaded", False),
    ("failed", "Sequential after a ProcessPool or parallel failure", False),
    ("high-load", "Sequential - high load", True),
    ("thread", "ThreadPoolExecutor (1 worker) - some pressure", True),
    ("process", "ProcessPoolExecutor (3 workers)", True),
)
_RANK = {kind: rank for rank, (kind, _, _) in enumerate(LINES)}
#: The guide's overall lines of each pattern.
HEALTHY = {
    "mix": "75 % ProcessPool, 15 % ThreadPool, 10 % sequential",
    "threads": "40-60 threads (fluctuating)",
    "fallbacks": "10-20 % (acceptable)",
}
OVERLOADED = {
    "mix": "0 % ProcessPool, 0 % ThreadPool, 100 % sequential",
    "threads": "> 80 threads (constant)",
    "fallbacks": "100 % (system overloaded)",
}
#: Where a fleet stops looking like each pattern (shares of finished runs, in %).
#: Healthy: more than 70 % of runs on the ProcessPool (the pattern's 75 %, the green
#: flag's "> 70%"); at most 30 % of runs falling back (the pattern's own mix has 25 %,
#: though its text says 10-20 %). Overloaded: at most 20 % of runs on a pool, at least
#: 80 % falling back, over 80 threads in more than half the runs that report a count.
HEALTHY_PROCESSPOOL = 70.0
HEALTHY_FALLBACKS = 30.0
OVERLOADED_POOLS = 20.0
OVERLOADED_FALLBACKS = 80.0
CONSTANT = 50.0
#: The guide's ACTION under Overloaded Production, quoted.
OVERLOADED_ACTION = "Reduce instances from 8 to 4, or reduce threshold from 50 to 30"


def run_kinds(fleet: Fleet) -> pd.Series:
    """Each finished run's line kind (``LINES``)."""
    runs = fleet.finished
    critical = fleet.config.bands.thread_count.critical
    kind = runs["path"].astype(str).map({"process": "process", "thread": "thread"})
    sequential = runs["path"] == ExecutorPath.SEQUENTIAL
    overloads = sequential & (runs["overloads"] > 0)
    kind = kind.mask(sequential, "failed")
    kind = kind.mask(overloads, "high-load")
    kind = kind.mask(overloads & (runs["max_threads"].fillna(0) > critical), "overloaded")
    kind = kind.mask(sequential & runs["threadpool_failure"].astype(bool), "threadpool-fails")
    kind = kind.mask(runs["outcome"].isin(KILLED), "timeout")
    return kind.mask(runs["outcome"] == Outcome.EXITED, "exited")


def pattern(fleet: Fleet) -> PatternMatch | None:
    """The fleet beside both patterns, or None when no run has finished."""
    if fleet.finished.empty:
        return None
    kinds = run_kinds(fleet)
    lines = _instance_lines(fleet, kinds)
    aspects = (_mix(fleet), _threads(fleet), _fallbacks(fleet), _instances(lines))
    known = [a.like_overloaded for a in aspects if a.like_overloaded is not None]
    if all(a.like_healthy for a in aspects):
        classification = "healthy"
    elif known and all(known):
        classification = "overloaded"
    else:
        classification = "between"
    return PatternMatch(classification, lines, aspects, _text(classification, aspects))


def _instance_lines(fleet: Fleet, kinds: pd.Series) -> tuple[PatternLine, ...]:
    """One line per instance: the line kind most of its runs have (ties: the worse)."""
    runs = fleet.finished
    instance = runs["instance"].astype(str)
    counts = pd.crosstab(instance, kinds)
    limits = runs["run_timeout"].groupby([instance, kinds]).max()
    out = []
    for name, row in counts.iterrows():
        top = min((k for k in row.index if row[k]), key=lambda k: (-row[k], _RANK[k]))
        words, ok = next((w, ok) for kind, w, ok in LINES if kind == top)
        timeout = limits.get((name, top))
        line = words.format(timeout=minutes(float(timeout)) if pd.notna(timeout) else "")
        out.append(PatternLine(str(name), line, ok, f"{int(row[top])} of {row.sum()} runs"))
    return tuple(out)


def _pct(hit: pd.Series) -> float:
    return 100.0 * float(hit.mean()) if len(hit) else 0.0


def _mix(fleet: Fleet) -> PatternAspect:
    runs = fleet.finished
    share = {p: _pct(runs["path"] == p) for p in ("process", "thread", "sequential", "timeout")}
    exited = _pct(runs["outcome"] == Outcome.EXITED)
    words = (
        f"{share['process']:.0f} % ProcessPool, {share['thread']:.0f} % ThreadPool, "
        f"{share['sequential']:.0f} % sequential"
    )
    if share["timeout"]:
        words += f", {share['timeout']:.0f} % killed by the timeout"
    if exited:
        words += f"; {exited:.0f} % exited out of memory"
    return PatternAspect(
        "mix", words, HEALTHY["mix"], OVERLOADED["mix"],
        like_healthy=share["process"] > HEALTHY_PROCESSPOOL and not share["timeout"]
        and not exited,
        like_overloaded=share["process"] + share["thread"] <= OVERLOADED_POOLS,
    )  # fmt: skip


def _threads(fleet: Fleet) -> PatternAspect:
    runs = fleet.finished
    counts = runs["max_threads"].dropna()
    critical = fleet.config.bands.thread_count.critical
    if counts.empty:
        limit = fleet.config.settings.overload_threads.value
        return PatternAspect(
            "thread count", f"no overload message: at most {limit:g} threads per process",
            HEALTHY["threads"], OVERLOADED["threads"], like_healthy=True, like_overloaded=None,
        )  # fmt: skip
    above = _pct(counts > critical)
    return PatternAspect(
        "thread count",
        f"up to {counts.max():g} threads per process; over {critical:g} in {above:.0f} % of "
        "the runs that report a count",
        HEALTHY["threads"],
        OVERLOADED["threads"],
        like_healthy=bool(counts.max() <= critical),
        like_overloaded=above > CONSTANT,
    )


def _fallbacks(fleet: Fleet) -> PatternAspect:
    runs = fleet.finished
    fell = (
        (runs["overloads"] > 0)
        | runs["processpool_failure"].astype(bool)
        | runs["threadpool_failure"].astype(bool)
        | (runs["parallel_failed"] > 0)
    )
    share = _pct(fell)
    return PatternAspect(
        "fallback rate", f"{share:.0f} % of runs left the ProcessPool at least once",
        HEALTHY["fallbacks"], OVERLOADED["fallbacks"],
        like_healthy=share <= HEALTHY_FALLBACKS, like_overloaded=share >= OVERLOADED_FALLBACKS,
    )  # fmt: skip


def _instances(lines: tuple[PatternLine, ...]) -> PatternAspect:
    bad = [line for line in lines if not line.ok]
    return PatternAspect(
        "instances", f"{len(lines) - len(bad)} of {len(lines)} instances ✓",
        "every instance ✓", "most instances ❌",
        like_healthy=not bad, like_overloaded=len(bad) > len(lines) / 2,
    )  # fmt: skip


def _text(classification: str, aspects: tuple[PatternAspect, ...]) -> str:
    """One sentence: which pattern, and what differs from the healthy one."""
    if classification == "healthy":
        return "The fleet matches the guide's Healthy Production pattern."
    if classification == "overloaded":
        return (
            "The fleet matches the guide's Overloaded Production pattern, whose ACTION is: "
            f'"{OVERLOADED_ACTION}".'
        )
    differ = [a.name for a in aspects if not a.like_healthy]
    listed = ", ".join(differ[:-1]) + " and " + differ[-1] if len(differ) > 1 else differ[0]
    return (
        "Between the guide's Healthy and Overloaded Production patterns: unlike Healthy "
        f"Production in its {listed}."
    )
