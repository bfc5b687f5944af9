"""``poolwatch parse`` as a user runs it: outputs, summaries, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from poolwatch.cli import main
from poolwatch.ingest.tables import TABLES


def run(*args: str) -> tuple[int, str, str]:
    """Invoke the CLI; return exit code, stdout and stderr."""
    done = CliRunner().invoke(main, list(args))
    return done.exit_code, done.stdout, done.stderr


def test_summary_lists_files_lines_events_and_unparsed(logs: Path) -> None:
    code, out, _ = run("parse", str(logs))
    assert code == 0
    assert "files: 2 read, 0 skipped, 1 duplicate" in out
    assert "lines: 69 (1 unparsed)" in out
    assert "overload" in out
    assert "monitor_alert" in out


def test_out_directory_gets_every_table_as_parquet(logs: Path, tmp_path: Path) -> None:
    target = tmp_path / "tables"
    code, out, _ = run("parse", str(logs), "--out", f"{target}/")
    assert code == 0, out
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.parquet" for n in TABLES)
    runs = pd.read_parquet(target / "runs.parquet")
    assert len(runs) == 3
    assert not list(target.glob(".*.tmp"))


def test_out_file_gets_the_events_table(logs: Path, tmp_path: Path) -> None:
    for name in ("events.parquet", "events.csv"):
        code, _, _ = run("parse", str(logs), "--out", str(tmp_path / name))
        assert code == 0
    parquet = pd.read_parquet(tmp_path / "events.parquet")
    csv = pd.read_csv(tmp_path / "events.csv")
    assert len(parquet) == len(csv) > 0


def test_an_unknown_output_format_is_refused(logs: Path, tmp_path: Path) -> None:
    code, _, err = run("parse", str(logs), "--out", str(tmp_path / "events.xlsx"))
    assert code == 2
    assert "expected a .parquet or .csv file, or a directory" in err


def test_an_input_is_never_overwritten(logs: Path) -> None:
    target = logs / "console_two_runs.log"
    before = target.read_bytes()
    csv = logs / "events.csv"
    csv.write_text("not a log\n")
    code, _, err = run("parse", str(logs), str(csv), "--out", str(csv))
    assert code == 2
    assert "is one of the inputs" in err
    assert csv.read_text() == "not a log\n"
    assert target.read_bytes() == before


def test_skipped_inputs_are_reported_on_one_line_each(logs: Path) -> None:
    code, _, err = run("parse", str(logs), str(logs / "missing.log"))
    assert code == 0
    assert f"poolwatch: skipped {logs / 'missing.log'}: no such file" in err
    assert "Traceback" not in err


def test_no_usable_input_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    code, _, err = run("parse", str(tmp_path / "empty.log"), str(tmp_path / "nope"))
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        f"Error: no usable input: {tmp_path / 'empty.log'}: empty file (and 1 more skipped)"
    )


def test_stdin_twice_is_a_usage_error() -> None:
    code, _, err = run("parse", "-", "-")
    assert code == 2
    assert "only once" in err
