"""The rows of the store that readers can show: of a day poolwatch records (see span.py),
with a verdict poolwatch gives, and values the trend charts and tables can draw.

A store written by an older poolwatch, or edited by hand, may hold a row outside these
bounds (a day 9999-12-31, a thread count of infinity); readers skip such a row and say
so, instead of failing on it (and with it every later run on the store).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping
from datetime import date, datetime

import pandas as pd

from poolwatch.history.span import FIRST_DAY
from poolwatch.states import Verdict

#: The verdicts a day is recorded with.
VERDICTS = tuple(verdict.value for verdict in Verdict)


def first_bad(frame: pd.DataFrame, last: date) -> Iterator[tuple[date | None, str]]:
    """The day and the first problem of each row of ``frame`` (store rows: ``day`` and
    metrics) that readers must skip."""
    for row in frame.to_dict("records"):
        day = _day(row["day"])
        problem = _problem(row, day, last)
        if problem is not None:
            yield day, problem


def _day(value: object) -> date | None:
    """A row's day as a date (None when there is none)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _problem(row: Mapping[Hashable, object], day: date | None, last: date) -> str | None:
    """Why a row cannot be shown, or None."""
    if day is None or not FIRST_DAY <= day <= last:
        return f"its day is outside {FIRST_DAY} to {last}"
    verdict = row.get("verdict")
    if "verdict" in row and verdict not in VERDICTS:
        return f"its verdict is not one of {', '.join(VERDICTS)}"
    for name, value in row.items():
        if name not in ("day", "verdict") and not _plausible(str(name), value):
            return f"its {name} is {value}"
    return None


def _plausible(name: str, value: object) -> bool:
    """Whether a metric's value is missing, or a finite count or share a chart can draw."""
    if value is None or value is pd.NA or not isinstance(value, int | float):
        return value is None or value is pd.NA
    if isinstance(value, float) and math.isnan(value):
        return True
    if not math.isfinite(value) or value < 0:
        return False
    return value <= 100 or not (name.endswith("_rate") or name.startswith("mix_"))
