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

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from poolwatch.analyze import sampled
from poolwatch.analyze.evidence import RUNS, refs
from poolwatch.analyze.runs import KILLED, Fleet, overload_threads
from poolwatch.analyze.sampled import SOURCE
from poolwatch.config import Band, Config, WatchName
from poolwatch.findings import Flag, MetricRow, Ref
from poolwatch.states import FlagColor, Grade, Verdict

_PER_PROCESS_SNAPSHOTS = ("threading.active_count()", "ps -o nlwp")


def metrics(fleet: Fleet) -> tuple[MetricRow, ...]:
    """The five rows of the guide's "Health Check Thresholds" table, graded."""
    finished = fleet.finished
    found = fleet.readings
    values = {
        "thread_count": _thread_count(fleet, found),
        "processpool_fallback_rate": _rate(finished, finished["processpool_failure"],
                                           "with a ProcessPool failure"),
        "threadpool_fallback_rate": _rate(finished, finished["threadpool_failure"],
                                          "with a ThreadPool failure"),
        "timeout_rate": _rate(finished, finished["outcome"].isin(KILLED),
                              "killed by the timeout"),
        "threads_per_instance": _threads_per_instance(fleet),
    }  # fmt: skip
    rows = []
    for band in fleet.config.bands:
        value, source, measured = values[band.name]
        rows.append(MetricRow(band.name, value, band.unit, band.grade(value), source,
                              band.action, band.warning, band.critical,
                              band.ranges(), band.title,
                              measured if value is not None else ""))  # fmt: skip
    return tuple(rows)


#: Instances an "Active threads per instance" source names, at most (the highest first).
SHOWN = 4
#: What a metric was read from (``MetricRow.measured_by``).
SAMPLES, SNAPSHOTS, LOGS = "monitor_samples", "snapshots", "logs"
Measured = tuple[float | None, str, str]
"""A metric's value, its source in words, and what it was read from."""


def _per_process_snapshots(fleet: Fleet) -> pd.DataFrame:
    """``Active threads:`` and ``nlwp`` snapshots (``ps -o nlwp <PID>``), by their source's
    first words."""
    events = fleet.of_kind("thread_snapshot")
    per_process = events["message"].astype(str).str.startswith(_PER_PROCESS_SNAPSHOTS, na=False)
    return events[per_process & events["threads"].notna()]


def _thread_count(fleet: Fleet, found: pd.DataFrame) -> Measured:
    """The thread count the monitor's samples show (``sampled.thread_count``); without
    them, the highest per-process count the logs show, and where it comes from.

    run_batt.py prints its count only when it is over the overload threshold, so
    without overload lines every decision it made saw at most that many threads.
    """
    if not found.empty:
        return (*sampled.thread_count(found, fleet.config), SAMPLES)
    overload = overload_threads(fleet)
    snapshots = _per_process_snapshots(fleet)["threads"]
    seen = pd.concat([overload, snapshots])
    decisions = int(fleet.result.tasks["started"].fillna(False).sum())
    if seen.empty:
        if decisions:
            limit = fleet.config.settings.overload_threads.value
            return (
                None,
                f"no overload message in {decisions:,} executor decisions (all <= {limit:g})",
                "",
            )
        return None, "no per-process thread counts in the logs", ""
    parts = [f"{len(overload):,} overload messages"] if len(overload) else []
    parts += [f"{len(snapshots):,} thread snapshots"] if len(snapshots) else []
    return (
        float(seen.max()),
        "highest of " + " and ".join(parts),
        LOGS if len(overload) else SNAPSHOTS,
    )


def _rate(finished: pd.DataFrame, hit: pd.Series, what: str) -> Measured:
    """A percentage of finished runs, with its count."""
    total = len(finished)
    if not total:
        return None, "no finished runs", ""
    count = int(hit.sum())
    return 100.0 * count / total, f"{count} of {total} runs {what}", LOGS


