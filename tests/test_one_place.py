"""A threshold, a band's title and a setting are each written once: changed in their one
place, the change reaches every output (HTML, PDF text, ticket, check line, summary.json
and the decision-tree figure), and the old value is left nowhere it was shown."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from poolwatch import api
from poolwatch.cli import main
from poolwatch.config import GUIDE_BANDS, load
from poolwatch.render.terminal import plugin_line

OVERLOADED = Path(__file__).parent.parent / "sample_logs" / "overloaded"


def _outputs(out: Path) -> dict[str, str]:
    """Every written output's text, the tree figure's apart (the HTML's inline SVG)."""
    html = (out / "report.html").read_text()
    tree = re.search(r'<svg[^>]*aria-label="[^"]*Decision Tree[^"]*".*?</svg>', html, re.S)
    assert tree is not None, "the decision tree figure in report.html"
    pdf = "\n".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    return {
        "html": html,
        "pdf": " ".join(pdf.split()),
        "ticket": (out / "ticket.md").read_text(),
        "summary": (out / "summary.json").read_text(),
        "tree": tree.group(0),
    }


def _check_line(paths: list[str], *options: str) -> str:
    result = CliRunner().invoke(main, ["check", *paths, *options])
    assert result.exit_code in (0, 1, 2), result.output
    return result.output.splitlines()[0]


def test_a_threshold_in_poolwatch_toml_reaches_every_output(tmp_path: Path) -> None:
    toml = tmp_path / "poolwatch.toml"
    toml.write_text("[thresholds.thread_count]\nwarning = 45\ncritical = 70\n")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["report", str(OVERLOADED), "--config", str(toml), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = _outputs(out)
    summary = json.loads(text["summary"])["metrics"]["thread_count"]
    assert (summary["warning"], summary["critical"]) == (45, 70)
    assert summary["ranges"] == {"healthy": "< 45", "warning": "45-70", "critical": "> 70"}
    assert "45-70" in text["html"] and "45-70" in text["pdf"]
    assert "Thread count &gt; 70 frequently" in text["html"]
    assert "Thread count > 70 frequently" in text["pdf"]
    assert "Thread count > 70 frequently" in text["ticket"]
    assert "&gt;70 threads" in text["tree"] and "&lt;45 threads" in text["tree"]
    for name, words in text.items():
        assert "50-80" not in words, f"the guide's 50-80 left in {name}"
        assert "&gt;80 threads" not in words, f"the guide's >80 left in {name}"
    line = _check_line([str(OVERLOADED)], "--config", str(toml))
    assert "Thread count > 70 frequently" in line and re.search(r" thread_count=\d+;45;70;", line)


def test_a_band_title_and_a_setting_reach_every_output(tmp_path: Path) -> None:
    """The thresholds table's title of a row and the overload check's setting, edited
    where they are declared (the configuration in effect), as every output shows them."""
    title = "ProcessPool fallback (edited)"
    row = replace(GUIDE_BANDS.processpool_fallback_rate, title=title)
    bands = GUIDE_BANDS._replace(processpool_fallback_rate=row)
    base = load(cwd=Path(__file__).parent)
    settings = replace(base, bands=bands).stated("overload_threads", 45, "a test")
    findings = api.report([str(OVERLOADED)], settings=settings)
    out = tmp_path / "report"
    out.mkdir()
    api.write(findings, api.targets(out, ("html", "pdf", "json", "md")))
    text = _outputs(out)
    summary = json.loads(text["summary"])
    assert summary["metrics"]["processpool_fallback_rate"]["title"] == title
    assert summary["limits"]["overload_threads"]["value"] == 45
    for name in ("html", "pdf", "ticket"):
        assert title in text[name], f"{title!r} not in {name}"
        assert "ProcessPool fallback > 30%" not in text[name].replace(title, "")
    assert "(45 → 30)" in text["tree"] or "(45 &#8594; 30)" in text["tree"]
    for name in ("html", "pdf", "ticket"):
        assert "Lower the thread threshold from 45 to 30" in text[name], name
        quoted = "reduce threshold from 50 to 30"  # the guide's Overloaded Production ACTION
        assert "threshold from 50" not in text[name].replace(quoted, ""), name
    line = plugin_line(findings)
    assert line.startswith("POOLWATCH CRITICAL") and f"{title} > 30%" in line
