"""The report's charts as inline SVG: matplotlib figures and the guide's decision tree.

Every chart is a self-contained ``<svg>`` element for an HTML page (and the PDF
WeasyPrint makes of it): no XML prolog, a viewBox and no fixed size so CSS scales it,
real text in DejaVu Sans, and ids prefixed with the chart's name so that several
charts can share one document. The same input always gives the same bytes.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import graphviz
import matplotlib as mpl
from matplotlib import dates as mdates
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator
from matplotlib.typing import RcKeyType

from poolwatch.config import worded_ranges
from poolwatch.findings import (
    InstanceRow,
    MetricRow,
    RunTime,
    Step,
    ThreadPoint,
    TimePoint,
    TreeNode,
    TrendDay,
)
from poolwatch.states import Grade

#: Grade colours, the same in every chart and table of the report.
HEALTHY = "#1a7f37"
WARNING = "#9a6700"
CRITICAL = "#cf222e"
UNKNOWN = "#6e7781"
GRADE_COLORS = {Grade.HEALTHY: HEALTHY, Grade.WARNING: WARNING, Grade.CRITICAL: CRITICAL,
                Grade.UNKNOWN: UNKNOWN}  # fmt: skip

#: Executor paths (Paul Tol's colour-blind-safe "vibrant" scheme).
PATH_COLORS = {
    "process": "#0077bb",
    "thread": "#009988",
    "sequential": "#ee7733",
    "timeout": "#cc3311",
}
#: The executor paths' names. "Fallback" is kept for the guide's two fallback rates (a
#: pool that failed), which ``FALLBACKS`` names, so that no word means two things.
PATH_LABELS = {
    "process": "ProcessPool",
    "thread": "ThreadPool (1 worker)",
    "sequential": "sequential",
    "timeout": "timeout",
}
PATH_MARKERS = {"process": "o", "thread": "s", "sequential": "^", "timeout": "X"}
#: Text drawn on a bar of each path's colour.
PATH_TEXT = {
    "process": "#ffffff",
    "thread": "#ffffff",
    "sequential": "#000000",
    "timeout": "#ffffff",
}

#: One colour per instance (Okabe-Ito, olive for its pale yellow), and markers on another cycle.
INSTANCE_COLORS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#000000",
    "#999933",
)
INSTANCE_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: At most about this many markers per instance; the line joins every point.
MARKS = 80

INK = "#1f2328"
MUTED = "#57606a"
LINE = "#0969da"
BAND_ALPHA = 0.12

#: The tree: taken nodes and edges in LINE, untaken ones muted.
TREE_FONT = "DejaVu Sans"
TREE_WRAP = 20
EVIDENCE_WRAP = 24
TAKEN_FILL = "#ddf4ff"
UNTAKEN_FILL = "#f6f8fa"
UNTAKEN_LINE = "#afb8c1"
NOTE_FILL = "#fff8c5"

#: A chart is drawn 17 cm wide (A4 less margins): one SVG unit is one point there.
WIDTH = 17 / 2.54
PREFIX = "pw-"

_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "text.parse_math": False,
    "timezone": "UTC",
}

#: rc_context changes matplotlib's process-wide settings while a chart is drawn: one at a time.
_RC_LOCK = threading.Lock()

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
_STYLESHEET = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
_EMPTY_DEFS = re.compile(r"<defs>\s*</defs>")
_BETWEEN_TAGS = re.compile(r">\s+<")
_NEWLINES = re.compile(r"\s*\n\s*")
_TAG = re.compile(r"<[^<>]+>")
_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')
_ID = re.compile(r'(\sid=")')
_REF = re.compile(r'(url\(#|href="#)')
_GRAPHVIZ_TITLE = re.compile(r"<title>[^<]*</title>")


# --- SVG text ------------------------------------------------------------------------------


def _printable(text: str) -> str:
    """Text without control characters, which XML cannot hold."""
    return "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")


def _tidy(svg: str, name: str, title: str, root: str = "") -> str:
    """The bare, responsive ``<svg>`` element, its ids prefixed with the chart's name."""
    svg = svg[svg.index("<svg") :]
    for pattern in (_COMMENT, _METADATA, _STYLESHEET, _EMPTY_DEFS):
        svg = pattern.sub("", svg)
    svg = _NEWLINES.sub(" ", _BETWEEN_TAGS.sub("><", svg)).strip()
    prefix = f"{PREFIX}{name}-"

    def prefixed(tag: re.Match[str]) -> str:
        text = _ID.sub(lambda m: m[1] + prefix, tag[0])
        return _REF.sub(lambda m: m[1] + prefix, text)

    svg = _TAG.sub(prefixed, svg)
    label = html.escape(title, quote=True)
    head = _ROOT.search(svg)
    assert head is not None
    tag = _SIZE.sub("", head[0])[:-1] + f' role="img" aria-label="{label}"{root}>'
    return svg[: head.start()] + tag + svg[head.end() :]


# --- matplotlib ----------------------------------------------------------------------------


