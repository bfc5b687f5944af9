"""The Python API: the README's example runs, and gives what the commands give."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from poolwatch import api
from poolwatch.cli import main
from poolwatch.errors import NoUsableInputError, PoolwatchError, UsageError

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_logs"


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"## From Python\n.*?```python\n(.*?)```", readme, re.S)
    assert found is not None, "the README's Python example"
    return found.group(1)


def test_the_readme_example_runs_and_agrees_with_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sample_logs").symlink_to(SAMPLES)
    env = {"SOURCE_DATE_EPOCH": "1700000000", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", _readme_example()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    written = json.loads((tmp_path / "incident" / "summary.json").read_text())
    assert done.stdout.splitlines()[0] == f"{written['verdict']} - {written['summary']}"
    assert (tmp_path / "incident" / "ticket.md").is_file()
    assert not (tmp_path / "incident" / "report.html").exists()  # only the formats asked for
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cli"
    result = CliRunner().invoke(main, ["report", "sample_logs/", "--out", str(out), "--format",
                                       "json"], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    by_cli = json.loads((out / "summary.json").read_text())
    # The same findings, but for the command line the provenance names.
    for document in (written, by_cli):
        document.pop("provenance", None)
    assert written == by_cli
    runs = int(done.stdout.splitlines()[-1].split()[0])
    assert runs == len(api.read([str(SAMPLES)]).runs) > 0


def test_check_status_is_the_plugin_s_exit_code() -> None:
    findings = api.check([str(SAMPLES)])
    result = CliRunner().invoke(main, ["check", str(SAMPLES)])
    assert result.exit_code == api.status(findings)
    assert result.output.startswith(f"POOLWATCH {findings.verdict.upper()}"[:15])


def test_errors_are_one_family_with_the_command_s_exit_code(tmp_path: Path) -> None:
    with pytest.raises(NoUsableInputError, match=r"no usable input: .*nothing\.log"):
        api.read([str(tmp_path / "nothing.log")])
    with pytest.raises(UsageError, match="standard input") as usage:
        api.read(["-", "-"])
    assert usage.value.exit_code == 2
    with pytest.raises(UsageError, match="unknown format 'docx'"):
        api.targets(tmp_path, ("html", "docx"))
    with pytest.raises(UsageError, match="not both"):
        api.report([str(SAMPLES)], baseline=[str(SAMPLES)], baseline_days=3)
    log = next(SAMPLES.rglob("*.log"))
    with pytest.raises(UsageError, match="is one of the inputs"):
        api.refuse([log], [str(SAMPLES)])
    assert issubclass(NoUsableInputError, PoolwatchError) and NoUsableInputError.exit_code == 1


def test_a_bad_source_date_epoch_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH='yesterday'"):
        api.now()


def test_steps_are_shown_through_the_callers_display(tmp_path: Path) -> None:
    shown: list[tuple[str, int, str, int]] = []

    @contextmanager
    def steps(what: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
        done = [0]

        def advance(more: int) -> None:
            done[0] += more

        yield advance
        shown.append((what, total, unit, done[0]))

    findings = api.report([str(SAMPLES)], steps=steps)
    api.write(findings, api.targets(tmp_path, ("json", "md")), steps=steps)
    reading, rendering = shown
    assert reading[0] == "reading" and reading[2] == "B" and reading[1] == reading[3] > 0
    assert rendering == ("rendering", 2, "file", 2)
