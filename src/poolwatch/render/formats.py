"""How numbers, times and names read in every report: jinja2 filters shared by the
HTML report and ticket.md, so that the two never word a value differently."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from poolwatch.analyze.hosts import name as host_name
from poolwatch.errors import without_bidi
from poolwatch.findings import ExecutorMix, HostFindings
from poolwatch.history.compare import amount, intro
from poolwatch.render import assets

#: A command in the guide's words, set off by backticks as the guide sets it (the HTML
#: page sets it as code that does not break, the ticket as a code span).
COMMAND = re.compile(r"`([^`]+)`")


def pct(value: float) -> str:
    """``75 %``."""
    return f"{value:.0f} %"


def when(value: datetime | None) -> str:
    """A UTC time to the minute, or a dash."""
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def window(span: tuple[datetime | None, datetime | None]) -> str:
    """``2025-10-14 09:36 UTC → 2025-10-14 10:27 UTC``, or why there is no window."""
    start, end = span
    if start is None and end is None:
        return "unknown: no line of the logs carries a date (run logs have none)"
    return f"{when(start)} → {when(end)}"


def clock(value: datetime | None) -> str:
    """A UTC time to the second, or ``time unknown``."""
    return "time unknown" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def size(count: int | None) -> str:
    """Bytes for people: ``1.2 MB``."""
    if count is None:
        return "-"
    amount = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    raise AssertionError("unreachable")


def number(count: int | None) -> str:
    """``1,234``, or a dash."""
    return "-" if count is None else f"{count:,}"


def origin(source: str) -> str:
    """Where a limit came from, in a few words: ``stated by the logs``, ``the guide's
    default``, ``set in poolwatch.toml``."""
    if source.startswith("logs:"):
        return "stated by the logs"
    if source.startswith("guide:"):
        return "the guide's default"
    return f"set in {source}"


def paths(shares: ExecutorMix) -> str:
    """Every executor path's share of the finished runs, or that none was measured."""
    values = asdict(shares)
    if not any(values.values()):
        return "not measured: no run finished"
    return (f"{pct(shares.process)} ProcessPool, {pct(shares.thread)} ThreadPool, "
            f"{pct(shares.sequential)} sequential, {pct(shares.timeout)} timeout")  # fmt: skip


def mix(shares: ExecutorMix) -> str:
    """``75 % process · 25 % thread``: the executor paths a share of runs took."""
    parts = [f"{share:.0f} % {path}" for path, share in asdict(shares).items() if share >= 0.5]
    return " · ".join(parts) or "-"


def templates(
    *, autoescape: bool, finalize: Callable[[object], object] | None = None, **options: Any
) -> jinja2.Environment:
    """The environment of poolwatch's templates: strict about undefined names, blocks
    trimmed, these filters registered, and every printed value (after ``finalize``)
    rid of directional controls, so that quoted log text displays in its own order;
    ``options`` add to jinja2's own."""

    def printed(value: object) -> object:
        value = value if finalize is None else finalize(value)
        if isinstance(value, Markup):
            return Markup(without_bidi(str(value)))
        return without_bidi(value) if isinstance(value, str) else value

    env = jinja2.Environment(
        loader=Templates(),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=printed,
        **options,
    )
    env.filters.update(FILTERS)
    return env


class Templates(jinja2.BaseLoader):
    """The templates' folder as a jinja2 loader whose every read is bounded."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """A template's text, its file name, and whether it is unchanged since."""
        path = assets.folder().joinpath(*jinja2.loaders.split_template_path(template))
        if not path.exists():
            raise jinja2.TemplateNotFound(template)
        mtime = path.stat().st_mtime
        return assets.text(path), str(path), lambda: _unchanged(path, mtime)


def _unchanged(path: Path, mtime: float) -> bool:
    """Whether the file at ``path`` still has modification time ``mtime``."""
    try:
        return path.stat().st_mtime == mtime
    except OSError:
        return False


def host_line(host: HostFindings) -> str:
    """A host in one line: ``host2: critical, 8 instances at once, 32 runs; first action:
    Reduce concurrent instances from 8 to 4``."""
    f = host.findings
    at_once = "" if f.concurrency is None else f", {f.concurrency} instances at once"
    first = f"; first action: {f.actions[0].text}" if f.actions else ""
    return f"{host_name(host.host)}: {f.verdict}{at_once}, {f.runs.total} runs{first}"


FILTERS = {
    "host_line": host_line,
    "host_name": host_name,
    "mix": mix,
    "paths": paths,
    "history_intro": intro,
    "origin": origin,
    "pct": pct,
    "when": when,
    "window": window,
    "clock": clock,
    "value": amount,
    "size": size,
    "number": number,
}
