"""report.html: the Findings laid out by the jinja2 templates, with inline SVG charts.

One self-contained file: the stylesheet and every chart are inlined, nothing is
fetched, no script runs. Log text is data: the environment autoescapes everything,
and only the charts (SVG drawn by matplotlib and Graphviz, which escape their own
text) are marked safe.

With several hosts the page leads with the hosts (and what is compared on the findings'
top level: before and after, the history), then has the sections of each host that is
not healthy, each host's in its block with its own findings and charts, its ids
starting with the block's so that none repeats in the page.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace

import jinja2
from markupsafe import Markup, escape

from poolwatch.analyze.hosts import name as host_name
from poolwatch.analyze.hosts import unwell
from poolwatch.findings import Findings, HostFindings, TreeNode
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

#: The sections of one diagnosis, in order, each a partial under templates/report/: the
#: fleet's in its report, a host's in its block. Before and after, and the history, show
#: only when the findings have them.
SECTIONS = tuple(
    f"report/{name}.html.j2"
    for name in ("summary", "baseline", "history", "health", "flags", "patterns", "tree",
                 "scenarios", "charts", "instances", "timeline", "evidence")
)  # fmt: skip
#: With several hosts, the sections the page may have of its own, after the hosts: before
#: and after, and the history, of the findings' top level (the worst host's numbers),
#: shown where a host's block would lack its own (``page_sections``).
OF_THE_HOSTS = ("report/baseline.html.j2", "report/history.html.j2")

#: What a host's name loses to become its block's id: all but lowercase letters and digits.
_NOT_IN_ID = re.compile(r"[^a-z0-9]+")


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
class Drawn:
    """Every chart of a report, drawn once for its HTML and its PDF."""

    page: Figures
    """The charts of the page's own sections: all of them for one fleet; with several
    hosts, the history's alone."""
    hosts: tuple[Figures, ...] = ()
    """With several hosts, each block's, in the blocks' order."""


@dataclass(frozen=True)
class ReportContext:
    """Everything the report templates may use; nothing else is defined for them."""

    f: Findings
    """The findings: every number, sentence and log line the report shows (in a host's
    block, that host's own)."""
    figures: Figures
    """The charts of these sections (with several hosts, the page's own are the history's
    alone; each block has its host's)."""
    title: str
    verdict_word: str
    stylesheet: Markup
    """report.css (and hosts.css, with several hosts), inlined so that the file works
    offline."""
    paper: str
    """CSS page size for print: ``A4`` or ``letter``."""
    inline_charts: bool
    """Charts as inline ``<svg>`` (the HTML file), or as ``<img>`` of the same SVG (for
    WeasyPrint, which lays out an image's SVG much faster than SVG in its document)."""
    pattern_word: str
    """The fleet's Expected Production Pattern in a few words (empty without one)."""
    tree_outline: tuple[OutlineRow, ...]
    """The decision tree as an indented list: on phones, and where Graphviz is missing."""
    sections: tuple[str, ...]
    """The partials of these sections: ``SECTIONS`` for one fleet and in a host's block;
    ``page_sections`` in the page of several hosts, whose blocks have the rest."""
    ids: str
    """What the ids of these sections start with: nothing for the page's own, the block's
    id and ``_`` in a host's block (``host-web2_summary``)."""
    blocks: tuple[HostBlock, ...]
    """Several hosts: the sections of each host that is not healthy, worst first (none
    for one fleet, and inside a block)."""
    anchors: dict[str, str]
    """The block id of each host that has a block, by its name in the findings (the
    hosts table links to them)."""


@dataclass(frozen=True)
class HostBlock:
    """One host's sections in the report of several hosts, as its own report would have
    them."""

    host: str
    """The host as the report names it."""
    anchor: str
    """The block's id: ``host-`` and the host's name as an id (``host-web2``)."""
    title: str
    """The block's heading, and its link in the contents: ``web2: critical``."""
    report: ReportContext
    """The host's own findings, charts and words; its ids start with the block's."""


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


def figures(findings: Findings, scope: str = "") -> Figures:
    """Draw every chart of the findings, their ids starting with ``scope`` after the
    charts' own prefix."""
    with charts.scoped(scope):
        return _drawn(findings)


def _drawn(f: Findings) -> Figures:
    """Every chart of the findings, drawn."""
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
        trends=_trends(f),
    )


def _trends(f: Findings) -> Markup | None:
    """The history's 30-day trend (daily summaries only)."""
    return _safe(charts.trends(f.history.days, f.history.limits)) if f.history else None


def _history_only(f: Findings) -> Figures:
    """The charts of the sections of a page of several hosts: the history's trend, when
    the page shows the history (``page_sections``)."""
    return Figures(
        tree=None,
        threads=None,
        mix=None,
        fallbacks=None,
        running=None,
        durations=None,
        host_threads=None,
        trends=_trends(f) if "report/history.html.j2" in page_sections(f) else None,
    )


