"""report.pdf: report.html laid out for print by WeasyPrint.

Nothing is fetched: the URL fetcher refuses the network and every file outside
poolwatch's own templates (the report needs none; the charts come as ``data:`` URLs),
so a URL a log line smuggled into the report could not be followed even if it escaped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import weasyprint
from weasyprint.urls import URLFetcher

from poolwatch.render import assets


class RefusingFetcher(URLFetcher):  # type: ignore[misc]
    """A URL fetcher that serves only poolwatch's own template files (and data: URLs)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file", "data"))
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Fetch ``url`` if it is one of poolwatch's assets; refuse anything else."""
        if url.startswith("data:") or self._is_asset(url):
            return super().fetch(url, headers)
        self.refused.append(url)
        raise ValueError(f"poolwatch fetches nothing: refused {url[:200]}")

    @staticmethod
    def _is_asset(url: str) -> bool:
        """Whether ``url`` names a regular file inside poolwatch's templates, within the
        bound of what poolwatch reads of its own files."""
        parts = urlparse(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        return assets.within(Path(unquote(parts.path)))


def render(html: str) -> bytes:
    """The PDF of a report's HTML (the page size is set by the HTML's own style)."""
    fetcher = RefusingFetcher()
    base = assets.folder().resolve().as_uri() + "/"
    # WeasyPrint reports refused URLs and unsupported CSS as warnings; they are expected
    # (the refusals are the point) and must not reach the user's terminal.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf()
    return pdf
