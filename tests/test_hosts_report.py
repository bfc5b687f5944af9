"""Logs of several hosts, reported: each host diagnosed as the guide's fleet of one
machine, the report led by the hosts worst first, check naming the hosts not healthy."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from poolwatch import api
from poolwatch.analyze.hosts import summary, worst_first
from poolwatch.cli import main
from poolwatch.findings import HostFindings
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


def test_a_simulated_fleet_of_five_hosts_reports_the_unhealthy_ones(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    made = CliRunner().invoke(main, ["simulate", "--hosts", "5", "--instances", "4", "--runs",
                                     "3", "--seed", "1", "--out", str(logs)])  # fmt: skip
    assert made.exit_code == 0, made.output
    out = tmp_path / "report"
    done = CliRunner().invoke(main, ["report", str(logs), "--out", str(out)])
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text())
    verdicts = {row["host"]: row["verdict"] for row in summary["hosts"]["hosts"]}
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
    assert '<section id="hosts">' in html and html.index('id="hosts"') < html.index('id="summary"')
    assert "What to change, host by host" in html
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(out / "report.pdf").pages).split())
    assert "Hosts" in pdf and "host2" in pdf and "What to change, host by host" in pdf
    ticket = (out / "ticket.md").read_text()
    assert "### Hosts, worst first" in ticket and "- host2: critical" in ticket


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
