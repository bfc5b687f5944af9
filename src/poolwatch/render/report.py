"""Write the chosen report files for one set of Findings, each atomically.

The charts are drawn once, and both pages come from the same templates: report.pdf is
report.html laid out by WeasyPrint, each chart an image of the same SVG, so the two
always show the same charts and words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from poolwatch.findings import Findings
from poolwatch.render import json, markdown
from poolwatch.render.output import write_bytes, write_text

#: Page sizes ``--paper`` accepts, as CSS page sizes.
PAPERS = {"a4": "A4", "letter": "letter"}


def write_reports(
    findings: Findings,
    targets: Mapping[str, Path],
    *,
    paper: str = "a4",
    progress: Callable[[int], object] | None = None,
) -> None:
    """Write each format in ``targets`` (html, pdf, json, md) to its path.

    matplotlib, Graphviz and WeasyPrint are loaded only when a report page is asked for.
    """
    page = ""
    if {"html", "pdf"} & set(targets):
        from poolwatch.render import html

        drawn = html.figures(findings)
        page = html.render(findings, drawn, paper=PAPERS[paper])
    for name, target in targets.items():
        if name == "pdf":
            from poolwatch.render import pdf

            printed = html.render(findings, drawn, paper=PAPERS[paper], inline_charts=False)
            write_bytes(target, pdf.render(printed))
        else:
            write_text(target, _text(name, findings, page))
        if progress is not None:
            progress(1)


def _text(name: str, findings: Findings, page: str) -> str:
    """The text of one of the text formats."""
    if name == "html":
        return page
    return json.render(findings) if name == "json" else markdown.render(findings)
