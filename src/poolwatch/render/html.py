"""report.html: the Findings laid out by the jinja2 templates, with inline SVG charts.

One self-contained file: the stylesheet and every chart are inlined, nothing is
fetched, no script runs. Log text is data: the environment autoescapes everything,
and only the charts (SVG drawn by matplotlib and Graphviz, which escape their own
text) are marked safe.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace

import jinja2
from markupsafe import Markup, escape

from poolwatch.findings import Findings, TreeNode
from poolwatch.render import assets, charts
from poolwatch.render.charts.style import PALETTE
from poolwatch.render.formats import COMMAND, templates
from poolwatch.states import Verdict

#: The guide's emoji, as symbols every report font has (DejaVu has no emoji; a PDF
#: would show empty boxes): the same marks on screen, on paper and in the tree.
SYMBOLS = str.maketrans({"✅": "✓", "❌": "✗", "⚠": "⚠", "\ufe0f": None})

#: What each verdict is called on the badge, and its CSS class.
VERDICT_WORDS = {
    Verdict.HEALTHY: "Healthy",
    Verdict.WARNING: "Warning",
    Verdict.CRITICAL: "Critical",
    Verdict.UNKNOWN: "Unknown",
}


#: The Expected Production Pattern a fleet is, as the report words it.
PATTERN_WORDS = {
    "healthy": "Healthy Production",
    "overloaded": "Overloaded Production",
    "between": "Between Healthy and Overloaded Production",
}


@dataclass(frozen=True)
class Figures:
    """The report's charts as inline SVG (None: no data for that chart)."""

    tree: Markup | None
    """None when Graphviz's ``dot`` is missing: the outline stands in for it."""
    threads: Markup | None
    mix: Markup | None
    fallbacks: Markup | None
    running: Markup | None
    durations: Markup | None
    host_threads: Markup | None
    trends: Markup | None
    """The history's 30-day trend (daily summaries only)."""


@dataclass(frozen=True)
class ReportContext:
    """Everything the report templates may use; nothing else is defined for them."""

    f: Findings
    """The findings: every number, sentence and log line the report shows."""
    figures: Figures
    title: str
    verdict_word: str
    stylesheet: Markup
    """report.css, inlined so that the file works offline."""
    paper: str
    """CSS page size for print: ``A4`` or ``letter``."""
    inline_charts: bool
    """Charts as inline ``<svg>`` (the HTML file), or as ``<img>`` of the same SVG (for
    WeasyPrint, which lays out an image's SVG much faster than SVG in its document)."""
    pattern_word: str
    """The fleet's Expected Production Pattern in a few words (empty without one)."""
    tree_outline: tuple[OutlineRow, ...]
    """The decision tree as an indented list: on phones, and where Graphviz is missing."""


@dataclass(frozen=True)
class OutlineRow:
    """One box of the decision tree in its outline."""

    depth: int
    label: str
    taken: bool

    @property
    def indent(self) -> str:
        """The box's indent, by its depth (0.9 rem a level, at most six)."""
        return f"{min(self.depth, 6) * 0.9:g}rem"


def outline(nodes: tuple[TreeNode, ...]) -> tuple[OutlineRow, ...]:
    """The tree's boxes in reading order (each after its parent), indented by depth."""
    levels = charts.depths(nodes)
    children: dict[str | None, list[TreeNode]] = {}
    known = {n.id for n in nodes}
    for node in nodes:
        children.setdefault(node.parent if node.parent in known else None, []).append(node)
    rows: list[OutlineRow] = []
    seen: set[int] = set()
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        if id(node) in seen:  # a box reached twice (a malformed tree): listed once
            continue
        seen.add(id(node))
        rows.append(OutlineRow(levels[node.id], symbols(node.label), node.taken))
        stack.extend(reversed(children.get(node.id, [])))
    return tuple(rows)


def figures(findings: Findings) -> Figures:
    """Draw every chart of the findings."""
    f = findings
    warning, critical = f.charts.thread_band
    nodes = tuple(replace(n, label=symbols(n.label)) for n in f.tree)
    path = tuple(replace(s, answer=symbols(s.answer)) for s in f.decision_path)
    return Figures(
        tree=_safe(charts.decision_tree(nodes, path)),
        threads=_safe(
            charts.thread_counts(
                f.charts.threads, warning, critical, sampled=f.charts.threads_measured
            )
        ),
        mix=_safe(charts.executor_mix(f.instance_rows)),
        fallbacks=_safe(charts.fallback_rates(f.metrics)),
        running=_safe(charts.running(f.charts.running, f.charts.instances)),
        durations=_safe(charts.durations(f.charts.durations)),
        host_threads=_safe(charts.host_threads(f.charts.host_threads)),
        trends=_safe(charts.trends(f.history.days, f.history.limits)) if f.history else None,
    )


def symbols(text: str) -> str:
    """Text with the guide's emoji as symbols the report fonts have."""
    return text.translate(SYMBOLS)


def _finalize(value: object) -> object:
    """Every value a template prints, with emoji as symbols (markup stays markup)."""
    if isinstance(value, Markup):
        return Markup(str(value).translate(SYMBOLS))
    return symbols(value) if isinstance(value, str) else value


def commands(text: str) -> Markup:
    """Text, escaped, with each backticked command set as code that does not break."""
    return Markup(COMMAND.sub(r'<code class="cmd">\1</code>', str(escape(text))))


def data_uri(svg: Markup) -> str:
    """A chart's SVG as a ``data:`` URL, for an ``<img>``."""
    return "data:image/svg+xml;base64," + base64.b64encode(str(svg).encode()).decode("ascii")


def _safe(svg: str | None) -> Markup | None:
    """A chart's SVG, trusted: its text was escaped by the library that drew it."""
    return None if svg is None else Markup(svg)


def environment() -> jinja2.Environment:
    """The report templates' environment: autoescaped, strict about undefined names."""
    env = templates(autoescape=True, finalize=_finalize)
    env.filters["data_uri"] = data_uri
    env.filters["commands"] = commands
    return env


def stylesheet() -> Markup:
    """report.css, the one stylesheet for screen and print, after the palette it shares
    with the charts."""
    palette = "; ".join(f"--{name}: {color}" for name, color in PALETTE.items())
    return Markup(f":root {{ {palette}; }}\n" + assets.text(assets.folder() / "report.css"))


def render(
    findings: Findings,
    drawn: Figures | None = None,
    *,
    paper: str = "A4",
    inline_charts: bool = True,
) -> str:
    """report.html's text (with ``inline_charts=False``, the page the PDF is made from)."""
    context = ReportContext(
        f=findings,
        figures=drawn or figures(findings),
        title=f"poolwatch daily summary {findings.history.day.isoformat()}"
        if findings.history
        else "poolwatch incident report",
        verdict_word=VERDICT_WORDS[findings.verdict],
        stylesheet=stylesheet(),
        paper=paper,
        inline_charts=inline_charts,
        pattern_word=PATTERN_WORDS[findings.pattern.classification] if findings.pattern else "",
        tree_outline=outline(findings.tree),
    )
    template = environment().get_template("report.html.j2")
    return template.render(ctx=context)
