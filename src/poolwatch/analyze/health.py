"""The guide's health metrics, its "What to Watch" flags, and the verdict.

Metrics are the rows of the "Health Check Thresholds" table, each graded on the
table's bands. Flags are the green, yellow and red lines of "Summary: What to Watch",
each marked as holding or not. Percentages are of finished runs (the guide's unit:
"appearing in > 30% of runs"); runs still going when the logs were collected are
left out.

Thread counts are graded on per-process counts only: the ``(<n> threads)`` of an
overload message, ``Active threads:`` and ``ps -o nlwp`` snapshots. The monitor's
``System=`` counts every thread on the host and its ``Python=`` a fresh interpreter's,
so neither is read against the per-process limits (log-formats.md).

The verdict follows the flags (see ``verdict``): the thresholds table grades the
guide's own "Healthy Production" (15 % ProcessPool fallback, 40-60 threads) as a
warning, while the guide calls it healthy and its decision tree calls ProcessPool
fallbacks under 30 % "working as designed".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from poolwatch.analyze.evidence import RUNS, refs
from poolwatch.analyze.runs import KILLED, Fleet, overload_threads
from poolwatch.config import Band, Config
from poolwatch.findings import Flag, MetricRow, Ref

_PER_PROCESS_SNAPSHOTS = ("threading.active_count()", "ps -o nlwp")


def metrics(fleet: Fleet) -> tuple[MetricRow, ...]:
    """The five rows of the guide's "Health Check Thresholds" table, graded."""
    finished = fleet.finished
    values = {
        "thread_count": _thread_count(fleet),
        "processpool_fallback_rate": _rate(finished, finished["processpool_failed"] > 0,
                                           "with a ProcessPool failure"),
        "threadpool_fallback_rate": _rate(finished, finished["threadpool_failed"] > 0,
                                          "with a ThreadPool failure"),
        "timeout_rate": _rate(finished, finished["outcome"].isin(KILLED),
                              "killed by the timeout"),
        "threads_per_instance": _threads_per_instance(fleet),
    }  # fmt: skip
    rows = []
    for band in fleet.config.bands:
        value, source = values[band.name]
        rows.append(MetricRow(band.name, value, band.unit, band.grade(value), source,
                              band.action, band.warning, band.critical))  # fmt: skip
    return tuple(rows)


def _per_process_snapshots(fleet: Fleet) -> pd.Series:
    """Thread counts of ``Active threads:`` and ``nlwp`` snapshots (``ps -o nlwp <PID>``)."""
    events = fleet.of_kind("thread_snapshot")
    per_process = events["message"].str.startswith(_PER_PROCESS_SNAPSHOTS, na=False)
    return events.loc[per_process, "threads"].dropna()


def _thread_count(fleet: Fleet) -> tuple[float | None, str]:
    """The highest per-process thread count the logs show, and where it comes from.

    run_batt.py prints its count only when it is over the overload threshold, so
    without overload lines every decision it made saw at most that many threads.
    """
    overload = overload_threads(fleet)
    snapshots = _per_process_snapshots(fleet)
    seen = pd.concat([overload, snapshots])
    decisions = int(fleet.result.tasks["started"].fillna(False).sum())
    if seen.empty:
        if decisions:
            limit = fleet.config.setting("overload_threads")
            return (
                None,
                f"no overload message in {decisions:,} executor decisions (all <= {limit:g})",
            )
        return None, "no per-process thread counts in the logs"
    parts = [f"{len(overload):,} overload messages"] if len(overload) else []
    parts += [f"{len(snapshots):,} thread snapshots"] if len(snapshots) else []
    return float(seen.max()), "highest of " + " and ".join(parts)


def _rate(finished: pd.DataFrame, hit: pd.Series, what: str) -> tuple[float | None, str]:
    """A percentage of finished runs, with its count."""
    total = len(finished)
    if not total:
        return None, "no finished runs"
    count = int(hit.sum())
    return 100.0 * count / total, f"{count} of {total} runs {what}"


