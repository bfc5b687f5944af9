"""ticket.md: a short, safe Markdown summary for an incident ticket."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from poolwatch.cli import main
from poolwatch.render.markdown import code, md
from poolwatch.simulate import simulate


def report(logs: Path, out: Path) -> str:
    """Run ``report --format md`` and return ticket.md."""
    done = CliRunner().invoke(
        main,
        ["report", str(logs), "--out", str(out), "--format", "md"],
        env={"SOURCE_DATE_EPOCH": "1764547200"},
    )
    assert done.exit_code == 0, done.output
    return (out / "ticket.md").read_text()


def test_markdown_escaping() -> None:
    hostile = "a*b_c`d [x](javascript:alert(1)) <script>x</script> | ~~s~~ &amp;"
    safe = md(hostile)
    assert "<script>" not in safe
    assert "&lt;script>" in safe
    for char in "*_`[]|~":
        assert re.search(rf"(?<!\\)\{char}", safe) is None, char
    assert "&amp;amp;" in safe
    assert "`" not in code("x`y")


def test_ticket_of_an_overloaded_fleet(tmp_path: Path) -> None:
    simulate("overloaded", tmp_path / "logs", instances=8, runs=5, seed=3)
    ticket = report(tmp_path / "logs", tmp_path / "out")
    assert ticket.startswith("## poolwatch: 🔴 CRITICAL\n")
    assert "1. **Reduce concurrent instances from 8 to 4**" in ticket
    assert "| Runs | 40:" in ticket
    assert "attach `report.pdf`" in ticket
    assert "\n\n\n" not in ticket


def test_ticket_of_a_healthy_fleet(tmp_path: Path) -> None:
    simulate("healthy", tmp_path / "logs", instances=8, runs=5, seed=3)
    ticket = report(tmp_path / "logs", tmp_path / "out")
    assert ticket.startswith("## poolwatch: 🟢 HEALTHY\n")
    assert "No action needed." in ticket


def test_ticket_is_reproducible(tmp_path: Path) -> None:
    simulate("timeouts", tmp_path / "logs", instances=4, runs=3, seed=1)
    assert report(tmp_path / "logs", tmp_path / "a") == report(tmp_path / "logs", tmp_path / "b")


def test_hostile_file_names_stay_inside_code_spans(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    simulate("overloaded", logs, instances=2, runs=3, seed=4)
    for path in logs.glob("run_card_*.log"):
        path.rename(logs / f"x`<img src=x onerror=alert(1)>[a](javascript:b){path.name}")
    ticket = report(logs, tmp_path / "out")
    for line in ticket.splitlines():
        outside = re.sub(r"`[^`]*`", "", line)
        assert "<img" not in outside
        assert "](javascript" not in outside
    assert "<img src=x" in ticket  # quoted, inside a code span, where it is inert


def _parts_add_up(line: str) -> None:
    """``24: 21 completed, 3 exited, 0 timed out, ...``: the parts make the total."""
    total, parts = line.split(":", 1)
    counts = [int(part.split()[0]) for part in parts.split(",")]
    assert sum(counts) == int(total.split()[-1]), line
    assert "exited" in parts


def test_the_run_line_counts_exited_runs(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "oom-exits"
    logs = tmp_path / "logs"
    logs.mkdir()
    for log in case.glob("*.log"):
        (logs / log.name).write_bytes(log.read_bytes())
    ticket = report(logs, tmp_path / "out")
    runs = next(line for line in ticket.splitlines() if line.startswith("| Runs |"))
    _parts_add_up(runs.split("|")[2])
    assert "3 exited" in runs
    checked = CliRunner().invoke(main, ["check", str(logs)])
    assert checked.exit_code == 1  # WARNING: runs that exit never read OK
    line = next(line for line in checked.stdout.splitlines() if line.startswith("verdict:"))
    _parts_add_up(line.split("runs:", 1)[1].replace(" (", ": ").rstrip(")"))
