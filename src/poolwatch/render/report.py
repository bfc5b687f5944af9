"""Write the chosen report files for one set of Findings, each atomically.

The charts are drawn once (with several hosts, those of each host shown), and both
pages come from the same templates: report.pdf is report.html laid out by WeasyPrint,
each chart an image of the same SVG, so the two always show the same charts and words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from poolwatch.findings import Findings
from poolwatch.render import markdown
from poolwatch.render.output import write_set

if TYPE_CHECKING:
    from poolwatch.render.html import Drawn

#: Page sizes ``--paper`` accepts, as CSS page sizes.
PAPERS = {"a4": "A4", "letter": "letter"}


def write_reports(
    findings: Findings,
    targets: Mapping[str, Path],
    *,
    paper: str = "a4",
    progress: Callable[[int], object] | None = None,
) -> None:
    """Write each format in ``targets`` (html, pdf, json, md) to its path, as one set:
    every file is made before any replaces its predecessor.

    matplotlib, Graphviz and WeasyPrint are loaded only when a report page is asked for,
    summary.json's model (pydantic) only for summary.json.
    """
    drawn = None
    if {"html", "pdf"} & set(targets):
        from poolwatch.render import html

        drawn = html.draw(findings)

    def made(name: str) -> Callable[[Path], object]:
        def write(temp: Path) -> None:
            if name == "pdf":
                from poolwatch.render import html, pdf

                printed = html.render(findings, drawn, paper=PAPERS[paper], inline_charts=False)
                temp.write_bytes(pdf.render(printed))
            else:
                temp.write_text(_text(name, findings, drawn, paper), encoding="utf-8")
            if progress is not None:
                progress(1)

        return write

    write_set({target: made(name) for name, target in targets.items()})


def _text(name: str, findings: Findings, drawn: Drawn | None, paper: str) -> str:
    """The text of one of the text formats."""
    if name == "html":
        from poolwatch.render import html

        return html.render(findings, drawn, paper=PAPERS[paper])
    if name == "json":
        from poolwatch.render import json

        return json.render(findings)
    return markdown.render(findings)
