"""Write the chosen report files for one set of Findings, each atomically.

The HTML is rendered once: report.pdf is that same document laid out by WeasyPrint,
so the two always show the same charts and words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from poolwatch.findings import Findings
from poolwatch.render import html, json, markdown, pdf
from poolwatch.render.output import write_bytes, write_text


def write_reports(
    findings: Findings,
    targets: Mapping[str, Path],
    *,
    paper: str = "a4",
    progress: Callable[[int], object] | None = None,
) -> None:
    """Write each format in ``targets`` (html, pdf, json, md) to its path."""
    drawn = html.figures(findings) if {"html", "pdf"} & set(targets) else None
    page = html.render(findings, drawn, paper=pdf.PAPERS[paper]) if drawn else ""
    for name, target in targets.items():
        if name == "pdf":
            printed = html.render(findings, drawn, paper=pdf.PAPERS[paper], inline_charts=False)
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
