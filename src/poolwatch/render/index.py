"""index.html at the top of the daily reports' folder: every recorded day with its
verdict badge, its sentence, links to its report, PDF and ticket, and key numbers,
newest first, under the 30-day trend charts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from poolwatch.config import TRENDED, Config, Metric
from poolwatch.errors import PoolwatchError
from poolwatch.findings import TrendDay
from poolwatch.history.compare import TREND_DAYS, limits, trend_days
from poolwatch.render import charts
from poolwatch.render.html import VERDICT_WORDS, environment, stylesheet
from poolwatch.render.output import write_text
from poolwatch.smallfile import read_small
from poolwatch.states import Verdict

#: The files of a day's folder the index links to, and the words of each link.
LINKS = (("report.html", "report"), ("report.pdf", "PDF"), ("ticket.md", "ticket"))
#: The largest summary.json the index reads a day's sentence from.
SUMMARY_BYTES = 4 << 20


@dataclass(frozen=True)
class IndexDay:
    """One recorded day as the index lists it."""

    day: TrendDay
    summary: str
    """The day's sentence (from its summary.json; empty when its folder has none)."""
    links: tuple[tuple[str, str], ...]
    """(file name in the day's folder, link words) of the day's files that exist."""


@dataclass(frozen=True)
class IndexContext:
    """What templates/index.html.j2 may use."""

    days: tuple[IndexDay, ...]
    """Every recorded day, newest first."""
    trends: Markup | None
    metrics: tuple[Metric, ...]
    """The columns of each day: the metrics of the trend charts."""
    verdict_words: dict[Verdict, str]
    stylesheet: Markup


def render(out: Path, trend: pd.DataFrame, config: Config) -> str:
    """index.html's text for the folder ``out`` and the store's ``trend`` rows."""
    days = trend_days(trend, config)
    drawn = charts.trends(days[-TREND_DAYS:], limits(config))
    context = IndexContext(
        days=tuple(_listed(out / d.day.isoformat(), d) for d in reversed(days)),
        trends=None if drawn is None else Markup(drawn),
        metrics=TRENDED,
        verdict_words=VERDICT_WORDS,
        stylesheet=stylesheet(),
    )
    return environment().get_template("index.html.j2").render(ctx=context)


def _listed(folder: Path, day: TrendDay) -> IndexDay:
    """A day with its sentence and the links to the files its folder holds."""
    links = tuple((name, words) for name, words in LINKS if (folder / name).is_file())
    return IndexDay(day, _sentence(folder / "summary.json"), links)


def _sentence(path: Path) -> str:
    """The ``summary`` of a day's summary.json, or nothing when it cannot be read."""
    try:
        summary = json.loads(read_small(path, SUMMARY_BYTES)).get("summary", "")
    except (OSError, ValueError, AttributeError, PoolwatchError):
        return ""
    return summary if isinstance(summary, str) else ""


def write_index(out: Path, trend: pd.DataFrame, config: Config) -> None:
    """Write ``out/index.html`` atomically."""
    write_text(out / "index.html", render(out, trend, config))
