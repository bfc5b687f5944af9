"""The guide's decision tree, drawn with Graphviz: every box, the path the fleet took
in bold, its evidence beside each answer."""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import graphviz

from poolwatch.findings import (
    Step,
    TreeNode,
)
from poolwatch.render.charts.style import (
    EVIDENCE_WRAP,
    INK,
    LINE,
    MUTED,
    NOTE_FILL,
    TAKEN_FILL,
    TREE_FONT,
    TREE_WRAP,
    UNTAKEN_FILL,
    UNTAKEN_LINE,
    WARNING,
)
from poolwatch.render.charts.svg import GRAPHVIZ, printable, tidy

# --- the decision tree ---------------------------------------------------------------------


def _lines(text: str, width: int) -> list[str]:
    """Text wrapped to lines of about ``width`` characters (at least one line)."""
    return textwrap.wrap(" ".join(printable(text).split()), width) or [""]


def _markup(text: str, width: int) -> str:
    """Wrapped text as the body of a Graphviz HTML-like label, every character escaped."""
    return "<br/>".join(html.escape(line, quote=False) for line in _lines(text, width))


def _label(text: str, note: str | None = None) -> str:
    """An HTML-like node label: the text, and a smaller muted note under it (an empty
    text is a blank box: Graphviz refuses an empty ``<>``)."""
    body = _markup(text, TREE_WRAP) or " "
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
    title = "The guide's Troubleshooting Decision Tree, walked on the data"
    return tidy(svg, "tree", title, GRAPHVIZ)
