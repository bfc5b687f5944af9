"""``poolwatch report`` and ``poolwatch check`` as cron, monitoring and people run them."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from poolwatch.cli import main
from poolwatch.render.json import schema
from poolwatch.simulate import simulate

PLUGIN_LINE = re.compile(r"^POOLWATCH (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| (\S+=\S+ ?)+$")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Invoke the CLI; return exit code, stdout and stderr."""
    done = CliRunner().invoke(main, list(args), env=env)
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A healthy and an overloaded simulated fleet."""
    out = {}
    for scenario in ("healthy", "overloaded"):
        folder = tmp_path_factory.mktemp(scenario)
        simulate(scenario, folder, instances=8, runs=5, seed=6)
        out[scenario] = folder
    return out


def test_check_exit_codes_follow_the_verdict(fleets: dict[str, Path]) -> None:
    code, out, _ = run("check", str(fleets["healthy"]))
    assert code == 0
    assert PLUGIN_LINE.match(out.splitlines()[0])
    assert out.startswith("POOLWATCH OK - Healthy:")
    code, out, _ = run("check", str(fleets["overloaded"]))
    assert code == 2
    assert out.startswith("POOLWATCH CRITICAL - ")
    assert "Reduce concurrent instances from 8 to 4" in out


def test_check_warning() -> None:
    # 20 hand-written runs, 5 of them with ProcessPool failures (25 %): the guide's yellow
    # "ProcessPool fallback 20-30%", nothing red, and what would escalate it.
    logs = Path(__file__).parent / "cases" / "tree-processpool-under-30"
    code, out, _ = run("check", *(str(p) for p in sorted(logs.glob("*.log"))))
    assert code == 1
    assert out.startswith("POOLWATCH WARNING - ")
    assert "ProcessPool fallback 20-30%: 5 of 20 runs with a ProcessPool failure (25 %)" in out
    assert "Monitor closely: ProcessPool fallback 20-30%: 25 % of runs; act above 30 %" in out


def test_check_unknown_without_usable_input(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_text("")
    code, out, _ = run("check", str(tmp_path / "empty.log"))
    assert code == 3
    assert out == f"POOLWATCH UNKNOWN - no usable input: {tmp_path / 'empty.log'}: empty file\n"


def test_check_bad_usage_is_unknown(fleets: dict[str, Path], tmp_path: Path) -> None:
    assert run("check", "--bogus", str(fleets["healthy"]))[0] == 3
    bad = tmp_path / "poolwatch.toml"
    bad.write_text("[thresholds.thread_count]\nwarning = 'x'\n")
    code, out, _ = run("check", str(fleets["healthy"]), "--config", str(bad))
    assert code == 3
    assert out.startswith("POOLWATCH UNKNOWN - ")
    assert "warning must be a whole number from 1 to 100000, not 'x'" in out


def test_check_json_is_the_summary(fleets: dict[str, Path]) -> None:
    code, out, _ = run("check", str(fleets["overloaded"]), "--json")
    assert code == 2
    jsonschema.validate(json.loads(out), schema())


def test_report_writes_summary_json(fleets: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, stdout, _ = run("report", str(fleets["overloaded"]), "--out", str(out))
    assert code == 0, stdout
    data = json.loads((out / "summary.json").read_text())
    assert data["verdict"] == "critical"
    assert data["schema_version"] == 1
    assert not list(out.glob(".*.tmp"))


def test_report_is_reproducible(fleets: dict[str, Path], tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1764547200"}
    for name in ("a", "b"):
        run("report", str(fleets["healthy"]), "--out", str(tmp_path / name), env=env)
    first = (tmp_path / "a" / "summary.json").read_bytes()
    assert first == (tmp_path / "b" / "summary.json").read_bytes()
    assert json.loads(first)["generated_at"] == "2025-12-01T00:00:00+00:00"


def test_report_refuses_an_unknown_format_and_an_input_as_output(
    fleets: dict[str, Path], tmp_path: Path
) -> None:
    code, _, err = run("report", str(fleets["healthy"]), "--out", str(tmp_path), "--format", "xls")
    assert code == 2
    assert "unknown format 'xls'" in err
    victim = tmp_path / "summary.json"
    victim.write_text("mine\n")
    code, _, err = run("report", str(victim), str(fleets["healthy"]), "--out", str(tmp_path))
    assert code == 2
    assert "is one of the inputs" in err
    assert victim.read_text() == "mine\n"


def test_thresholds_from_a_toml_change_the_grades(fleets: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "poolwatch.toml"
    config.write_text("[thresholds.thread_count]\nwarning = 100\ncritical = 200\n")
    _, out, _ = run("check", str(fleets["overloaded"]), "--config", str(config), "--json")
    assert json.loads(out)["metrics"]["thread_count"]["grade"] == "healthy"


def test_nothing_to_judge_is_unknown(tmp_path: Path) -> None:
    monitor_only = Path(__file__).parent / "logs" / "week6b_monitoring.log"
    code, out, _ = run("check", str(monitor_only))
    assert code == 3
    assert out.startswith("POOLWATCH UNKNOWN - No finished run in the logs")
    code, out, _ = run("check", str(monitor_only), "--json")
    data = json.loads(out)
    assert data["verdict"] == "unknown"
    assert data["concurrency"] is None
    # Nothing finished: the tree is not walked past its first question.
    assert [step["answer"] for step in data["decision_path"]] == [
        "Unknown: no run has finished yet"
    ]
    jsonschema.validate(data, schema())


def test_without_graphviz_the_report_shows_the_tree_as_an_outline(
    fleets: dict[str, Path], tmp_path: Path
) -> None:
    bare = {"PATH": str(Path(sys.executable).parent)}  # poolwatch's own tools, no dot
    code, _, err = run("report", str(fleets["overloaded"]), "--out", str(tmp_path), env=bare)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.html", "report.pdf", "summary.json", "ticket.md"
    ]  # fmt: skip
    page = (tmp_path / "report.html").read_text()
    assert "Graphviz's <code>dot</code>, which draws it, is not installed" in page
    assert '<ul class="tree-outline"' in page  # shown on every screen, not only phones
    root = '<li class="taken" style="margin-left: 0rem">Is script completing successfully?</li>'
    assert root in page
    code, _, err = run("daily", str(fleets["healthy"]), "--day", "2025-10-14", "--tz", "UTC",
                       "--store", str(tmp_path / "store"), "--out", str(tmp_path / "daily"),
                       env=bare)  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "daily" / "2025-10-14" / "report.pdf").exists()


def test_with_graphviz_the_outline_is_for_phones_only(
    fleets: dict[str, Path], tmp_path: Path
) -> None:
    code, _, err = run(
        "report", str(fleets["overloaded"]), "--out", str(tmp_path), "--format", "html"
    )
    assert code == 0, err
    page = (tmp_path / "report.html").read_text()
    assert '<figure class="chart tree"><svg' in page
    assert '<ul class="tree-outline narrow-only"' in page


def test_cron_hears_nothing_on_a_normal_day(fleets: dict[str, Path], tmp_path: Path) -> None:
    """Tee copies are the normal case: said only with -v; -q prints nothing on success."""
    logs = fleets["healthy"]
    code, out, err = run("report", str(logs), "--out", str(tmp_path), "--format", "HTML,Json")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "summary.json"]
    assert err == ""
    assert out.startswith("healthy: ")
    code, out, err = run("report", str(logs), "--out", str(tmp_path), "--format", "json", "-q")
    assert (code, out, err) == (0, "", "")
    code, _, err = run("report", str(logs), "--out", str(tmp_path), "--format", "json", "-v")
    assert re.fullmatch(r"poolwatch: \d+ duplicate input\(s\) counted once \(.*\)\n", err)
    daily = ["daily", str(logs), "--day", "2025-10-14", "--tz", "UTC", "--quiet",
             "--store", str(tmp_path / "store"), "--out", str(tmp_path / "daily")]  # fmt: skip
    code, out, err = run(*daily)
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "daily" / "2025-10-14" / "report.pdf").exists()


def test_run_logs_alone_say_they_have_no_time_axis(fleets: dict[str, Path], tmp_path: Path) -> None:
    """The guide's own glob, tmp_batt_*_run.log: no date line anywhere."""
    logs = tmp_path / "logs"
    logs.mkdir()
    for log in fleets["overloaded"].glob("tmp_batt_*_run.log"):
        (logs / log.name).write_bytes(log.read_bytes())
    code, _, err = run("report", str(logs), "--out", str(tmp_path), "--format", "md,html")
    assert code == 0, err
    ticket = (tmp_path / "ticket.md").read_text()
    assert "| Window | unknown: no line of the logs carries a date (run logs have none) |" in ticket
    page = (tmp_path / "report.html").read_text()
    assert "no time axis, the logs carry no dates" in page
    assert "- → -" not in page


