"""index.html at the top of the daily reports' folder: every recorded day with its
verdict badge and key numbers, newest first, under the 30-day trend charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from poolwatch.config import Config
from poolwatch.findings import TrendDay
from poolwatch.history.compare import TREND_DAYS, limits, trend_days
from poolwatch.render import charts
from poolwatch.render.html import VERDICT_WORDS, environment, stylesheet
from poolwatch.render.output import write_text


@dataclass(frozen=True)
class IndexContext:
    """What templates/index.html.j2 may use."""

    days: tuple[TrendDay, ...]
    """Every recorded day, newest first."""
    linked: frozenset[str]
    """The days (YYYY-MM-DD) whose report.html is in the folder."""
    trends: Markup | None
    verdict_words: dict[str, str]
    stylesheet: Markup


def render(out: Path, trend: pd.DataFrame, config: Config) -> str:
    """index.html's text for the folder ``out`` and the store's ``trend`` rows."""
    days = trend_days(trend)
    drawn = charts.trends(days[-TREND_DAYS:], limits(config))
    linked = frozenset(d.day.isoformat() for d in days
                       if (out / d.day.isoformat() / "report.html").is_file())  # fmt: skip
    context = IndexContext(
        days=tuple(reversed(days)),
        linked=linked,
        trends=None if drawn is None else Markup(drawn),
        verdict_words=VERDICT_WORDS,
        stylesheet=stylesheet(),
    )
    return environment().get_template("index.html.j2").render(ctx=context)


def write_index(out: Path, trend: pd.DataFrame, config: Config) -> None:
    """Write ``out/index.html`` atomically."""
    write_text(out / "index.html", render(out, trend, config))
