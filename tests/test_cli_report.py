"""``poolwatch report`` and ``poolwatch check`` as cron, monitoring and people run them."""

from __future__ import annotations

import json
import re
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