def test_lines_of_runs_still_going_are_told_apart(tmp_path: Path) -> None:
    """The scenario counts the finished runs' lines; the runs still going hold the rest."""
    simulate("overloaded", tmp_path / "logs", instances=8, runs=5, seed=3)  # one run going
    code, _, err = run("report", str(tmp_path / "logs"), "--out", str(tmp_path), "--format", "json")
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["runs"]["incomplete"] >= 1
    scenario = next(s for s in summary["scenarios"] if s["id"] == "frequent-overload")
    found = re.search(r"([\d,]+) lines \(([\d,]+) more in runs not finished", scenario["evidence"])
    assert found, scenario["evidence"]
    finished, going = (int(n.replace(",", "")) for n in found.groups())
    assert finished + going == summary["counts"]["system_overloaded"]


def test_a_fleet_with_no_finished_run_has_no_executor_mix(tmp_path: Path) -> None:
    log = tmp_path / "run_card.log"
    log.write_text(
        "Tue Oct 14 09:36:08 CEST 2025\n=== NO GPU - CPU MODE ===\n"
        "Running: python run_batt.py -t 10.0 -c -32 -b tmp_batt_Xa3k9Q_run\n"
        "run_batt.py:840: -- 0a1b2c3d - 0 start --\n"
    )
    code, _, err = run("report", str(log), "--out", str(tmp_path / "out"), "--format", "md")
    assert code == 0, err
    ticket = (tmp_path / "out" / "ticket.md").read_text()
    assert "| Executor mix | not measured: no run finished |" in ticket
    assert "0 % ProcessPool" not in ticket