def _threads_per_instance(fleet: Fleet) -> Measured:
    """Each instance's run's highest count in the monitor's samples, graded, the highest
    shown; without samples, the highest ``Active threads:`` / ``nlwp`` snapshot (one
    process is one instance). Either way with the instance and how its counts went."""
    active = fleet.active
    if active:
        band = fleet.config.bands.threads_per_instance
        each = ", ".join(f"{a.instance} {a.highest} ({band.grade(a.highest)})"
                         for a in active[:SHOWN])  # fmt: skip
        each += f" and {len(active) - SHOWN} more" if len(active) > SHOWN else ""
        leak = thread_climb(fleet)
        assert leak is not None
        return float(active[0].highest), f"{SOURCE}: {leak.evidence}; per instance: {each}", SAMPLES
    leak = thread_climb(fleet)
    if leak is None:
        return None, "no Active threads / nlwp snapshots", ""
    return float(leak.highest), leak.evidence, SNAPSHOTS


@dataclass(frozen=True)
class Climb:
    """The instance whose snapshots reached the highest per-process thread count."""

    instance: str
    highest: int
    first: int
    snapshots: int
    others: int | None
    """The highest count of every other instance's snapshots (None without any)."""
    pid: str | None
    refs: tuple[Ref, ...]
    seen_in: str = "snapshots"
    """What the counts are: ``snapshots``, or ``samples`` of the monitor."""
    steady: bool = False
    """One run's count rose at every one of at least ``LEAK_SAMPLES`` samples: the
    guide's "Resource leak?" seen happening."""

    @property
    def evidence(self) -> str:
        """``tmp_batt_X: 11 → 34 threads over 5 snapshots (the others at most 12)``;
        ``tmp_batt_X (PID 48213): 11 → 34 threads over 5 samples, rising at every one``."""
        others = "" if self.others is None else f" (the other instances at most {self.others})"
        named = (
            self.instance
            if self.seen_in == "snapshots" or self.pid is None
            else (f"{self.instance} (PID {self.pid})")
        )
        if self.snapshots == 1:
            one = self.seen_in.removesuffix("s")
            return f"{named}: {self.highest} threads in its one {one}{others}"
        if self.first == self.highest and not self.steady:
            return f"{named}: {self.highest} threads over {self.snapshots} {self.seen_in}{others}"
        how = ", rising at every one" if self.steady else ""
        return (
            f"{named}: {self.first} → {self.highest} threads over {self.snapshots} "
            f"{self.seen_in}{how}{others}"
        )


def thread_climb(fleet: Fleet) -> Climb | None:
    """The instance whose run climbed in the monitor's samples (the highest if several),
    else the samples' highest instance; without samples, the per-process snapshots'
    highest instance; None without either."""
    if fleet.active:
        return _sampled_climb(fleet.active)
    snapshots = _per_process_snapshots(fleet)
    if snapshots.empty:
        return None
    instance = snapshots["instance"].astype(object).fillna(snapshots["file"].astype(object))
    instance = instance.astype(str)
    top = str(instance.iloc[int(np.argmax(snapshots["threads"].to_numpy(dtype=float)))])
    mine = snapshots[instance == top]
    rest = snapshots.loc[instance != top, "threads"]
    peak_at = int(np.argmax(mine["threads"].to_numpy(dtype=float)))
    peak = mine.iloc[peak_at]
    pid = re.search(r"(\d+)\s*$", str(peak["message"]))
    return Climb(
        instance=top,
        highest=int(peak["threads"]),
        first=int(mine["threads"].iloc[0]),
        snapshots=len(mine),
        others=None if rest.empty else int(rest.max()),
        pid=pid.group(1) if pid else None,
        refs=(Ref(str(peak["file"]), int(peak["line"]), fleet.text_of(mine.iloc[[peak_at]])[0]),),
    )


def _sampled_climb(active: tuple[sampled.Active, ...]) -> Climb:
    """The climbing instance with the highest count, else the highest instance."""
    climbing = [a for a in active if a.climbs]
    top = (climbing or list(active))[0]
    rest = [a.highest for a in active if a is not top]
    return Climb(
        instance=top.instance,
        highest=top.highest,
        first=top.first,
        snapshots=top.readings,
        others=max(rest) if rest else None,
        pid=None if top.pid is None else str(top.pid),
        refs=(),  # a record is a line of JSON: its figures are in the evidence
        seen_in="samples",
        steady=top.climbs,
    )


