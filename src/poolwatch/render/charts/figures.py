"""The report's matplotlib charts: thread counts, executor mix, fallback rates, runs
at once, durations, host threads and the history's trends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from matplotlib import dates as mdates
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from poolwatch.config import TRENDED, worded_ranges
from poolwatch.findings import (
    InstanceRow,
    MetricRow,
    RunTime,
    ThreadPoint,
    TimePoint,
    TrendDay,
)
from poolwatch.render.charts.style import (
    BAND_ALPHA,
    CRITICAL,
    GRADE_COLORS,
    HEALTHY,
    INSTANCE_COLORS,
    INSTANCE_MARKERS,
    LINE,
    MARKS,
    MUTED,
    PATH_COLORS,
    PATH_LABELS,
    PATH_MARKERS,
    PATH_TEXT,
    UNKNOWN,
    WARNING,
)
from poolwatch.render.charts.svg import new_figure, printable, svg_of
from poolwatch.states import Grade


def _titles(figure: Figure, ax: Axes, title: str, subtitle: str) -> None:
    """A bold title at the top left and a muted line under it."""
    figure.suptitle(title, x=0.01, ha="left")
    ax.set_title(subtitle, loc="left", color=MUTED, fontsize=8.5)


def _days(times: Sequence[datetime]) -> list[float]:
    """Matplotlib's day numbers of UTC times (naive ones read as UTC)."""
    days = mdates.date2num(list(times))  # type: ignore[no-untyped-call]
    return [float(day) for day in days]


def _time_axis(ax: Axes, xs: Sequence[float]) -> None:
    """A UTC time x axis with concise date ticks, widened around a single instant."""
    locator = mdates.AutoDateLocator(tz=UTC, minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    # Ticks between minutes read 09:40:30, not a bare "30" between 09:40 and 09:41.
    formats = ["%Y", "%b", "%d", "%H:%M", "%H:%M", "%H:%M:%S"]
    concise = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator, tz=UTC, formats=formats, zero_formats=["", "%Y", "%b", "%b-%d", "%H:%M", "%H:%M"]
    )
    ax.xaxis.set_major_formatter(concise)
    ax.set_xlabel("time (UTC)")
    if min(xs) == max(xs):
        ax.set_xlim(xs[0] - 1 / 48, xs[0] + 1 / 48)


def _plain(value: float, _position: float | None = None) -> str:
    """A tick number without exponent notation."""
    return f"{value:g}"


def _band_labels(ax: Axes, top: float, warning: float, critical: float) -> None:
    """Names the guide's three bands on the right edge, in their colours."""
    side = ax.secondary_yaxis("right")
    grades = (Grade.HEALTHY, Grade.WARNING, Grade.CRITICAL)
    ranges = worded_ranges(warning, critical, "threads")
    side.set_yticks(
        [warning / 2, (warning + critical) / 2, (critical + top) / 2],
        labels=[f"{grade}\n{words}" for grade, words in zip(grades, ranges, strict=True)],
    )
    side.tick_params(length=0)
    side.spines["right"].set_visible(False)
    for text, color in zip(side.get_yticklabels(), (HEALTHY, WARNING, CRITICAL), strict=True):
        text.set_color(color)


