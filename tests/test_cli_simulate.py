"""``poolwatch simulate`` as a user runs it."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from poolwatch.cli import main
from poolwatch.cli import simulate as simulate_command
from poolwatch.simulate import SCENARIOS, SNAPSHOTS, VERSIONS


def test_simulate_writes_a_corpus_poolwatch_reads(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    done = CliRunner().invoke(
        main, ["simulate", "--scenario", "timeouts", "--instances", "2", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "wrote 6 files" in done.stdout  # 2 consoles, 2 run logs, 2 monitors' logs
    parsed = CliRunner().invoke(main, ["parse", str(out)])
    assert parsed.exit_code == 0
    assert "files: 4 read, 0 skipped, 2 duplicate" in parsed.stdout


def test_a_non_empty_directory_is_refused_without_force(tmp_path: Path) -> None:
    mine = tmp_path / "run_card_1.log"
    mine.write_text("my own log\n")
    done = CliRunner().invoke(main, ["simulate", "--runs", "1", "--out", str(tmp_path)])
    assert done.exit_code == 2
    assert "is not empty" in done.stderr
    assert mine.read_text() == "my own log\n"
    forced = CliRunner().invoke(
        main, ["simulate", "--runs", "1", "--instances", "1", "--out", str(tmp_path), "--force"]
    )
    assert forced.exit_code == 0


def test_a_bad_size_is_a_usage_error(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["simulate", "--size", "12XB", "--out", str(tmp_path / "x")])
    assert done.exit_code == 2
    assert "not a size: '12XB'" in done.stderr


def test_the_choices_are_the_simulator_s() -> None:
    choices = {
        param.name: tuple(param.type.choices)
        for param in simulate_command.params
        if isinstance(param.type, click.Choice)
    }
    assert choices["scenarios"] == SCENARIOS
    assert choices["version"] == VERSIONS
    assert choices["snapshots"] == SNAPSHOTS


def test_later_version_snapshots_and_copies(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    args = ["simulate", "--scenario", "deadlock", "--instances", "2", "--runs", "1"]
    args += ["--version", "later", "--snapshots", "leak", "--copied", "--out", str(out)]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert "wrote 8 files" in done.stdout
    assert len(list(out.glob("threads_tmp_batt_*.txt"))) == 2
    assert "Running: timeout -k 5s 64s python run_batt.py" in (out / "run_card_1.log").read_text()