# --- flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """The shares of runs at which a flag holds: above ``low`` (or from it, when
    ``low_included``) and up to ``high`` (or below it)."""

    low: float | None = None
    high: float | None = None
    low_included: bool = False
    high_included: bool = True

    def holds(self, share: float) -> bool:
        """Whether a share of runs (in %) is in range."""
        above = self.low is None or share > self.low or (self.low_included and share == self.low)
        below = (
            self.high is None or share < self.high or (self.high_included and share == self.high)
        )
        return above and below

    def words(self) -> str:
        """``more than 20 % and at most 30 %``, ``20-30 %``, ``none``, ``any``."""
        if self.low is None and self.high == 0:
            return "none"
        if self.high is None and self.low == 0 and not self.low_included:
            return "any"
        if self.low is not None and self.high is not None:
            if self.low_included and self.high_included:
                return f"{self.low:g}-{self.high:g} %"
            lower = "from" if self.low_included else "more than"
            upper = "up to" if self.high_included else "below"
            return f"{lower} {self.low:g} % {upper} {self.high:g} %"
        if self.low is not None:
            return f"{'at least' if self.low_included else 'more than'} {self.low:g} %"
        return f"{'at most' if self.high_included else 'fewer than'} {self.high:g} %"


@dataclass(frozen=True)
class _Rule:
    """One "What to Watch" line: which runs it counts, and at which share of them it holds.

    ``counted`` says what the counted runs show (``over 50 threads``), so that the
    evidence reads the same whether the flag holds or not; ``red`` names the red flag a
    yellow one escalates to.
    """

    id: str
    color: FlagColor
    text: Callable[[Config], str]
    counted: Callable[[Config], str]
    hit: Callable[[Fleet], pd.Series]
    share: Callable[[Config], Share]
    cite: str | None = None
    red: str | None = None
    sampled: Callable[[pd.Series, Config], pd.Series] | None = None
    """For a thread-count line: which of the monitor's readings (their thread counts) it
    counts. With readings, the share is of them, not of runs."""


#: How flags name the monitor's readings they count.
READINGS = "run readings of the monitor"


def flags(fleet: Fleet, *, cite: bool = True) -> tuple[Flag, ...]:
    """The guide's "Summary: What to Watch" lines, each held or not, with evidence (and,
    with ``cite``, the first lines behind each)."""
    found = fleet.readings
    return tuple(_judge(fleet, rule, cite, found) for rule in _RULES)


def flags_by_instance(fleet: Fleet) -> dict[str, tuple[Flag, ...]]:
    """``flags`` of each instance's runs alone (without cited lines): each rule counted
    once over the fleet's finished runs (or the monitor's readings), then by instance."""
    instance = fleet.finished["instance"].astype(str)
    totals = instance.value_counts()
    found = fleet.readings
    by_reading = found["instance"].astype(str)
    reading_totals = by_reading.value_counts()
    held: dict[str, list[Flag]] = {str(name): [] for name in totals.index}
    for rule in _RULES:
        counts = rule.hit(fleet).astype(bool).groupby(instance).sum()
        sampled_counts = (
            rule.sampled(found["threads"], fleet.config).astype(bool).groupby(by_reading).sum()
            if rule.sampled is not None and not found.empty
            else pd.Series(dtype=int)
        )
        for name, total in totals.items():
            if reading_totals.get(name, 0) and rule.sampled is not None:
                count, of = int(sampled_counts.get(name, 0)), int(reading_totals.get(name, 0))
                held[str(name)].append(_flag(fleet, rule, count, of, (), unit=READINGS))
            else:
                count = int(counts.get(name, 0))
                held[str(name)].append(_flag(fleet, rule, count, int(total), ()))
    return {name: tuple(flags) for name, flags in held.items()}


def escalation(flag_id: str) -> str | None:
    """The red flag a yellow flag escalates to."""
    return next((rule.red for rule in _RULES if rule.id == flag_id), None)


def _judge(fleet: Fleet, rule: _Rule, cite: bool, found: pd.DataFrame) -> Flag:
    """A flag on the share of finished runs (or of the monitor's readings, for a
    thread-count line when there are some) that ``rule`` counts."""
    if rule.sampled is not None and not found.empty:
        count = int(rule.sampled(found["threads"], fleet.config).sum())
        return _flag(fleet, rule, count, len(found), (), unit=READINGS)
    hit = rule.hit(fleet)
    count = int(hit.sum())
    lines = refs(fleet, rule.cite, fleet.finished[hit]) if count and cite else ()
    return _flag(fleet, rule, count, len(fleet.finished), lines)


def _flag(
    fleet: Fleet, rule: _Rule, count: int, total: int, lines: tuple[Ref, ...], *, unit: str = "runs"
) -> Flag:
    """A flag on ``count`` of ``total`` finished runs (or ``unit``)."""
    config = fleet.config
    share = 100.0 * count / total if total else 0.0
    counted = rule.counted(config)
    evidence = f"{count} of {total} {unit} {counted} ({share:.0f} %)"
    condition = rule.share(config)
    holds = bool(total) and condition.holds(share)
    reading = f"holds when {condition.words()} of {unit} are {counted}"
    return Flag(rule.id, rule.color, rule.text(config), holds, evidence, lines, reading, share)


def _max_threads(fleet: Fleet) -> pd.Series:
    """Each finished run's highest reported per-process thread count (0 if none)."""
    return fleet.finished["max_threads"].fillna(0)