def test_reports_written_under_the_logs_are_never_read_back(
    fleets: dict[str, Path], tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(fleets["overloaded"], logs)
    out = logs / "poolwatch"
    first = json.loads(run("check", str(logs), "--json")[1])
    for _ in range(2):  # the second run reads the first one's outputs back
        code, _, err = run("report", str(logs), "--out", str(out))
        assert code == 0, err
        assert err == (f"poolwatch: --out {out} is inside the input {logs}: poolwatch skips "
                       "its own outputs there; keep reports apart from logs\n")  # fmt: skip
        code, _, err = run("parse", str(logs), "--out", str(out / "tables") + "/", "-q")
        assert code == 0, err
    again = json.loads(run("check", str(logs), "--json")[1])
    assert again["runs"] == first["runs"]
    assert again["counts"] == first["counts"]
    assert again["inputs"]["files"] == first["inputs"]["files"]
    reasons = {s["path"].split("/")[-1]: s["reason"] for s in again["inputs"]["skipped"]}
    assert reasons["report.html"] == "poolwatch's own output (a report page), not a log"
    assert reasons["summary.json"] == "poolwatch's own output (a summary.json), not a log"
    assert reasons["ticket.md"] == "poolwatch's own output (a ticket), not a log"
    assert "events.parquet" in reasons
