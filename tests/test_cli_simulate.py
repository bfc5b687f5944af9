"""``poolwatch simulate`` as a user runs it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from poolwatch.cli import main


def test_simulate_writes_a_corpus_poolwatch_reads(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    done = CliRunner().invoke(
        main, ["simulate", "--scenario", "timeouts", "--instances", "2", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "wrote 5 files" in done.stdout
    parsed = CliRunner().invoke(main, ["parse", str(out)])
    assert parsed.exit_code == 0
    assert "files: 3 read, 0 skipped, 2 duplicate" in parsed.stdout


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
