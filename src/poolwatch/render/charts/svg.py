"""A matplotlib figure or a Graphviz drawing as a self-contained ``<svg>`` element.

The drawing is parsed (expat, the parser under ElementTree) and written back without its
prolog, comments, metadata, stylesheet or empty ``<defs>``, without whitespace between tags
or newlines, its root with a viewBox and no fixed size, every id and ``#`` reference
prefixed with the chart's name (and, inside ``scoped``, a scope: one host's charts among
several hosts'). Elements and attributes are told apart by namespace; the
output keeps the drawing's prefixes, its attribute order and the character references each
program writes, so the same input gives the same bytes."""

from __future__ import annotations

import html
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from xml.parsers import expat

import matplotlib as mpl
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from poolwatch.render.charts.style import PREFIX, RC_LOCK, STYLE, WIDTH

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
_XML = {"xml": "http://www.w3.org/XML/1998/namespace"}


def _references(chars: str) -> tuple[tuple[str, str], ...]:
    """Each of ``chars`` (``&`` first, to be replaced first) with the reference for it."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
    return tuple((c, named.get(c, f"&#{ord(c)};")) for c in chars)


def _escaped(text: str, references: tuple[tuple[str, str], ...]) -> str:
    """Text with its markup characters written as references."""
    for char, reference in references:
        if char in text:
            text = text.replace(char, reference)
    return text


@dataclass(frozen=True)
class Writer:
    """What one program's SVG needs: the characters it writes as references in text and in
    the attributes holding its strings, its own elements to drop, and the attributes the
    root takes in place of its stylesheet."""

    text: tuple[tuple[str, str], ...]
    strings: frozenset[str] = frozenset()
    drop: frozenset[str] = frozenset()
    root: tuple[tuple[str, str], ...] = ()


#: matplotlib's stylesheet is one rule, which two attributes of the root say instead.
MATPLOTLIB = Writer(
    _references("&<>"), root=(("stroke-linejoin", "round"), ("stroke-linecap", "butt"))
)
#: Graphviz writes quotes and hyphens in its strings (text, classes) as references too, and
#: titles each shape with its DOT name: a tooltip that means nothing to a reader.
GRAPHVIZ = Writer(
    _references("&<>\"'-"), strings=frozenset({"class"}), drop=frozenset({f"{{{SVG}}}title"})
)

#: In an attribute, a newline or a tab the parser has kept came from a reference: so it goes back.
_ATTRIBUTE = _references('&<>"\n\r\t')
_DROPPED = frozenset({f"{{{SVG}}}metadata", f"{{{SVG}}}style"})
_DEFS = f"{{{SVG}}}defs"
_HREFS = frozenset({"href", f"{{{XLINK}}}href"})
#: A newline and the whitespace around it in text, a run of spaces in an attribute (where
#: the parser has made each newline a space already): one space.
_NEWLINE = re.compile(r"\s*\n\s*")
_SPACES = re.compile(" {2,}")
#: What the ids of the charts drawn now start with after ``PREFIX``, besides the chart's
#: name: empty, or a host's block's in a page of several hosts (``scoped``).
_SCOPE: ContextVar[str] = ContextVar("poolwatch_chart_scope", default="")


@contextmanager
def scoped(scope: str) -> Iterator[None]:
    """Charts drawn inside have ids starting ``pw-<scope><chart>-``: one host's charts,
    apart from another's in the same page."""
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


# --- SVG text ------------------------------------------------------------------------------


def printable(text: str) -> str:
    """Text without control characters, which XML cannot hold."""
    return "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")