@contextmanager
def _figure(name: str, height: float) -> Iterator[Figure]:
    """A figure drawn by the SVG backend alone, under the report's style."""
    with _RC_LOCK, mpl.rc_context({**_STYLE, "svg.hashsalt": f"poolwatch-{name}"}):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        FigureCanvasSVG(figure)
        yield figure


def _svg(figure: Figure, name: str) -> str:
    """The figure as a tidy inline ``<svg>`` (call inside ``_figure``)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    title = figure.get_suptitle()
    return _tidy(buffer.getvalue(), name, title, ' stroke-linejoin="round" stroke-linecap="butt"')


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
    with _figure("threads", 3.6) as figure:
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
                label=_printable(instance),
            )
        if timed:
            _time_axis(ax, every)
        else:
            ax.set_xticks(range(len(instances)), labels=[_printable(i) for i in instances],
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
        return _svg(figure, "threads")


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
    with _figure("mix", 1.4 + 0.28 * len(rows)) as figure:
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
        ax.set_yticks(
            ys, labels=[f"{_printable(r.instance)} ({r.finished} finished)" for r in rows]
        )
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.set_xlabel("share of finished runs")
        ax.set_ylabel("instance")
        _titles(figure, ax, "Executor path by instance", "a run counts under its worst task's path")
        figure.legend(loc="outside lower center", ncols=_columns(list(PATH_LABELS.values())))
        return _svg(figure, "mix")


#: The thresholds-table rows ``fallback_rates`` draws, and their names in the guide.
FALLBACKS = {
    "processpool_fallback_rate": "ProcessPool fallback\n(ProcessPool failed)",
    "threadpool_fallback_rate": "ThreadPool fallback\n(ThreadPool failed too)",
}


def fallback_rates(metrics: tuple[MetricRow, ...]) -> str | None:
    """ProcessPool and ThreadPool fallback rates, each over its own warning and critical band."""
    rows = [m for name in FALLBACKS for m in metrics if m.name == name]
    if not rows:
        return None
    known = [m.value for m in rows if m.value is not None]
    right = min(100.0, max([m.critical * 1.3 for m in rows] + [v * 1.12 for v in known]))
    with _figure("fallbacks", 1.2 + 0.7 * len(rows)) as figure:
        ax = figure.add_subplot()
        for y, row in enumerate(rows):
            _fallback_row(ax, y, row, right)
        ax.set_yticks(range(len(rows)), labels=[FALLBACKS[m.name] for m in rows])
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
        return _svg(figure, "fallbacks")


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
    with _figure("running", 3.0) as figure:
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
        return _svg(figure, "running")


def durations(runs: tuple[RunTime, ...]) -> str | None:
    """Measured run times against the guide's expected range for each run's tasks."""
    if not runs:
        return None
    values = [v for r in runs for v in (r.seconds, r.expected_low, r.expected_high)]
    low, high = min(values), max(values)
    log = low > 0 and high / low >= 20
    lo, hi = (low / 1.5, high * 1.5) if log else (0.0, high * 1.08)
    with _figure("durations", 4.0) as figure:
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
        return _svg(figure, "durations")


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
        label=PATH_LABELS.get(path, _printable(path)),
    )
    return points


def host_threads(points: tuple[TimePoint, ...]) -> str | None:
    """The monitor's host-wide thread total over time, shown as context only."""
    if not points:
        return None
    xs = _days([p.at for p in points])
    ys = [p.value for p in points]
    with _figure("host", 2.8) as figure:
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
        return _svg(figure, "host")


# --- the decision tree ---------------------------------------------------------------------


def _lines(text: str, width: int) -> list[str]:
    """Text wrapped to lines of about ``width`` characters (at least one line)."""
    return textwrap.wrap(" ".join(_printable(text).split()), width) or [""]


def _markup(text: str, width: int) -> str:
    """Wrapped text as the body of a Graphviz HTML-like label, every character escaped."""
    return "<br/>".join(html.escape(line, quote=False) for line in _lines(text, width))


def _label(text: str, note: str | None = None) -> str:
    """An HTML-like node label: the text, and a smaller muted note under it."""
    body = _markup(text, TREE_WRAP)
    if note:
        small = _markup(note, EVIDENCE_WRAP).replace("<br/>", '<br align="left"/>')
        body += f'<br/><font point-size="9" color="{MUTED}">{small}<br align="left"/></font>'
    return f"<{body}>"


def depths(nodes: Sequence[TreeNode]) -> dict[str, int]:
    """Each node's distance from its root (a node whose parent is missing is a root)."""
    parents = {n.id: n.parent for n in nodes}
    depths: dict[str, int] = {}
    for node in nodes:
        seen: set[str] = set()
        at: str | None = node.id
        while at is not None and at in parents and at not in seen:
            seen.add(at)
            at = parents[at]
        depths[node.id] = len(seen) - 1
    return depths