def draw(findings: Findings) -> Drawn:
    """Every chart the report shows, drawn once for both its pages: the fleet's, or with
    several hosts the history's and each block's."""
    if not findings.hosts:
        return Drawn(figures(findings))
    blocks = tuple(figures(h.findings, _ids(anchor)) for h, anchor in shown(findings))
    return Drawn(_history_only(findings), blocks)


def shown(findings: Findings) -> tuple[tuple[HostFindings, str], ...]:
    """The hosts whose sections the report shows (each not healthy, worst first), each
    with its block's id."""
    hosts = unwell(findings.hosts)
    return tuple(zip(hosts, anchors(hosts), strict=True))


def anchors(hosts: tuple[HostFindings, ...]) -> tuple[str, ...]:
    """Each host's block id: ``host-`` and its name in lowercase letters, digits and
    hyphens (``host-web2``), numbered when two names come out the same."""
    taken: list[str] = []
    for h in hosts:
        base = "host-" + (_NOT_IN_ID.sub("-", host_name(h.host).lower()).strip("-") or "x")
        anchor, n = base, 1
        while anchor in taken:
            n += 1
            anchor = f"{base}-{n}"
        taken.append(anchor)
    return tuple(taken)


def _ids(anchor: str) -> str:
    """What the ids inside a host's block start with: ``host-web2_``. A block's id has
    no ``_``, so no id of one block can be another block's or its sections'."""
    return f"{anchor}_"


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


def stylesheet(hosts: bool = False) -> Markup:
    """report.css, the one stylesheet for screen and print, after the palette it shares
    with the charts; with ``hosts``, hosts.css after it, for the blocks of several hosts."""
    palette = "; ".join(f"--{name}: {color}" for name, color in PALETTE.items())
    sheets = ("report.css", "hosts.css") if hosts else ("report.css",)
    text = "".join(assets.text(assets.folder() / sheet) for sheet in sheets)
    return Markup(f":root {{ {palette}; }}\n" + text)


def render(
    findings: Findings,
    drawn: Drawn | None = None,
    *,
    paper: str = "A4",
    inline_charts: bool = True,
) -> str:
    """report.html's text (with ``inline_charts=False``, the page the PDF is made from);
    ``drawn`` is ``draw(findings)``, drawn here if not given."""
    if drawn is None:
        drawn = draw(findings)
    context = ReportContext(
        f=findings,
        figures=drawn.page,
        title=f"poolwatch daily summary {findings.history.day.isoformat()}"
        if findings.history
        else "poolwatch incident report",
        verdict_word=VERDICT_WORDS[findings.verdict],
        stylesheet=stylesheet(hosts=bool(findings.hosts)),
        paper=paper,
        inline_charts=inline_charts,
        pattern_word=_pattern_word(findings),
        tree_outline=outline(findings.tree),
        sections=page_sections(findings) if findings.hosts else SECTIONS,
        ids="",
        blocks=(),
        anchors={},
    )
    if findings.hosts:
        context = replace(
            context,
            blocks=_blocks(context, drawn.hosts),
            anchors={h.host: anchor for h, anchor in shown(findings)},
        )
    template = environment().get_template("report.html.j2")
    return template.render(ctx=context)


def page_sections(findings: Findings) -> tuple[str, ...]:
    """With several hosts, the comparisons the page shows once after the hosts: each
    that the findings have and that no host's block, or not every one, has of its own
    (each host is compared with its own days or logs where they are known)."""
    blocks = [h.findings for h, _ in shown(findings)]
    each: dict[str, tuple[object, list[object]]] = {
        "report/baseline.html.j2": (findings.baseline, [b.baseline for b in blocks]),
        "report/history.html.j2": (findings.history, [b.history for b in blocks]),
    }
    return tuple(
        part for part in OF_THE_HOSTS
        if each[part][0] is not None and not (blocks and all(each[part][1]))
    )  # fmt: skip


def _blocks(page: ReportContext, drawn: tuple[Figures, ...]) -> tuple[HostBlock, ...]:
    """The block of each host shown, with its charts ``drawn`` and otherwise ``page``'s
    settings."""
    return tuple(
        HostBlock(
            host=host_name(h.host),
            anchor=anchor,
            title=f"{host_name(h.host)}: {h.findings.verdict}",
            report=_of_host(page, h.findings, figures, _ids(anchor)),
        )
        for (h, anchor), figures in zip(shown(page.f), drawn, strict=True)
    )


def _of_host(page: ReportContext, f: Findings, figures: Figures, ids: str) -> ReportContext:
    """``page`` made one host's: its findings, charts and words, its ids starting ``ids``."""
    return replace(
        page,
        f=f,
        figures=figures,
        verdict_word=VERDICT_WORDS[f.verdict],
        pattern_word=_pattern_word(f),
        tree_outline=outline(f.tree),
        sections=SECTIONS,
        ids=ids,
    )


def _pattern_word(findings: Findings) -> str:
    """The findings' Expected Production Pattern in a few words (empty without one)."""
    return PATTERN_WORDS[findings.pattern.classification] if findings.pattern else ""
