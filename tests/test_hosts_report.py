"""Logs of several hosts, reported: each host diagnosed as the guide's fleet of one
machine, the report led by the hosts worst first and then the sections of each host not
healthy (its own, as its directory's report alone has them), check naming those hosts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from poolwatch import api
from poolwatch.analyze.hosts import summary, worst_first
from poolwatch.cli import main
from poolwatch.findings import HostFindings
from poolwatch.ingest.hosts import NO_HOST
from poolwatch.render.html import anchors
from poolwatch.states import Verdict

CASES = Path(__file__).parent / "cases"
SAMPLES = Path(__file__).parent.parent / "sample_logs"


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """web1 runs the guide's Overloaded Production pattern (8 instances at once, 95
    threads), web2 its Healthy Production: the same file names on both."""
    logs = tmp_path_factory.mktemp("hosts") / "logs"
    for host, case in (("web1", "guide-overloaded-pattern"), ("web2", "guide-healthy-pattern")):
        shutil.copytree(CASES / case, logs / host, ignore=shutil.ignore_patterns("expect.toml"))
    return logs


def _summary(logs: Path, out: Path) -> dict[str, object]:
    done = CliRunner().invoke(main, ["report", str(logs), "--out", str(out), "--format", "json"])
    assert done.exit_code == 0, done.output
    loaded: dict[str, object] = json.loads((out / "summary.json").read_text())
    return loaded


def test_each_host_is_diagnosed_as_if_alone(two_hosts: Path, tmp_path: Path) -> None:
    both = _summary(two_hosts, tmp_path / "both")
    hosts = both["hosts"]
    assert isinstance(hosts, dict)
    assert hosts["worst"] == "web1"
    rows = {row["host"]: row for row in hosts["hosts"]}
    assert [row["host"] for row in hosts["hosts"]] == ["web1", "web2"]
    # Eight instances at once on each host: never 16, and the cut is from 8, not 16.
    assert rows["web1"]["concurrency"] == 8 and rows["web2"]["concurrency"] == 8
    assert both["concurrency"] == 8
    reduce = next(a for a in rows["web1"]["actions"] if a["id"] == "reduce-instances")
    assert reduce["change"] == {"setting": "instances", "from": 8.0, "to": 4.0, "unit": "instances"}
    assert rows["web2"]["verdict"] == "healthy" and rows["web2"]["actions"] == []
    for host in ("web1", "web2"):
        alone = _summary(two_hosts / host, tmp_path / host)
        assert alone["hosts"] is None
        assert rows[host]["verdict"] == alone["verdict"]
        assert rows[host]["actions"] == alone["actions"]
        assert rows[host]["runs"] == alone["runs"]
    # The top level is the worst host's findings, with every host's inputs.
    assert both["verdict"] == "critical"
    inputs = both["inputs"]
    assert isinstance(inputs, dict) and inputs["files"] == 16
    assert str(both["summary"]).startswith(
        "1 of 2 hosts not healthy: web1 critical. The worst, web1: "
    )


def test_check_is_critical_when_any_host_is_and_names_it(two_hosts: Path) -> None:
    done = CliRunner().invoke(main, ["check", str(two_hosts)])
    assert done.exit_code == 2
    first, *rest = done.output.splitlines()
    assert first.startswith("POOLWATCH CRITICAL - 1 of 2 hosts not healthy: web1 critical.")
    assert "  web2: healthy, 8 instances at once, 40 runs" in rest


@pytest.fixture(scope="module")
def five_hosts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulator's five hosts (healthy, overloaded, healthy, memory-pressure, healthy)
    under logs/, their report (every format) under report/."""
    folder = tmp_path_factory.mktemp("five")
    logs, out = folder / "logs", folder / "report"
    made = CliRunner().invoke(main, ["simulate", "--hosts", "5", "--instances", "4", "--runs",
                                     "3", "--seed", "1", "--out", str(logs)])  # fmt: skip
    assert made.exit_code == 0, made.output
    done = CliRunner().invoke(main, ["report", str(logs), "--out", str(out)])
    assert done.exit_code == 0, done.output
    return folder


def _verdicts(report: Path) -> dict[str, str]:
    """Each host's verdict, from summary.json."""
    summary = json.loads((report / "summary.json").read_text())
    return {row["host"]: row["verdict"] for row in summary["hosts"]["hosts"]}