def _evidence(
    nodes: Sequence[TreeNode], path: Sequence[Step]
) -> tuple[dict[str, str], list[tuple[str | None, Step]]]:
    """The evidence each node shows, and the off-tree answers with the node they hang from."""
    known = {n.id for n in nodes}
    levels = depths(nodes)
    taken = [n.id for n in nodes if n.taken]
    deepest = max(taken, key=lambda i: levels[i], default=nodes[0].id if nodes else None)
    notes: dict[str, str] = {}
    off: list[tuple[str | None, Step]] = []
    last = deepest
    for step in path:
        if step.node is not None and step.node in known:
            notes[step.node] = (
                f"{notes[step.node]}; {step.evidence}" if step.node in notes else step.evidence
            )
            last = step.node
        else:
            off.append((last, step))
    return notes, off


def _digraph() -> graphviz.Digraph:
    """An empty left-to-right tree in the report's fonts and muted colours."""
    return graphviz.Digraph(
        "decision_tree",
        graph_attr={"rankdir": "LR", "nodesep": "0.1", "ranksep": "0.2", "pad": "0.04"},
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fontname": TREE_FONT,
            "fontsize": "10",
            "margin": "0.13,0.05",
            "fillcolor": UNTAKEN_FILL,
            "color": UNTAKEN_LINE,
            "fontcolor": MUTED,
        },
        edge_attr={"color": UNTAKEN_LINE, "arrowsize": "0.6"},
    )


def _taken_style() -> dict[str, str]:
    """Attributes of a node or edge on the walked path."""
    return {
        "class": "taken",
        "color": LINE,
        "penwidth": "2.5",
        "fillcolor": TAKEN_FILL,
        "fontcolor": INK,
    }


#: Attributes of a node or edge off the walked path, and of a note where the data left the tree.
_UNTAKEN = {"class": "untaken"}
_OFF_TREE = {
    "class": "off-tree",
    "color": WARNING,
    "fillcolor": NOTE_FILL,
    "penwidth": "2",
    "fontcolor": INK,
}


def decision_tree(nodes: tuple[TreeNode, ...], path: tuple[Step, ...]) -> str | None:
    """The guide's decision tree with the walk the data took highlighted and its numbers;
    None when Graphviz's ``dot`` is not installed (the report then shows an outline)."""
    names: dict[str, str] = {}
    for i, node in enumerate(nodes):
        names.setdefault(node.id, f"n{i}")
    taken = {n.id for n in nodes if n.taken}
    notes, off = _evidence(nodes, path)
    dot = _digraph()
    for i, node in enumerate(nodes):
        style = _taken_style() if node.id in taken else _UNTAKEN
        dot.node(f"n{i}", _label(node.label, notes.get(node.id)), id=f"node{i}", **style)
        if node.parent in names:
            both = node.id in taken and node.parent in taken
            edge = _taken_style() if both else _UNTAKEN
            dot.edge(names[node.parent], f"n{i}", id=f"edge{i}", **edge)
    for j, (anchor, step) in enumerate(off):
        note = f"off{j}"
        label = _label(step.answer, step.evidence)
        dot.node(note, label, id=f"offtree{j}", shape="note", style="filled", **_OFF_TREE)
        if anchor is not None:
            dot.edge(names[anchor], note, id=f"offedge{j}", style="dashed", **_OFF_TREE)
    if not nodes and not off:
        dot.node("empty", _label("No decision tree to draw"), id="empty", **_UNTAKEN)
    try:
        svg: str = dot.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return None
    # Graphviz titles each shape with its DOT name: a tooltip that means nothing to a reader.
    svg = _GRAPHVIZ_TITLE.sub("", svg)
    return _tidy(svg, "tree", "The guide's Troubleshooting Decision Tree, walked on the data")


# --- the history ---------------------------------------------------------------------------

#: The trend charts' metrics and their axis labels.
_TRENDS = (
    ("processpool_fallback_rate", "ProcessPool fallback (% of runs)"),
    ("threadpool_fallback_rate", "ThreadPool fallback (% of runs)"),
    ("timeout_rate", "timeout rate (% of runs)"),
    ("thread_count", "thread count (peak per process)"),
)


def trends(days: tuple[TrendDay, ...], limits: tuple[tuple[str, float, float], ...]) -> str | None:
    """The key metrics of the recorded days, each beside its warning and critical limits,
    each day's point coloured by that metric's grade that day."""
    if not days:
        return None
    bands = {name: (warning, critical) for name, warning, critical in limits}
    xs = _days([datetime(d.day.year, d.day.month, d.day.day, tzinfo=UTC) for d in days])
    with _figure("trends", 4.6) as figure:
        axes = figure.subplots(2, 2, sharex=True)
        for ax, (name, label) in zip(axes.flat, _TRENDS, strict=True):
            values = [getattr(d, name) for d in days]
            grades = [dict(d.grades).get(name, Grade.UNKNOWN) for d in days]
            _trend_axis(ax, xs, values, grades, band=bands.get(name), label=label)
        figure.suptitle("The last 30 days", x=0.01, ha="left")
        return _svg(figure, "trends")


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
