"""Hostile inputs and failures: every case builds its inputs at run time and runs the
installed ``poolwatch`` as a user would, in a process of its own.

Each case asserts no traceback, the exit code, the one-line message naming the input,
which inputs were kept or skipped, and counts against ``grep -c`` (or ``zcat | grep -c``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The hand-written logs of the main suite: a bare run log and a console of 3 runs.
LOGS = Path(__file__).parent.parent / "logs"
RUN_LOG = LOGS / "tmp_batt_Xa3k9Q_run.log"
CONSOLE = LOGS / "console_two_runs.log"
POOLWATCH = str(Path(sys.executable).parent / "poolwatch")


@dataclass(frozen=True)
class Done:
    """How a poolwatch process ended."""

    code: int
    out: str
    err: str

    def clean(self) -> Done:
        """This result, asserted free of tracebacks (a user's error is one line)."""
        assert "Traceback" not in self.err, self.err
        assert "Traceback" not in self.out, self.out
        return self

    @property
    def error(self) -> str:
        """The last line on stderr: the one-line error, if there is one."""
        lines = self.err.strip().splitlines()
        return lines[-1] if lines else ""


def poolwatch(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    stdin: bytes | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> Done:
    """Run the installed poolwatch with ``args``; its output decoded leniently."""
    done = subprocess.run(
        [POOLWATCH, *map(os.fsencode, args)],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )
    return Done(done.returncode, _text(done.stdout), _text(done.stderr))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def grep_count(pattern: str, *paths: Path) -> int:
    """What ``grep -c -F`` counts over the files (``zgrep`` for compressed ones)."""
    total = 0
    for path in paths:
        tool = "zgrep" if path.suffix in {".gz", ".bz2", ".xz"} else "grep"
        done = subprocess.run(
            [tool, "-a", "-c", "-F", pattern, path], capture_output=True, check=False
        )
        total += int(done.stdout.split(b":")[-1] or 0)
    return total


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A directory holding one good console log (three runs with fallbacks), for cases that
    put a bad input beside a good one."""
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(CONSOLE, folder)
    return folder