def test_a_simulated_fleet_of_five_hosts_reports_the_unhealthy_ones(five_hosts: Path) -> None:
    out = five_hosts / "report"
    summary = json.loads((out / "summary.json").read_text())
    verdicts = _verdicts(out)
    # The simulator's default order: healthy, overloaded, healthy, memory-pressure, healthy.
    assert verdicts["host1"] == verdicts["host3"] == verdicts["host5"] == "healthy"
    assert verdicts["host2"] == "critical" and verdicts["host4"] != "healthy"
    # The hosts ran at the same time: read as one fleet, 20 instances ran at once (and
    # "reduce from 20 to 10"); each host ran its 4.
    rows = summary["hosts"]["hosts"]
    assert {row["concurrency"] for row in rows} == {4} and summary["concurrency"] == 4
    cuts = [a["change"] for row in rows for a in row["actions"] if a["id"] == "reduce-instances"]
    assert cuts and all(cut["from"] == 4 for cut in cuts)
    html = (out / "report.html").read_text()
    assert '<section id="hosts">' in html
    assert html.index('id="hosts"') < html.index('id="host-host2"')
    assert "What to change, host by host" in html
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(out / "report.pdf").pages).split())
    assert "Hosts" in pdf and "host2" in pdf and "What to change, host by host" in pdf
    ticket = (out / "ticket.md").read_text()
    assert "### Hosts, worst first" in ticket and "- host2: critical" in ticket


#: The sections of a host's block: a fleet's, but for before and after and the history
#: (these logs have neither) and how the report was made (once, for every host).
HOST_SECTIONS = ("summary", "health", "flags", "patterns", "tree", "scenarios", "charts",
                 "instances", "timeline", "evidence")  # fmt: skip


def _section(html: str, section_id: str) -> str:
    """The markup inside the section with that id (a section holding no other)."""
    found = re.search(rf'<section id="{section_id}"[^>]*>(.*?)</section>', html, re.S)
    assert found is not None, f"no section {section_id}"
    return found.group(1)


def _headings(html: str) -> list[str]:
    """The headings of the host blocks, in order."""
    return re.findall(r'<h2 class="host-heading[^"]*">([^<]*)</h2>', html)


def test_each_host_not_healthy_has_its_sections_and_a_healthy_one_its_row(
    five_hosts: Path,
) -> None:
    out = five_hosts / "report"
    verdicts = _verdicts(out)
    html = (out / "report.html").read_text()
    assert _headings(html) == ["host2: critical", f"host4: {verdicts['host4']}"]
    for host in ("host2", "host4"):
        assert f'<section class="host-block" id="host-{host}">' in html
        row = f'<th scope="row"><a href="#host-{host}">{host}</a></th>'
        assert row in _section(html, "hosts")  # the hosts table links to the block
        for name in HOST_SECTIONS:
            assert html.count(f'<section id="host-{host}_{name}"') == 1, (host, name)
    for host in ("host1", "host3", "host5"):
        assert f'<th scope="row">{host}</th>' in _section(html, "hosts")
        assert f"host-{host}" not in html and f"{host}: healthy" not in html
    # No section of the worst host's alone any more, and how the report was made once.
    assert 'id="summary"' not in html and 'id="charts"' not in html
    assert html.count('<section id="provenance">') == 1
    assert html.index('id="host-host4"') < html.index('id="provenance"')
    assert html.count("<svg") == 14  # the tree and six charts, of each host
    note = _section(html, "hosts")
    assert "Below, the sections of each host that is not healthy, worst first:" in note
    assert "the worst host's" not in note


@pytest.mark.parametrize("host", ["host2", "host4"])
def test_a_host_s_block_is_the_report_of_its_directory_alone(five_hosts: Path, host: str) -> None:
    """Each section of the block, charts and actions included, is the one of the report of
    that host's directory alone: its ids and links apart, prefixed with the block's."""
    alone = five_hosts / f"alone-{host}"
    done = CliRunner().invoke(main, ["report", str(five_hosts / "logs" / host), "--out",
                                     str(alone), "--format", "html"])  # fmt: skip
    assert done.exit_code == 0, done.output
    own = (alone / "report.html").read_text()
    html = (five_hosts / "report" / "report.html").read_text()
    prefix = f"host-{host}_"
    for name in HOST_SECTIONS:
        expected = re.sub(r'href="#(?!pw-)', f'href="#{prefix}', _section(own, name))
        expected = expected.replace('id="pw-', f'id="pw-{prefix}').replace("#pw-", f"#pw-{prefix}")
        if name == "charts":
            _same_charts(_section(html, f"{prefix}{name}"), expected)
        else:
            assert _section(html, f"{prefix}{name}") == expected, name
    actions = re.search(r'<ol class="actions">.*?</ol>', _section(html, f"{prefix}scenarios"), re.S)
    assert actions is not None and actions.group(0) in _section(own, "scenarios")