def _parse(svg: str) -> ET.Element:
    """The root element, names as written, namespace declarations kept in place among the
    attributes (expat without namespace processing: ``_expanded`` resolves them)."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.Parse(svg, True)
    return builder.close()


def _declaration(name: str) -> bool:
    """Whether an attribute, as written, declares a namespace."""
    return name == "xmlns" or name.startswith("xmlns:")


def _scope(element: ET.Element, outer: Mapping[str, str]) -> Mapping[str, str]:
    """The namespaces in force in ``element``, by prefix ("" the default)."""
    declared = {n.partition(":")[2]: uri for n, uri in element.attrib.items() if _declaration(n)}
    return {**outer, **declared} if declared else outer


def _expanded(name: str, scope: Mapping[str, str], attribute: bool = False) -> str:
    """``{namespace}local`` for a name as written (an unprefixed attribute has none)."""
    prefix, _, local = name.rpartition(":")
    uri = scope.get(prefix, "") if prefix or not attribute else ""
    return f"{{{uri}}}{local}" if uri else local


def _text(text: str | None, writer: Writer) -> str:
    """Character data written back: nothing if only whitespace, newlines made spaces."""
    if not text or text.isspace():
        return ""
    return _escaped(_NEWLINE.sub(" ", text) if "\n" in text else text, writer.text)


def _value(key: str, value: str, prefix: str) -> str:
    """An attribute's value with runs of spaces made one, an id or ``#`` reference prefixed."""
    if "  " in value:
        value = _SPACES.sub(" ", value)
    if key == "id":
        value = prefix + value
    elif key in _HREFS and value.startswith("#"):
        value = f"#{prefix}{value[1:]}"
    return value.replace("url(#", f"url(#{prefix}") if "url(#" in value else value


def _attributes(element: ET.Element, scope: Mapping[str, str], writer: Writer, prefix: str) -> str:
    """The element's attributes written back in order (declarations as they are)."""
    written = []
    for name, value in element.attrib.items():
        if _declaration(name):
            written.append(f' {name}="{_escaped(value, _ATTRIBUTE)}"')
            continue
        key = _expanded(name, scope, attribute=True) if ":" in name else name
        references = writer.text if key in writer.strings else _ATTRIBUTE
        written.append(f' {name}="{_escaped(_value(key, value, prefix), references)}"')
    return "".join(written)


def _write(
    element: ET.Element,
    outer: Mapping[str, str],
    writer: Writer,
    prefix: str,
    out: list[str],
    *,
    more: str = "",
) -> None:
    """Append the element written back (``more`` after its attributes) to ``out``, unless it
    is one to drop or a ``<defs>`` left empty; ``<x/>`` only if it held nothing at all, as
    the writer wrote it."""
    scope = _scope(element, outer)
    tag = _expanded(element.tag, scope)
    if tag in _DROPPED or tag in writer.drop:
        return
    inner = [_text(element.text, writer)]
    for child in element:
        _write(child, scope, writer, prefix, inner)
        inner.append(_text(child.tail, writer))
    body = "".join(inner)
    if not body and tag == _DEFS:
        return
    head = f"<{element.tag}{_attributes(element, scope, writer, prefix)}{more}"
    held = body or element.text is not None or len(element)
    out.append(f"{head}>{body}</{element.tag}>" if held else f"{head}/>")


def tidy(svg: str, name: str, title: str, writer: Writer) -> str:
    """The bare, responsive ``<svg>`` element, its ids prefixed with the scope (``scoped``)
    and the chart's name."""
    root = _parse(svg)
    if _expanded(root.tag, _scope(root, _XML)) != f"{{{SVG}}}svg":
        raise ValueError(f"not an SVG drawing: <{root.tag}>")
    for size in ("width", "height"):
        root.attrib.pop(size, None)
    more = f' role="img" aria-label="{html.escape(title, quote=True)}"' + "".join(
        f' {key}="{_escaped(value, _ATTRIBUTE)}"' for key, value in writer.root
    )
    out: list[str] = []
    _write(root, _XML, writer, f"{PREFIX}{_SCOPE.get()}{name}-", out, more=more)
    return out[0]


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
    return tidy(buffer.getvalue(), name, figure.get_suptitle(), MATPLOTLIB)
