"""Templates use only the fields their context documents: every ``ctx.…`` (and the
report's ``f.…``, its findings) chain names a field of the dataclass it walks through."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from poolwatch.findings import Findings
from poolwatch.render.html import ReportContext
from poolwatch.render.index import IndexContext

TEMPLATES = Path(__file__).parent.parent / "templates"
REPORT = [TEMPLATES / "report.html.j2", TEMPLATES / "_base.html.j2",
          TEMPLATES / "_macros.html.j2", *sorted((TEMPLATES / "report").glob("*.j2"))]  # fmt: skip


def _chains(source: str) -> Iterator[tuple[str, ...]]:
    """Each attribute chain of the template, from its root name (``ctx.f.window``)."""
    tree = jinja2.Environment().parse(source)
    for node in tree.find_all(nodes.Getattr):
        chain: list[str] = []
        inner: nodes.Node = node
        while isinstance(inner, nodes.Getattr):
            chain.insert(0, inner.attr)
            inner = inner.node
        if isinstance(inner, nodes.Name):
            yield (inner.name, *chain)


def _dataclass_of(hint: object) -> type | None:
    """The dataclass a field's type is, or holds as ``X | None``; None for anything else."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        found = [a for a in typing.get_args(hint) if a is not type(None)]
        return _dataclass_of(found[0]) if len(found) == 1 else None
    return None


def _unknown(root: type, chain: tuple[str, ...]) -> str | None:
    """The first name of ``chain`` that is no field of the dataclass it is read from."""
    current: type | None = root
    for name in chain:
        if current is None:
            return None  # past the dataclasses: a tuple, a string, a number
        hints = typing.get_type_hints(current)
        if name not in hints and not hasattr(current, name):
            return f"{current.__name__}.{name}"
        current = _dataclass_of(hints.get(name))
    return None


def _check(paths: list[Path], roots: dict[str, type]) -> list[str]:
    wrong = []
    for path in paths:
        for root, *chain in _chains(path.read_text()):
            if root in roots and (unknown := _unknown(roots[root], tuple(chain))):
                wrong.append(f"{path.name}: {root}.{'.'.join(chain)} ({unknown})")
    return wrong


def test_the_report_templates_read_only_their_context() -> None:
    assert _check(REPORT, {"ctx": ReportContext, "f": Findings}) == []


def test_the_index_reads_only_its_context() -> None:
    assert _check([TEMPLATES / "index.html.j2", TEMPLATES / "_base.html.j2"],
                  {"ctx": IndexContext}) == []  # fmt: skip


def test_a_field_that_does_not_exist_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html.j2"
    bad.write_text("{{ ctx.f.verdikt }} {{ ctx.figures.tree }}")
    assert _check([bad], {"ctx": ReportContext}) == [
        "bad.html.j2: ctx.f.verdikt (Findings.verdikt)"
    ]


@pytest.mark.parametrize("path", REPORT, ids=lambda p: p.name)
def test_every_report_template_reads_something_of_its_context(path: Path) -> None:
    assert any(root in ("ctx", "f") for root, *_ in _chains(path.read_text()))
