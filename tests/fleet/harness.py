"""A fleet of real run_batt.py stand-ins, each run piped through a real ``tee`` as
run_card.sh pipes it: ``tee`` truncates the instance's ``tmp_batt_<id>_run.log`` at each
run and appends everything to the instance's console log, which also gets the ``date``
and ``Running:`` lines run_card.sh echoes. Every wait has a deadline.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import psutil

RUN_BATT = Path(__file__).with_name("run_batt.py")
#: Seconds any wait of the harness may take before it fails.
DEADLINE = 20.0


def threads_of(pid: int) -> int:
    """``Threads:`` of /proc/<pid>/status: what ``ps -o nlwp`` shows."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError(f"no Threads: line for {pid}")


class Run:
    """One run of an instance: a run_batt.py stand-in whose stdout goes through tee."""

    def __init__(self, instance: Instance, wrapper: Sequence[str]) -> None:
        self.instance = instance
        argv = [*wrapper, sys.executable, str(RUN_BATT), "-t", "10", "-c", "-32",
                "-b", f"{instance.name}_run"]  # fmt: skip
        self.console_start = instance.console.stat().st_size
        self.python = subprocess.Popen(
            argv, cwd=instance.folder, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        assert self.python.stdout is not None
        with instance.console.open("ab") as console:
            self.tee = subprocess.Popen(
                ["tee", instance.run_log.name], cwd=instance.folder, stdin=self.python.stdout,
                stdout=console,
            )  # fmt: skip
        self.python.stdout.close()
        self.written = 0
        self.pid = self._python_pid(bool(wrapper))
        self._sync(self._ack_at_start())

    def _python_pid(self, wrapped: bool) -> int:
        """The interpreter's pid (the wrapper's child when there is a wrapper)."""
        if not wrapped:
            return self.python.pid
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            found = psutil.Process(self.python.pid).children()
            if found:
                return found[0].pid
            time.sleep(0.01)
        raise AssertionError("the wrapped run_batt.py did not start")

    def _ack_at_start(self) -> int:
        """The bytes of the first lines (the banner and the first task's header)."""
        return self.send_bytes("tasks 0")

    def send_bytes(self, command: str) -> int:
        """Send a command; the bytes the run has written once it is carried out."""
        stdin, stderr = self.python.stdin, self.python.stderr
        assert stdin is not None and stderr is not None
        stdin.write(command.encode() + b"\n")
        stdin.flush()
        return int(_line(stderr).split()[1])

    def send(self, command: str) -> None:
        """Send a command and wait until tee has written its output to both files."""
        self._sync(self.send_bytes(command))

    def _sync(self, written: int) -> None:
        self.written = written
        run_log, console = self.instance.run_log, self.instance.console
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            # tee writes to its stdout (the console) before the run log, and truncates the
            # run log when it starts: once both have the bytes, they are this run's.
            if (console.stat().st_size >= self.console_start + written
                    and run_log.exists() and run_log.stat().st_size >= written):  # fmt: skip
                return
            time.sleep(0.005)
        raise AssertionError(f"tee did not write {written} bytes of {self.instance.name}")

    def end(self) -> None:
        """The closing line, then the run's processes gone."""
        self.send("end")
        self.python.wait(timeout=DEADLINE)
        self.tee.wait(timeout=DEADLINE)

    def kill(self) -> None:
        """Kill what is left of the run."""
        for proc in (self.python, self.tee):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=DEADLINE)
        for pipe in (self.python.stdin, self.python.stderr):
            if pipe is not None:
                pipe.close()


def _line(stream: IO[bytes]) -> str:
    """One line of a pipe, within the deadline."""
    ready, _, _ = select.select([stream], [], [], DEADLINE)
    if not ready:
        raise AssertionError("run_batt.py stand-in did not answer")
    line = stream.readline().decode()
    if not line:
        raise AssertionError("run_batt.py stand-in ended")
    return line


class Instance:
    """One run_card.sh copy: its run log, its console, its runs one after the other."""

    def __init__(self, folder: Path, ident: str) -> None:
        self.folder = folder
        self.name = f"tmp_batt_{ident}"
        self.run_log = folder / f"{self.name}_run.log"
        self.console = folder / f"run_card_{ident}.log"
        self.console.touch()
        self.runs: list[Run] = []

    def start(self, *, threads: int = 0, wrapper: Sequence[str] = ()) -> Run:
        """A new run: run_card.sh's date and Running: lines, then run_batt.py | tee."""
        with self.console.open("a") as console:
            console.write(time.strftime("%a %b %e %H:%M:%S %Z %Y\n"))
            console.write(f"Running: python run_batt.py -t 10 -c -32 -b {self.name}_run\n")
        run = Run(self, wrapper)
        self.runs.append(run)
        if threads:
            run.send(f"threads {threads}")
        return run

    def close(self) -> None:
        """Kill every run still going."""
        for run in self.runs:
            run.kill()


def wait_gone(pid: int) -> None:
    """Wait until a process no longer exists."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not end")
