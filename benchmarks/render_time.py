"""Time rendering one report (HTML, then PDF) from already diagnosed logs.

Usage: ``python benchmarks/render_time.py FILE...``; prints one JSON line with the
best of a few renders: ``charts`` (drawing the SVGs), ``html`` (the templates),
``pdf`` (the templates and WeasyPrint); report.html takes charts + html, report.pdf
charts + pdf, both charts + html + pdf, the page count and the PDF's size.
Parsing and diagnosis are not timed: ``bench.py`` times them.
"""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import UTC, datetime

from pypdf import PdfReader

from poolwatch.analyze.diagnose import diagnose
from poolwatch.config import load
from poolwatch.ingest.parse import ingest
from poolwatch.render import html, pdf

REPEATS = 3


def main(files: list[str]) -> None:
    """Print the render timings of the report of ``files``."""
    findings = diagnose(ingest(files), load(None), now=datetime(2026, 1, 1, tzinfo=UTC))
    best = {"charts": float("inf"), "html": float("inf"), "pdf": float("inf")}
    document = b""
    for _ in range(REPEATS):
        start = time.perf_counter()
        drawn = html.draw(findings)
        best["charts"] = min(best["charts"], time.perf_counter() - start)
        start = time.perf_counter()
        html.render(findings, drawn)
        best["html"] = min(best["html"], time.perf_counter() - start)
        start = time.perf_counter()
        document = pdf.render(html.render(findings, drawn, inline_charts=False))
        best["pdf"] = min(best["pdf"], time.perf_counter() - start)
    pages = len(PdfReader(io.BytesIO(document)).pages)
    print(json.dumps({**best, "pdf_bytes": len(document), "pages": pages}))


if __name__ == "__main__":
    main(sys.argv[1:])