def _limit(config: Config) -> float:
    return config.settings.overload_threads.value


def _threads(config: Config) -> Band:
    return config.bands.thread_count


def _pp(config: Config) -> Band:
    return config.bands.processpool_fallback_rate


def _tp(config: Config) -> Band:
    return config.bands.threadpool_fallback_rate


def _w(config: Config, name: WatchName) -> float:
    return config.watching(name)


def _killed(fleet: Fleet) -> pd.Series:
    return fleet.finished["outcome"].isin(KILLED)


def _pp_failed(fleet: Fleet) -> pd.Series:
    return fleet.finished["processpool_failure"].astype(bool)


def _tp_failed(fleet: Fleet) -> pd.Series:
    return fleet.finished["threadpool_failure"].astype(bool)


def _overloaded(fleet: Fleet) -> pd.Series:
    return fleet.finished["overloads"] > 0


def _pp_words(config: Config) -> str:
    return "with a ProcessPool failure"


def _tp_words(config: Config) -> str:
    return "with a ThreadPool failure"


def _overload_words(config: Config) -> str:
    return 'with "System overloaded" lines'


def _killed_words(config: Config) -> str:
    return "killed by the timeout"


def _occasional(c: Config) -> Share:
    return Share(low=_w(c, "occasional"))


def _frequent(c: Config) -> Share:
    return Share(low=_w(c, "frequent"))


