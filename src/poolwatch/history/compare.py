"""A day against the history: its change from the day before and from the trailing
7-day median, the last 30 days for the trend charts, and before/after comparisons.

Every sentence a comparison shows is written here, once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import pandas as pd

from poolwatch.config import METRICS, Config
from poolwatch.config import TRENDED as TRENDED_METRICS
from poolwatch.findings import (
    Baseline,
    BaselineRow,
    Change,
    ExecutorMix,
    Findings,
    History,
    TrendDay,
)
from poolwatch.states import ExecutorPath, Verdict

#: The metrics compared (config.METRICS): key, unit and how people call them.
COMPARED: tuple[tuple[str, str, str], ...] = tuple((m.id, m.unit, m.label) for m in METRICS)
#: The graded metrics drawn on the 30-day trend charts.
TRENDED: tuple[str, ...] = tuple(m.id for m in TRENDED_METRICS)
#: Days in the trailing baseline, and in the trend charts.
BASELINE_DAYS = 7
TREND_DAYS = 30


def history(trend: pd.DataFrame, day: date, config: Config) -> History:
    """``day`` against the recorded days before it (``trend``: the store's trend rows)."""
    rows = by_day(trend)
    today = _row_of(rows, day)
    yesterday = _row_of(rows, day - timedelta(days=1))
    window = rows[(rows.index < day) & (rows.index >= day - timedelta(days=BASELINE_DAYS))]
    changes = tuple(
        _change((name, unit, label), today, yesterday, window) for name, unit, label in COMPARED
    )
    recent = rows[rows.index > day - timedelta(days=TREND_DAYS)]
    recent = recent[recent.index <= day]
    return History(
        day=day,
        changes=changes,
        baseline_days=len(window),
        days=tuple(_trend_day(d, row, config) for d, row in recent.iterrows()),
        limits=limits(config),
    )


def median_words(days: int) -> str:
    """``the 7-day median``, or ``the median of the 3 days recorded`` when fewer."""
    if days >= BASELINE_DAYS:
        return f"the {BASELINE_DAYS}-day median"
    return f"the median of the {days} day{'s' if days != 1 else ''} recorded"


def intro(history: History) -> str:
    """What a day is compared with: the day before and the trailing median, or nothing
    yet (no day recorded in the week before it)."""
    day = history.day.isoformat()
    if not history.baseline_days:
        return (f"{day}: no day recorded in the history store in the {BASELINE_DAYS} days "
                "before it: nothing to compare it with yet.")  # fmt: skip
    return (f"{day} against the day before and {median_words(history.baseline_days)} "
            "before it, from the history store.")  # fmt: skip


def _row_of(rows: pd.DataFrame, day: date) -> pd.Series | None:
    """The trend row of one day, if it was recorded."""
    if day not in rows.index:
        return None
    return rows.loc[[day]].iloc[0]


def limits(config: Config) -> tuple[tuple[str, float, float], ...]:
    """The warning and critical limit of each trended metric, drawn beside it."""
    bands = [(n, config.graded(n)) for n in TRENDED]
    return tuple((n, band.warning, band.critical) for n, band in bands if band is not None)


def _change(
    metric: tuple[str, str, str],
    today: pd.Series | None,
    yesterday: pd.Series | None,
    window: pd.DataFrame,
) -> Change:
    """One metric's (name, unit, label) change."""
    name, unit, label = metric
    value = _value(today, name)
    before = _value(yesterday, name)
    median = window[name].dropna().median() if name in window and len(window) else None
    median = None if median is None or pd.isna(median) else float(median)
    vs_yesterday = None if value is None or before is None else value - before
    vs_median = None if value is None or median is None else value - median
    parts = [
        f"{_signed(vs_yesterday, unit)} vs yesterday" if vs_yesterday is not None else None,
        f"{_signed(vs_median, unit, short=True)} vs {median_words(len(window))}"
        if vs_median is not None else None,
    ]  # fmt: skip
    said = ", ".join(p for p in parts if p) or "no earlier day recorded"
    # "Runs 24", not "Runs 24 runs": the unit is said once.
    shown = f"{value:.0f}" if value is not None and unit == label.lower() else amount(value, unit)
    return Change(name, value, unit, vs_yesterday, vs_median, f"{label} {shown} ({said})")


def _value(row: pd.Series | None, name: str) -> float | None:
    """A metric of a trend row, or None."""
    if row is None or name not in row or pd.isna(row[name]):
        return None
    return float(row[name])


def amount(value: float | None, unit: str) -> str:
    """``15 %``, ``95 threads``, ``unknown``: how a metric's value reads, here and in
    every report (their ``value`` filter is this function)."""
    if value is None:
        return "unknown"
    return f"{value:.0f} %" if unit == "%" else f"{value:.0f} {unit}"


def _signed(delta: float, unit: str, *, short: bool = False) -> str:
    """``+8 pts``, ``-3``: a change, in points for percentages."""
    text = f"{delta:+.0f}"
    if text in ("+0", "-0"):
        text = "±0"
    return text + (" pts" if unit == "%" and not short else "")


def trend_days(trend: pd.DataFrame, config: Config) -> tuple[TrendDay, ...]:
    """The store's trend rows as days of the trend charts, in order."""
    return tuple(_trend_day(day, row, config) for day, row in by_day(trend).iterrows())


def by_day(trend: pd.DataFrame) -> pd.DataFrame:
    """The store's trend rows indexed by their day (a ``datetime.date``)."""
    days = pd.to_datetime(trend["day"]).dt.date
    return trend.drop(columns="day").set_axis(pd.Index(days, name="day"))


def _trend_day(day: object, row: pd.Series, config: Config) -> TrendDay:
    """One day of the trend charts, each metric graded by the thresholds in effect."""
    return TrendDay(
        day=day,  # type: ignore[arg-type]
        verdict=Verdict(str(row["verdict"])),
        processpool_fallback_rate=_value(row, "processpool_fallback_rate"),
        threadpool_fallback_rate=_value(row, "threadpool_fallback_rate"),
        timeout_rate=_value(row, "timeout_rate"),
        thread_count=_value(row, "thread_count"),
        grades=tuple(
            (n, band.grade(_value(row, n))) for n in TRENDED if (band := config.graded(n))
        ),
    )


# --- before and after ----------------------------------------------------------------------


def baseline(
    before: dict[str, float | None],
    before_mix: ExecutorMix,
    after: Findings,
    config: Config,
    source: str,
) -> Baseline:
    """``after`` (this report) against ``before`` (metric values by name)."""
    now = values(after)
    rows = tuple(
        _row((name, unit, label), before.get(name), now.get(name), config)
        for name, unit, label in COMPARED
    )
    return Baseline(
        source=source,
        rows=rows,
        mix_before=before_mix,
        mix_after=after.executor_mix,
        conclusion=_conclusion(rows, after.verdict),
    )


def median_of(trend: pd.DataFrame) -> tuple[dict[str, float | None], ExecutorMix, str]:
    """The median of recorded days: metric values, executor mix, and what they are."""
    rows = by_day(trend)

    def median(name: str) -> float | None:
        found = rows[name].dropna() if name in rows else pd.Series(dtype=float)
        return None if found.empty else float(found.median())

    before = {name: median(name) for name, _, _ in COMPARED}
    mix = ExecutorMix(*(median(f"mix_{path}") or 0.0 for path in ExecutorPath))
    first, last = rows.index.min(), rows.index.max()
    source = f"the median of {len(rows)} recorded days, {first} to {last}, from the history store"
    return before, mix, source


def of_host(source: str, host: str) -> str:
    """What one host's before is: ``source``, the before of the whole fleet, narrowed."""
    return f"{source}, host {host}"


def values(findings: Findings) -> dict[str, float | None]:
    """The compared metrics of a report, by name."""
    graded: dict[str, float | None] = {m.name: m.value for m in findings.metrics}
    graded["sequential_rate"] = findings.executor_mix.sequential
    graded["runs"] = float(findings.runs.total)
    return graded


def _row(
    metric: tuple[str, str, str], before: float | None, after: float | None, config: Config
) -> BaselineRow:
    """One metric's (name, unit, label) value before and after."""
    name, unit, label = metric
    band = config.graded(name)
    graded = band is not None
    ungraded: Literal["-"] = "-"
    grade_before = band.grade(before) if band is not None else ungraded
    grade_after = band.grade(after) if band is not None else ungraded
    if before is None or after is None:
        change = f"{amount(before, unit)} → {amount(after, unit)}: not comparable"
    else:
        change = f"{amount(before, unit)} → {amount(after, unit)} ({_signed(after - before, unit)})"
    return BaselineRow(
        key=name,
        name=label,
        unit=unit,
        before=before,
        after=after,
        change=change,
        before_grade=grade_before,
        after_grade=grade_after,
        # A value unknown on one side crossed nothing: its grade is only "unknown".
        crossed=graded and None not in (before, after) and grade_before != grade_after,
    )


def _conclusion(rows: tuple[BaselineRow, ...], verdict: str) -> str:
    """One sentence: the largest move across a threshold (or the largest move), and the verdict."""
    moved = [r for r in rows if r.before is not None and r.after is not None and r.unit == "%"]
    crossed = [r for r in moved if r.crossed] or moved
    if not crossed:
        return f"Nothing to compare before and after; after: {verdict}."
    lead = max(crossed, key=lambda r: abs((r.after or 0) - (r.before or 0)))
    way = "fell" if (lead.after or 0) < (lead.before or 0) else "rose"
    if lead.after == lead.before:
        return f"After the deploy, {lead.name} stayed at {amount(lead.after, '%')}: {verdict}."
    return (
        f"After the deploy, {lead.name} {way} from {amount(lead.before, '%')} to "
        f"{amount(lead.after, '%')}: {verdict}."
    )