def _threads_per_instance(fleet: Fleet) -> tuple[float | None, str]:
    """The highest ``Active threads:`` / ``nlwp`` snapshot: one process is one instance."""
    snapshots = _per_process_snapshots(fleet)
    if snapshots.empty:
        return None, "no Active threads / nlwp snapshots"
    return float(snapshots.max()), f"highest of {len(snapshots)} thread snapshots"


# --- flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One "What to Watch" line: which runs it counts and when their share makes it hold."""

    id: str
    color: str
    text: Callable[[Config], str]
    hit: Callable[[Fleet], pd.Series]
    holds: Callable[[Config, float], bool]
    cite: str | None = None


def flags(fleet: Fleet, *, cite: bool = True) -> tuple[Flag, ...]:
    """The guide's "Summary: What to Watch" lines, each held or not, with evidence (and,
    with ``cite``, the first lines behind each)."""
    return tuple(_judge(fleet, rule, cite) for rule in _RULES)


def flags_by_instance(fleet: Fleet) -> dict[str, tuple[Flag, ...]]:
    """``flags`` of each instance's runs alone (without cited lines): each rule counted
    once over the fleet's finished runs, then by instance."""
    instance = fleet.finished["instance"].astype(str)
    totals = instance.value_counts()
    found: dict[str, list[Flag]] = {str(name): [] for name in totals.index}
    for rule in _RULES:
        counts = rule.hit(fleet).astype(bool).groupby(instance).sum()
        for name, total in totals.items():
            found[str(name)].append(_flag(fleet, rule, int(counts.get(name, 0)), int(total), ()))
    return {name: tuple(held) for name, held in found.items()}


def _judge(fleet: Fleet, rule: _Rule, cite: bool) -> Flag:
    """A flag on the share of finished runs that ``rule`` counts."""
    hit = rule.hit(fleet)
    count = int(hit.sum())
    lines = refs(fleet, rule.cite, fleet.finished[hit]) if count and cite else ()
    return _flag(fleet, rule, count, len(fleet.finished), lines)


def _flag(fleet: Fleet, rule: _Rule, count: int, total: int, lines: tuple[Ref, ...]) -> Flag:
    """A flag on ``count`` of ``total`` finished runs."""
    share = 100.0 * count / total if total else 0.0
    evidence = f"{count} of {total} runs ({share:.0f} %)"
    holds = bool(total) and rule.holds(fleet.config, share)
    return Flag(rule.id, rule.color, rule.text(fleet.config), holds, evidence, lines)


def _max_threads(fleet: Fleet) -> pd.Series:
    """Each finished run's highest reported per-process thread count (0 if none)."""
    return fleet.finished["max_threads"].fillna(0)


def _limit(config: Config) -> float:
    return config.setting("overload_threads")


def _threads(config: Config) -> Band:
    return config.band("thread_count")


def _pp(config: Config) -> Band:
    return config.band("processpool_fallback_rate")


def _tp(config: Config) -> Band:
    return config.band("threadpool_fallback_rate")


def _w(config: Config, name: str) -> float:
    return config.watching(name)


def _killed(fleet: Fleet) -> pd.Series:
    return fleet.finished["outcome"].isin(KILLED)


def _pp_failed(fleet: Fleet) -> pd.Series:
    return fleet.finished["processpool_failed"] > 0


def _tp_failed(fleet: Fleet) -> pd.Series:
    return fleet.finished["threadpool_failed"] > 0


def _overloaded(fleet: Fleet) -> pd.Series:
    return fleet.finished["overloads"] > 0