_RULES: tuple[_Rule, ...] = (
    _Rule("threads-below-limit", FlagColor.GREEN,
          lambda c: f"Thread count < {_limit(c):g} most of the time",
          lambda c: f"over {_limit(c):g} threads",
          lambda f: _max_threads(f) > _limit(f.config),
          lambda c: Share(high=100 - _w(c, "most_of_the_time"), high_included=False),
          "overload", sampled=lambda t, c: t > _limit(c)),
    _Rule("processpool-used", FlagColor.GREEN,
          lambda c: f"ProcessPoolExecutor used in >{_w(c, 'processpool_used'):g}% of runs",
          lambda c: "on the ProcessPool throughout",
          lambda f: f.finished["path"] == "process",
          lambda c: Share(low=_w(c, "processpool_used"))),
    _Rule("no-timeouts", FlagColor.GREEN, lambda c: "No timeouts", _killed_words, _killed,
          lambda c: Share(high=0)),
    _Rule("fallback-low", FlagColor.GREEN, lambda c: f"Fallback rate < {_w(c, 'fallback_rate'):g}%",
          _pp_words, _pp_failed,
          lambda c: Share(high=_w(c, "fallback_rate"), high_included=False),
          "processpool_failed"),
    _Rule("threads-high-occasionally", FlagColor.YELLOW,
          lambda c: f"{_threads(c).title} {_threads(c).warning:g}-{_threads(c).critical:g} "
                    "occasionally",
          lambda c: f"at {_threads(c).warning:g}-{_threads(c).critical:g} threads",
          lambda f: (_max_threads(f) >= _threads(f.config).warning)
          & (_max_threads(f) <= _threads(f.config).critical),
          _occasional, "overload", red="threads-critical-frequently",
          sampled=lambda t, c: (t >= _threads(c).warning) & (t <= _threads(c).critical)),
    _Rule("processpool-fallback-watch", FlagColor.YELLOW,
          lambda c: f"{_pp(c).title} {_w(c, 'processpool_fallback'):g}-{_pp(c).critical:g}%",
          _pp_words, _pp_failed,
          lambda c: Share(low=_w(c, "processpool_fallback"), high=_pp(c).critical,
                          low_included=True),
          "processpool_failed", red="processpool-fallback-high"),
    _Rule("threadpool-fallback-watch", FlagColor.YELLOW,
          lambda c: f"{_tp(c).title} {_w(c, 'threadpool_fallback'):g}-{_tp(c).critical:g}%",
          _tp_words, _tp_failed,
          lambda c: Share(low=_w(c, "threadpool_fallback"), high=_tp(c).critical,
                          low_included=True),
          "threadpool_failed", red="threadpool-fallback-high"),
    _Rule("overload-occasional", FlagColor.YELLOW,
          lambda c: 'Occasional "System overloaded" messages',
          _overload_words, _overloaded,
          lambda c: Share(low=_w(c, "occasional"), high=_w(c, "frequent")),
          "overload", red="overload-frequent"),
    _Rule("threads-critical-frequently", FlagColor.RED,
          lambda c: f"{_threads(c).title} > {_threads(c).critical:g} frequently",
          lambda c: f"over {_threads(c).critical:g} threads",
          lambda f: _max_threads(f) > _threads(f.config).critical,
          _frequent, "overload", sampled=lambda t, c: t > _threads(c).critical),
    _Rule("processpool-fallback-high", FlagColor.RED,
          lambda c: f"{_pp(c).title} > {_pp(c).critical:g}%", _pp_words, _pp_failed,
          lambda c: Share(low=_pp(c).critical), "processpool_failed"),
    _Rule("threadpool-fallback-high", FlagColor.RED,
          lambda c: f"{_tp(c).title} > {_tp(c).critical:g}%", _tp_words, _tp_failed,
          lambda c: Share(low=_tp(c).critical), "threadpool_failed"),
    _Rule("script-timeouts", FlagColor.RED, lambda c: c.bands.timeout_rate.title,
          _killed_words, _killed, lambda c: Share(low=0), RUNS),
    _Rule("overload-frequent", FlagColor.RED, lambda c: 'Frequent "System overloaded" messages',
          _overload_words, _overloaded, _frequent, "overload"),
)  # fmt: skip


# --- verdict -----------------------------------------------------------------------------


def verdict(
    held: tuple[Flag, ...], rows: tuple[MetricRow, ...], *, finished: int, exited: int = 0
) -> Verdict:
    """``critical`` if a red flag holds; ``warning`` if a yellow one does, a metric is
    critical on the thresholds table, or runs exited out of memory; ``healthy``
    otherwise; ``unknown`` when no run finished (only a monitor log, snapshots, or runs
    still going: nothing to judge).

    The thresholds table alone would call the guide's healthy example a warning (see
    the module's docstring): its grades are shown beside the limits, and only its
    critical band raises the verdict, to a warning, when no red flag already has. A
    run that exited did not complete its batch: the guide has no flag for it, but it is
    never healthy.
    """
    if not finished:
        return Verdict.UNKNOWN
    colors = {flag.color for flag in held if flag.holds}
    if FlagColor.RED in colors:
        return Verdict.CRITICAL
    if FlagColor.YELLOW in colors or exited or any(row.grade == Grade.CRITICAL for row in rows):
        return Verdict.WARNING
    return Verdict.HEALTHY
