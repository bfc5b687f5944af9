"""report.html and report.pdf as people get them: rendered from simulated fleets and
checked with a PDF library, poppler's rasteriser and a headless Chromium."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

from poolwatch.cli import main
from poolwatch.render.pdf import RefusingFetcher
from poolwatch.simulate import simulate

SECTIONS = (
    "Summary",
    "Health checks",
    "Flags",
    "Expected production patterns",
    "Decision tree",
    "Scenarios and actions",
    "Charts",
    "Instances",
    "Timeline",
    "Evidence",
    "How this report was made",
)
#: A real browser (``make system-deps`` installs it): the report must work in one.
CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium") or "chromium"


def report(*args: str, env: dict[str, str] | None = None) -> str:
    """Run ``poolwatch report``; fail the test on a non-zero exit."""
    done = CliRunner().invoke(main, ["report", *args], env=env)
    assert done.exit_code == 0, done.output + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def overloaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of a simulated overloaded fleet (every format)."""
    logs = tmp_path_factory.mktemp("overloaded-logs")
    simulate("overloaded", logs, instances=8, runs=4, seed=11)
    out = tmp_path_factory.mktemp("overloaded-report")
    report(str(logs), "--out", str(out))
    return out


class _Outline(HTMLParser):
    """The section headings and elements of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = False if tag == "h2" else self._in_h2

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2.append(data.strip())


def outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def test_the_report_has_every_section_in_order(overloaded: Path) -> None:
    html = (overloaded / "report.html").read_text()
    parsed = outline(html)
    assert tuple(parsed.h2) == SECTIONS
    assert "script" not in parsed.tags
    assert parsed.tags.count("svg") == 7  # the tree and six charts
    assert "Reduce concurrent instances from 8 to" in html
    # Self-contained: nothing to fetch from anywhere.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", html)
    assert "@import" not in html


def test_the_pdf_is_a_few_pages_with_bookmarks_and_metadata(overloaded: Path) -> None:
    pdf = overloaded / "report.pdf"
    reader = PdfReader(pdf)
    assert 3 <= len(reader.pages) <= 16
    assert pdf.stat().st_size < 1_000_000
    top, sections = reader.outline
    assert top.title == "Incident report: fleet critical"  # type: ignore[union-attr]
    assert [s.title for s in sections if not isinstance(s, list)] == list(SECTIONS)
    assert reader.metadata is not None
    assert reader.metadata.title == "poolwatch incident report: Critical"
    assert reader.metadata.creation_date is not None
    first = reader.pages[0].extract_text()
    assert "CRITICAL" in first
    assert "page 1 of" in first
    assert "Verdict: CRITICAL" in first
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    assert fonts and all("DejaVu" in font for font in fonts)


def test_the_first_page_is_not_blank(overloaded: Path, tmp_path: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", overloaded / "report.pdf",
         tmp_path / "page"], check=True,
    )  # fmt: skip
    (png,) = tmp_path.glob("page*.png")
    grey = np.asarray(Image.open(png).convert("L"))
    assert (grey < 200).mean() > 0.02
    # The critical verdict's red badge and rule are there.
    r, g, b = np.asarray(Image.open(png).convert("RGB")).transpose(2, 0, 1)
    assert ((r > 170) & (g < 90) & (b < 90)).sum() > 50


def test_letter_paper_and_a_subset_of_formats(overloaded: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    simulate("healthy", logs, instances=4, runs=2, seed=1)
    out = tmp_path / "out"
    report(str(logs), "--out", str(out), "--format", "pdf", "--paper", "letter")
    assert sorted(p.name for p in out.iterdir()) == ["report.pdf"]
    box = PdfReader(out / "report.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_same_inputs_same_report(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    simulate("timeouts", logs, instances=4, runs=3, seed=2)
    env = {"SOURCE_DATE_EPOCH": "1764547200"}
    out = tmp_path / "out"
    kept = {}
    for attempt in ("first", "second"):
        report(str(logs), "--out", str(out), env=env)
        kept[attempt] = {p.name: p.read_bytes() for p in out.iterdir()}
    first, second = kept["first"], kept["second"]
    for name in ("report.html", "summary.json", "ticket.md", "report.pdf"):
        assert first[name] == second[name], name
    assert "Generated 2025-12-01 00:00 UTC" in first["report.html"].decode()


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A web server on loopback that records every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()
    thread.join()


def hostile_fleet(folder: Path, url: str) -> Path:
    """An overloaded fleet whose logs and file names carry markup, scripts and URLs."""
    simulate("overloaded", folder, instances=4, runs=3, seed=5)
    payload = (
        f"<script>document.title='owned'</script><img src={url}/img onerror=alert(1)>"
        f'<a href="javascript:alert(1)">x</a><style>@import url({url}/css);</style>'
        f"<link rel=stylesheet href={url}/link>"
    )
    for log in sorted(folder.glob("run_card_*.log")):
        text = log.read_text()
        text = text.replace(
            "ProcessPoolExecutor failed (", f"ProcessPoolExecutor failed ({payload} "
        )
        log.write_text(text)
    first = sorted(folder.glob("run_card_*.log"))[0]
    first.rename(folder / f"<img src={url.replace('/', '%2F')}%2Fname>.log")
    return folder


def test_log_text_can_neither_run_nor_fetch(
    tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    url, requests = listener
    logs = hostile_fleet(tmp_path / "logs", url)
    out = tmp_path / "out"
    report(str(logs), "--out", str(out))
    html = (out / "report.html").read_text()
    assert "&lt;script&gt;document.title=&#39;owned&#39;&lt;/script&gt;" in html
    parsed = outline(html)
    assert "script" not in parsed.tags
    assert "img" not in parsed.tags
    assert "link" not in parsed.tags
    assert parsed.tags.count("style") == 1
    assert "javascript:" not in re.sub(r"&[^;]+;", "", html.split("<main>")[0])
    # In Markdown, log text is escaped, or shown in code spans, where nothing is markup.
    markdown = re.sub(r"`[^`\n]*`", "", (out / "ticket.md").read_text())
    assert "<script" not in markdown and "<img" not in markdown
    text = "".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    assert "<script>document.title='owned'</script>" in text.replace("\n", "")
    dom = subprocess.run(
        [CHROMIUM, "--no-sandbox", "--disable-gpu", "--headless", "--dump-dom",
         (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "<title>poolwatch incident report: Critical</title>" in dom
    assert "owned" not in dom.split("</title>")[0]
    assert requests == []


def test_the_html_reads_on_a_phone_and_a_desktop(overloaded: Path, tmp_path: Path) -> None:
    for name, width in (("phone", 390), ("desktop", 1280)):
        shot = tmp_path / f"{name}.png"
        subprocess.run(
            [CHROMIUM, "--no-sandbox", "--disable-gpu", "--headless", "--hide-scrollbars",
             f"--window-size={width},1600", f"--screenshot={shot}",
             (overloaded / "report.html").as_uri()],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip
        grey = np.asarray(Image.open(shot).convert("L"))
        assert grey.shape[1] == width
        assert (grey < 160).mean() > 0.01, name


def test_a_failed_write_keeps_the_previous_report(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    simulate("healthy", logs, instances=2, runs=2, seed=4)
    out = tmp_path / "out"
    report(str(logs), "--out", str(out), "--format", "md")
    before = (out / "ticket.md").read_bytes()
    (out / "report.pdf").mkdir()  # the PDF cannot be renamed into place
    done = CliRunner().invoke(main, ["report", str(logs), "--out", str(out), "--format", "md,pdf"])
    assert done.exit_code == 1
    assert "cannot write" in done.stderr and "report.pdf" in done.stderr
    assert "Traceback" not in done.output
    assert (out / "ticket.md").read_bytes() == before  # rewritten whole, same content
    assert sorted(p.name for p in out.iterdir()) == ["report.pdf", "ticket.md"]  # no temp file


def test_the_pdf_fetcher_serves_only_poolwatch_templates() -> None:
    fetcher = RefusingFetcher()
    stylesheet = Path(str(resources.files("poolwatch.templates"))) / "report.css"
    fetched = fetcher.fetch(stylesheet.resolve().as_uri())
    assert b"poolwatch report" in fetched.read()
    fetched.close()
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.css", "https://example.com/f.woff",
                stylesheet.resolve().as_uri() + "/../../../etc/passwd"):  # fmt: skip
        with pytest.raises(ValueError, match="poolwatch fetches nothing"):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 4