def _columns(labels: Sequence[str]) -> int:
    """The most legend columns whose labels fit side by side across the chart."""
    widths = [44 + 5 * len(label) for label in labels]
    for columns in range(len(labels), 1, -1):
        rows = -(-len(labels) // columns)
        if sum(max(widths[i : i + rows]) for i in range(0, len(labels), rows)) <= 460:
            return -(-len(labels) // rows)
    return 1


def _note(ax: Axes, x: float, y: float, text: str, **style: Any) -> None:
    """Small text inside the axes that the layout need not make room for."""
    ax.text(x, y, text, fontsize=8, **style).set_in_layout(False)


def _percent(value: float, _position: float | None = None) -> str:
    """A percent tick: ``20 %``."""
    return f"{value:g} %"


def thread_counts(
    points: tuple[ThreadPoint, ...], warning: float, critical: float, *, sampled: bool = False
) -> str | None:
    """Per-process thread counts by instance over time, over the guide's bands; counts
    without a time are left out (and said so) when others have one, and with no time at
    all each instance gets a column of its counts in log order."""
    if not points:
        return None
    untimed = sum(p.at is None for p in points)
    timed = untimed < len(points)
    if timed:
        points = tuple(p for p in points if p.at is not None)
    instances = list(dict.fromkeys(p.instance for p in points))
    top = max(critical * 1.2, max(p.threads for p in points) * 1.08)
    with new_figure("threads", 3.6) as figure:
        ax = figure.add_subplot()
        ax.axhspan(0, warning, color=HEALTHY, alpha=BAND_ALPHA, lw=0)
        ax.axhspan(warning, critical, color=WARNING, alpha=BAND_ALPHA, lw=0)
        ax.axhspan(critical, top, color=CRITICAL, alpha=BAND_ALPHA, lw=0)
        every: list[float] = []
        for i, instance in enumerate(instances):
            mine = [p for p in points if p.instance == instance]
            xs = _days([p.at for p in mine if p.at]) if timed else _in_log_order(i, len(mine))
            pairs = sorted(zip(xs, (float(p.threads) for p in mine), strict=True))
            every.extend(x for x, _ in pairs)
            ax.plot(
                [x for x, _ in pairs],
                [y for _, y in pairs],
                color=INSTANCE_COLORS[i % len(INSTANCE_COLORS)],
                marker=INSTANCE_MARKERS[i % len(INSTANCE_MARKERS)],
                markersize=4,
                markevery=max(1, len(pairs) // MARKS),
                lw=0.8,
                label=printable(instance),
            )
        if timed:
            _time_axis(ax, every)
        else:
            ax.set_xticks(range(len(instances)), labels=[printable(i) for i in instances],
                          rotation=20, ha="right", fontsize=7)  # fmt: skip
            ax.set_xlim(-0.6, len(instances) - 0.4)
            ax.set_xlabel("instance: no time axis, the logs carry no dates; counts in log order")
        ax.set_ylim(0, top)
        ax.set_ylabel("threads per process")
        _band_labels(ax, top, warning, critical)
        _titles(
            figure,
            ax,
            "Thread count per process, by instance",
            ("from the monitor's samples" if sampled else "from overload messages and snapshots")
            + "; bands: the guide's Health Check Thresholds"
            + (f"; {untimed} counts without a time left out" if timed and untimed else ""),
        )
        figure.legend(loc="outside lower center", ncols=_columns(instances), title="instance")
        return svg_of(figure, "threads")


def _in_log_order(column: int, count: int) -> list[float]:
    """x positions for an instance's ``count`` counts in its column, left to right."""
    if count == 1:
        return [float(column)]
    return [column - 0.3 + 0.6 * k / (count - 1) for k in range(count)]


def executor_mix(rows: tuple[InstanceRow, ...]) -> str | None:
    """Each instance's finished runs split by executor path, as stacked horizontal bars."""
    if not rows:
        return None
    ys = list(range(len(rows)))
    with new_figure("mix", 1.4 + 0.28 * len(rows)) as figure:
        ax = figure.add_subplot()
        left = [0.0] * len(rows)
        for path, color in PATH_COLORS.items():
            shares = [float(getattr(r.mix, path)) for r in rows]
            ax.barh(ys, shares, left=left, height=0.62, color=color, label=PATH_LABELS[path])
            for y, start, share in zip(ys, left, shares, strict=True):
                if share >= 8:
                    _note(
                        ax,
                        start + share / 2,
                        y,
                        f"{share:.0f} %",
                        ha="center",
                        va="center",
                        color=PATH_TEXT[path],
                    )
            left = [a + b for a, b in zip(left, shares, strict=True)]
        for y, row in zip(ys, rows, strict=True):
            if not row.finished:
                _note(ax, 1, y, "no finished runs", va="center", color=UNKNOWN)
        ax.set_yticks(ys, labels=[f"{printable(r.instance)} ({r.finished} finished)" for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.set_xlabel("share of finished runs")
        ax.set_ylabel("instance")
        _titles(figure, ax, "Executor path by instance", "a run counts under its worst task's path")
        figure.legend(loc="outside lower center", ncols=_columns(list(PATH_LABELS.values())))
        return svg_of(figure, "mix")


#: The thresholds-table rows ``fallback_rates`` draws, and what each row's runs did.
FALLBACKS = {
    "processpool_fallback_rate": "ProcessPool failed",
    "threadpool_fallback_rate": "ThreadPool failed too",
}


def fallback_rates(metrics: tuple[MetricRow, ...]) -> str | None:
    """ProcessPool and ThreadPool fallback rates, each over its own warning and critical band."""
    rows = [m for name in FALLBACKS for m in metrics if m.name == name]
    if not rows:
        return None
    known = [m.value for m in rows if m.value is not None]
    right = min(100.0, max([m.critical * 1.3 for m in rows] + [v * 1.12 for v in known]))
    with new_figure("fallbacks", 1.2 + 0.7 * len(rows)) as figure:
        ax = figure.add_subplot()
        for y, row in enumerate(rows):
            _fallback_row(ax, y, row, right)
        ax.set_yticks(range(len(rows)), labels=[f"{m.title}\n({FALLBACKS[m.name]})" for m in rows])
        ax.set_ylim(len(rows) - 0.55, -0.7)
        ax.set_xlim(0, right)
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.set_xlabel("share of finished runs with a fallback")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        _titles(
            figure,
            ax,
            "ProcessPool and ThreadPool fallback rates",
            "bar coloured by its grade; bands and limits: the guide's Health Check Thresholds",
        )
        grades = (Grade.HEALTHY, Grade.WARNING, Grade.CRITICAL)
        bands = [Patch(color=GRADE_COLORS[g], alpha=0.3, label=g.value) for g in grades]
        figure.legend(handles=bands, loc="outside lower center", ncols=3)
        return svg_of(figure, "fallbacks")


def _fallback_row(ax: Axes, y: int, row: MetricRow, right: float) -> None:
    """One metric: its bands, its limits, its bar and its value (or ``unknown``)."""
    spans = ((0.0, row.warning, HEALTHY), (row.warning, row.critical, WARNING))
    for start, end, color in (*spans, (row.critical, right, CRITICAL)):
        ax.barh(y, max(0.0, end - start), left=start, height=0.7, color=color, alpha=BAND_ALPHA)
    for limit, color in ((row.warning, WARNING), (row.critical, CRITICAL)):
        ax.vlines(limit, y - 0.35, y + 0.35, color=color, lw=1.5)
        _note(ax, limit, y - 0.37, f"{limit:g} %", ha="center", va="bottom", color=color)
    if row.value is None:
        box = {"facecolor": "#ffffff", "edgecolor": "none", "pad": 1.5}
        text = "unknown: no data"
        _note(ax, right / 2, y, text, ha="center", va="center", color=UNKNOWN, bbox=box)
        return
    color = GRADE_COLORS.get(row.grade, UNKNOWN)
    ax.barh(y, row.value, height=0.3, color=color)
    # On a white box beside the bar, or on the bar itself when it reaches far right;
    # either way the box keeps the limit lines from crossing the text.
    inside = row.value / right >= 0.7
    box = {"facecolor": color if inside else "#ffffff", "edgecolor": "none", "pad": 1.5}
    _note(
        ax,
        row.value + (-0.01 if inside else 0.01) * right,
        y,
        f"{row.value:.0f} % ({row.grade})",
        ha="right" if inside else "left",
        va="center",
        color="#ffffff" if inside else color,
        fontweight="bold",
        bbox=box,
    )


def running(points: tuple[TimePoint, ...], instances: float) -> str | None:
    """Instances running at once over time, against the configured fleet size."""
    if not points:
        return None
    xs = _days([p.at for p in points])
    ys = [p.value for p in points]
    with new_figure("running", 3.0) as figure:
        ax = figure.add_subplot()
        ax.fill_between(xs, ys, step="post", color=LINE, alpha=0.15, lw=0)
        ax.step(xs, ys, where="post", color=LINE, lw=1.5, marker="o" if len(xs) == 1 else "")
        ax.axhline(instances, color=MUTED, ls="--", lw=1)
        side = ax.secondary_yaxis("right")
        side.set_yticks([instances], labels=[f"configured\nfleet: {instances:g}"])
        side.tick_params(length=0, labelcolor=MUTED)
        side.spines["right"].set_visible(False)
        _time_axis(ax, xs)
        ax.set_ylim(0, max(instances, *ys) * 1.15 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("instances running")
        _titles(figure, ax, "Instances running at once", "dashed: the configured fleet size")
        return svg_of(figure, "running")


def durations(runs: tuple[RunTime, ...]) -> str | None:
    """Measured run times against the guide's expected range for each run's tasks."""
    if not runs:
        return None
    values = [v for r in runs for v in (r.seconds, r.expected_low, r.expected_high)]
    low, high = min(values), max(values)
    log = low > 0 and high / low >= 20
    lo, hi = (low / 1.5, high * 1.5) if log else (0.0, high * 1.08)
    with new_figure("durations", 4.0) as figure:
        ax = figure.add_subplot()
        paths = list(PATH_COLORS) + sorted({r.path for r in runs} - set(PATH_COLORS))
        handles: list[Artist] = []
        for path in paths:
            mine = [r for r in runs if r.path == path]
            if mine:
                handles.append(_duration_points(ax, path, mine))
        (diagonal,) = ax.plot([lo, hi], [lo, hi], color=MUTED, ls="--", lw=1)
        diagonal.set_label("measured = expected (upper end)")
        expected = Line2D(
            [], [], color=UNKNOWN, alpha=0.35, lw=3, label="expected range (low-high)"
        )
        handles.extend((expected, diagonal))
        if log:
            _log_axes(ax)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("expected for the run's tasks and paths, upper end (s)")
        ax.set_ylabel("measured run time (s)")
        _titles(
            figure,
            ax,
            "Run time against the guide's Performance Expectations",
            "above the dashed line: slower than the guide expects for the run's tasks",
        )
        labels = [str(h.get_label()) for h in handles]
        figure.legend(handles=handles, loc="outside lower center", ncols=_columns(labels))
        return svg_of(figure, "durations")


def _log_axes(ax: Axes) -> None:
    """Both axes logarithmic, with plain numbers and no minor ticks."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_plain))
        axis.set_minor_locator(NullLocator())


def _duration_points(ax: Axes, path: str, runs: list[RunTime]) -> Line2D:
    """One path's runs: a point for each, over a bar of its expected range."""
    color = PATH_COLORS.get(path, UNKNOWN)
    nan = float("nan")
    xs = [x for r in runs for x in (r.expected_high, r.expected_high, nan)]
    ys = [y for r in runs for y in (r.expected_low, r.expected_high, nan)]
    ax.plot(xs, ys, color=color, alpha=0.3, lw=3, solid_capstyle="butt")
    (points,) = ax.plot(
        [r.expected_high for r in runs],
        [r.seconds for r in runs],
        ls="",
        marker=PATH_MARKERS.get(path, "o"),
        markersize=4.5,
        color=color,
        label=PATH_LABELS.get(path, printable(path)),
    )
    return points


def host_threads(points: tuple[TimePoint, ...]) -> str | None:
    """The monitor's host-wide thread total over time, shown as context only."""
    if not points:
        return None
    xs = _days([p.at for p in points])
    ys = [p.value for p in points]
    with new_figure("host", 2.8) as figure:
        ax = figure.add_subplot()
        ax.plot(xs, ys, color=UNKNOWN, lw=1.3, marker="o" if len(xs) == 1 else "")
        _time_axis(ax, xs)
        ax.set_ylim(0, max(ys) * 1.12 + 1)
        ax.set_ylabel("threads on the host")
        _titles(
            figure,
            ax,
            "Every thread on the host (monitor's System=), for context",
            "all processes of the machine, not only the fleet's: not graded against any threshold",
        )
        return svg_of(figure, "host")


# --- the history ---------------------------------------------------------------------------

#: The trend charts' metrics and their axis labels.
_TRENDS = tuple((m.id, m.axis_title) for m in TRENDED)


def trends(days: tuple[TrendDay, ...], limits: tuple[tuple[str, float, float], ...]) -> str | None:
    """The key metrics of the recorded days, each beside its warning and critical limits,
    each day's point coloured by that metric's grade that day."""
    if not days:
        return None
    bands = {name: (warning, critical) for name, warning, critical in limits}
    xs = _days([datetime(d.day.year, d.day.month, d.day.day, tzinfo=UTC) for d in days])
    with new_figure("trends", 4.6) as figure:
        axes = figure.subplots(2, 2, sharex=True)
        for ax, (name, label) in zip(axes.flat, _TRENDS, strict=True):
            values = [getattr(d, name) for d in days]
            grades = [dict(d.grades).get(name, Grade.UNKNOWN) for d in days]
            _trend_axis(ax, xs, values, grades, band=bands.get(name), label=label)
        figure.suptitle("The last 30 days", x=0.01, ha="left")
        return svg_of(figure, "trends")


def _trend_axis(
    ax: Axes,
    xs: list[float],
    values: list[float | None],
    grades: list[Grade],
    *,
    band: tuple[float, float] | None,
    label: str,
) -> None:
    """One metric over the days: a line, each day's grade of it in colour, the limits."""
    known = [(x, v, c) for x, v, c in zip(xs, values, grades, strict=True) if v is not None]
    if known:
        ax.plot([k[0] for k in known], [k[1] for k in known], color=MUTED, lw=1)
        ax.scatter([k[0] for k in known], [k[1] for k in known], s=14, zorder=3,
                   c=[GRADE_COLORS.get(k[2], UNKNOWN) for k in known])  # fmt: skip
    if band is not None:
        ax.axhline(band[0], color=WARNING, lw=0.8, ls="--")
        ax.axhline(band[1], color=CRITICAL, lw=0.8, ls="--")
    top = max([v for v in values if v is not None] + [band[1] * 1.2 if band else 1.0])
    ax.set_ylim(0, top * 1.08)
    ax.set_title(label, loc="left", fontsize=8.5, color=MUTED)
    step = max(1, round((max(xs) - min(xs)) / 5))
    locator = mdates.DayLocator(interval=step, tz=UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))  # type: ignore[no-untyped-call]
    if min(xs) == max(xs):
        ax.set_xlim(xs[0] - 1, xs[0] + 1)