def _same_charts(shown: str, expected: str) -> None:
    """The same charts, each byte for byte but the thread counts': there, the same points
    and instances, which may come in another order (and so take other colours), as a
    host's tables keep the order of the instances of every host."""
    drawn, alone = (re.findall(r"<svg.*?</svg>", charts, re.S) for charts in (shown, expected))
    assert len(drawn) == len(alone) == 6
    threads = ('aria-label="Thread count' in svg for svg in alone)
    for mine, own, is_threads in zip(drawn, alone, threads, strict=True):
        if not is_threads:
            assert mine == own
            continue
        for pattern in (r'<use [^>]*x="([^"]+)" y="([^"]+)"', r">(tmp_batt_[^<]+)<"):
            assert sorted(re.findall(pattern, mine)) == sorted(re.findall(pattern, own))
    assert re.sub(r"<svg.*?</svg>", "", shown, flags=re.S) == re.sub(
        r"<svg.*?</svg>", "", expected, flags=re.S
    )


class _Anchors(HTMLParser):
    """Every id of a page and every link within it."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids.append(value)
            if name in ("href", "xlink:href") and value and value.startswith("#"):
                self.links.append(value[1:])
            if value and "url(#" in value:
                self.links.extend(re.findall(r"url\(#([^)]+)\)", value))


def _anchors(html: str) -> _Anchors:
    parser = _Anchors()
    parser.feed(html)
    return parser


def test_ids_are_unique_and_every_link_resolves(five_hosts: Path) -> None:
    html = (five_hosts / "report" / "report.html").read_text()
    found = _anchors(html)
    assert [i for i, n in Counter(found.ids).items() if n > 1] == []
    assert sorted(set(found.links) - set(found.ids)) == []
    assert len(found.ids) > 500 and len(found.links) > 100  # the charts' ids and uses too
    nav = re.search(r'<nav class="contents".*?</nav>', html, re.S)
    assert nav is not None
    assert re.findall(r'href="#([^"]+)"', nav.group(0)) == [
        "hosts", "host-host2", "host-host4", "provenance"
    ]  # fmt: skip


def test_the_anchors_check_finds_a_repeated_id_and_a_broken_link() -> None:
    found = _anchors('<p id="a"></p><svg><g id="a"/><use xlink:href="#b"/></svg>')
    assert found.ids == ["a", "a"] and found.links == ["b"]


def test_the_pdf_has_each_unhealthy_host_s_sections_from_a_new_page(five_hosts: Path) -> None:
    pdf = five_hosts / "report" / "report.pdf"
    verdicts = _verdicts(five_hosts / "report")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    pages = text.split("\f")
    headings = ["host2: critical", f"host4: {verdicts['host4']}"]
    for heading in headings:
        assert heading in text
    # Each block starts a page: its heading is the page's first line under the header.
    lines = [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]
    starts = [n for n, page in enumerate(lines) if page[1:2] and page[1] in headings]
    assert [lines[n][1] for n in starts] == headings and starts[0] > 0
    assert "host1: healthy" not in text
    assert text.count("How this report was made") == 1


def test_a_before_that_knows_no_host_comes_once_after_the_hosts(
    five_hosts: Path, tmp_path: Path
) -> None:
    """A before of one host's logs (no hosts in it) is compared on the findings' top level
    (the worst host's numbers): once, between the hosts and the hosts' blocks."""
    logs = five_hosts / "logs"
    html = _page(["report", str(logs), "--baseline", str(logs / "host1"), "--out",
                  str(tmp_path)], tmp_path / "report.html")  # fmt: skip
    assert html.count('<section id="baseline">') == 1 and "_baseline" not in html
    assert html.index('id="hosts"') < html.index('id="baseline"') < html.index('id="host-host2"')
    assert html.count("<svg") == 14
    assert "Next, before and after: host2's numbers, the worst host's. A host's block " in html
    assert '<a href="#baseline">Before and after</a>' in html


@pytest.mark.parametrize("compared", ["baseline", "history"])
def test_each_host_s_block_compares_it_with_its_own_before_and_days(
    five_hosts: Path, tmp_path: Path, compared: str
) -> None:
    """Before and after against earlier logs of the same hosts, and a daily summary's
    history, are each host's own: in its block, and not on the page."""
    logs = five_hosts / "logs"
    if compared == "baseline":
        args = ["report", str(logs), "--baseline", str(logs), "--out", str(tmp_path)]
    else:
        args = ["daily", str(logs), "--day", "2025-10-14", "--tz", "UTC", "--store",
                str(tmp_path / "store"), "--out", str(tmp_path)]  # fmt: skip
    page = tmp_path / ("report.html" if compared == "baseline" else "2025-10-14/report.html")
    html = _page(args, page)
    assert f'<section id="{compared}">' not in html and "Next, " not in html
    for host in ("host2", "host4"):
        assert html.count(f'<section id="host-{host}_{compared}">') == 1
    assert html.count("<svg") == (16 if compared == "history" else 14)  # a trend per block
    found = _anchors(html)
    assert [i for i, n in Counter(found.ids).items() if n > 1] == []
    assert sorted(set(found.links) - set(found.ids)) == []


def _page(args: list[str], page: Path) -> str:
    """The report.html a command writes, checked to have been written."""
    done = CliRunner().invoke(main, [*args, "--format", "html"])
    assert done.exit_code == 0, done.output
    html = page.read_text()
    found = _anchors(html)
    assert [i for i, n in Counter(found.ids).items() if n > 1] == []
    assert sorted(set(found.links) - set(found.ids)) == []
    return html


def test_a_fleet_of_healthy_hosts_has_no_host_sections(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLES / "healthy", logs / "web1")
    shutil.copytree(CASES / "guide-healthy-pattern", logs / "web2",
                    ignore=shutil.ignore_patterns("expect.toml"))  # fmt: skip
    out = tmp_path / "report"
    done = CliRunner().invoke(main, ["report", str(logs), "--out", str(out), "--format", "html"])
    assert done.exit_code == 0, done.output
    html = (out / "report.html").read_text()
    assert _headings(html) == [] and "host-block" not in html.split("</style>")[1]
    assert "No host is critical or warning: no host's sections follow." in html
    found = _anchors(html)
    assert sorted(set(found.links) - set(found.ids)) == []
    assert [i for i, n in Counter(found.ids).items() if n > 1] == []


def test_a_host_with_nothing_finished_comes_last_and_is_named() -> None:
    """A host with no finished run has nothing to judge: the fleet is the judged hosts'
    worst, unknown only when no host has a finished run."""
    found = api.report([str(SAMPLES / "healthy")])
    unknown = replace(found, verdict=Verdict.UNKNOWN)
    critical = replace(found, verdict=Verdict.CRITICAL)
    ranked = worst_first([HostFindings("idle", unknown), HostFindings("web2", found),
                          HostFindings("web1", critical)])  # fmt: skip
    assert [h.host for h in ranked] == ["web1", "web2", "idle"]
    assert summary(ranked).startswith("1 of 3 hosts not healthy: web1 critical. The worst, web1: ")
    assert summary(ranked).endswith(" No finished run to judge on idle.")
    calm = worst_first([HostFindings("idle", unknown), HostFindings("web2", found)])
    assert calm[0].host == "web2" and summary(calm).startswith("1 of 2 hosts healthy. web2: ")
    none = worst_first([HostFindings("a", unknown), HostFindings("b", unknown)])
    assert summary(none) == "No finished run on any of the 2 hosts: nothing to judge yet."


def test_a_block_s_id_is_its_host_s_name_made_an_id_and_never_repeats() -> None:
    found = api.report([str(SAMPLES / "healthy")])
    names = ["web2", "Web 2", "web-2", NO_HOST, "ホスト", "node.17", "web-2-2"]
    assert anchors(tuple(HostFindings(n, found) for n in names)) == (
        "host-web2", "host-web-2", "host-web-2-2", "host-no-host", "host-x", "host-node-17",
        "host-web-2-2-2",
    )  # fmt: skip