_RULES: tuple[_Rule, ...] = (
    _Rule("threads-below-limit", "green",
          lambda c: f"Thread count < {_limit(c):g} most of the time",
          lambda f: _max_threads(f) > _limit(f.config),
          lambda c, share: share < 100 - _w(c, "most_of_the_time"), "overload"),
    _Rule("processpool-used", "green",
          lambda c: f"ProcessPoolExecutor used in >{_w(c, 'processpool_used'):g}% of runs",
          lambda f: f.finished["path"] == "process",
          lambda c, share: share > _w(c, "processpool_used")),
    _Rule("no-timeouts", "green", lambda c: "No timeouts", _killed,
          lambda c, share: share == 0),
    _Rule("fallback-low", "green", lambda c: f"Fallback rate < {_w(c, 'fallback_rate'):g}%",
          _pp_failed, lambda c, share: share < _w(c, "fallback_rate"), "processpool_failed"),
    _Rule("threads-high-occasionally", "yellow",
          lambda c: f"Thread count {_threads(c).warning:g}-{_threads(c).critical:g} occasionally",
          lambda f: (_max_threads(f) >= _threads(f.config).warning)
          & (_max_threads(f) <= _threads(f.config).critical),
          lambda c, share: share > _w(c, "occasional"), "overload"),
    _Rule("processpool-fallback-watch", "yellow",
          lambda c: f"ProcessPool fallback {_w(c, 'processpool_fallback'):g}-{_pp(c).critical:g}%",
          _pp_failed,
          lambda c, share: _w(c, "processpool_fallback") <= share <= _pp(c).critical,
          "processpool_failed"),
    _Rule("threadpool-fallback-watch", "yellow",
          lambda c: f"ThreadPool fallback {_w(c, 'threadpool_fallback'):g}-{_tp(c).critical:g}%",
          _tp_failed,
          lambda c, share: _w(c, "threadpool_fallback") <= share <= _tp(c).critical,
          "threadpool_failed"),
    _Rule("overload-occasional", "yellow", lambda c: 'Occasional "System overloaded" messages',
          _overloaded,
          lambda c, share: _w(c, "occasional") < share <= _w(c, "frequent"), "overload"),
    _Rule("threads-critical-frequently", "red",
          lambda c: f"Thread count > {_threads(c).critical:g} frequently",
          lambda f: _max_threads(f) > _threads(f.config).critical,
          lambda c, share: share > _w(c, "frequent"), "overload"),
    _Rule("processpool-fallback-high", "red",
          lambda c: f"ProcessPool fallback > {_pp(c).critical:g}%", _pp_failed,
          lambda c, share: share > _pp(c).critical, "processpool_failed"),
    _Rule("threadpool-fallback-high", "red",
          lambda c: f"ThreadPool fallback > {_tp(c).critical:g}%", _tp_failed,
          lambda c, share: share > _tp(c).critical, "threadpool_failed"),
    _Rule("script-timeouts", "red", lambda c: "Script timeouts", _killed,
          lambda c, share: share > 0, RUNS),
    _Rule("overload-frequent", "red", lambda c: 'Frequent "System overloaded" messages',
          _overloaded, lambda c, share: share > _w(c, "frequent"), "overload"),
)  # fmt: skip


# --- verdict -----------------------------------------------------------------------------


def verdict(held: tuple[Flag, ...], rows: tuple[MetricRow, ...], *, finished: int) -> str:
    """``critical`` if a red flag holds; ``warning`` if a yellow one does or a metric is
    critical on the thresholds table; ``healthy`` otherwise; ``unknown`` when no run
    finished (only a monitor log, snapshots, or runs still going: nothing to judge).

    The thresholds table alone would call the guide's healthy example a warning (see
    the module's docstring): its grades are shown beside the limits, and only its
    critical band raises the verdict, to a warning, when no red flag already has.
    """
    if not finished:
        return "unknown"
    colors = {flag.color for flag in held if flag.holds}
    if "red" in colors:
        return "critical"
    if "yellow" in colors or any(row.grade == "critical" for row in rows):
        return "warning"
    return "healthy"
