"""A matplotlib figure or a Graphviz drawing as a self-contained ``<svg>`` element: no
prolog, comments, metadata or stylesheet, a viewBox and no fixed size, ids prefixed with
the chart's name, the same bytes for the same input."""

from __future__ import annotations

import html
import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib as mpl
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from poolwatch.render.charts.style import PREFIX, RC_LOCK, STYLE, WIDTH

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
GRAPHVIZ_TITLE = re.compile(r"<title>[^<]*</title>")


# --- SVG text ------------------------------------------------------------------------------


def printable(text: str) -> str:
    """Text without control characters, which XML cannot hold."""
    return "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")


def tidy(svg: str, name: str, title: str, root: str = "") -> str:
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
def new_figure(name: str, height: float) -> Iterator[Figure]:
    """A figure drawn by the SVG backend alone, under the report's style."""
    with RC_LOCK, mpl.rc_context({**STYLE, "svg.hashsalt": f"poolwatch-{name}"}):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        FigureCanvasSVG(figure)
        yield figure


def svg_of(figure: Figure, name: str) -> str:
    """The figure as a tidy inline ``<svg>`` (call inside ``figure``)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    title = figure.get_suptitle()
    return tidy(buffer.getvalue(), name, title, ' stroke-linejoin="round" stroke-linecap="butt"')
