"""What ``poolwatch monitor`` costs per sample, with N real run_batt.py processes.

Starts N run_batt.py stand-ins (tests/fleet/run_batt.py, each holding a few threads,
its output through a real ``tee`` into its run log and its console), runs the monitor
in the foreground as a service would (every run log and console as --logs, and a
--textfile), keeps every run writing task and fallback lines between samples, and
reads the monitor's own CPU time (user + system, from /proc) between its first and
its last sample: start-up is left out. Peak RSS is the monitor's VmHWM.

    .venv/bin/python benchmarks/monitor_cost.py --processes 8 64 --samples 30
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

# The tests' fleet (tests/fleet/), found by path: benchmarks are not installed.
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from fleet.harness import Instance
from poolwatch.monitor.records import read_records

POOLWATCH = str(Path(sys.executable).parent / "poolwatch")


def _samples(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(r["record"] == "sample" for r in read_records(log).records)


def _wait(log: Path, count: int, runs: list[Instance], interval: float) -> None:
    """Keep the runs writing until the monitor has taken ``count`` samples."""
    deadline = time.monotonic() + 60 + count * interval * 4
    while _samples(log) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the monitor stopped sampling")
        for instance in runs:
            instance.runs[-1].send_bytes("tasks 2")
            instance.runs[-1].send_bytes("overload 1")
        time.sleep(interval / 4)


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def measure(processes: int, samples: int, interval: float) -> tuple[float, int, int]:
    """CPU seconds per sample, peak RSS in bytes, and the host's processes."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        fleet = [Instance(root, f"B{i:03d}") for i in range(processes)]
        try:
            for instance in fleet:
                instance.start(threads=4)
            log = root / "mon" / "poolwatch-monitor.jsonl"
            log.parent.mkdir()
            monitor = subprocess.Popen(
                [POOLWATCH, "monitor", "-q", "--interval", str(interval), "--log", str(log),
                 "--logs", str(root / "tmp_batt_*_run.log"), "--logs",
                 str(root / "run_card_*.log"), "--textfile", str(root / "poolwatch.prom")],
            )  # fmt: skip
            try:
                _wait(log, 1, fleet, interval)
                proc = psutil.Process(monitor.pid)
                before = proc.cpu_times()
                _wait(log, samples + 1, fleet, interval)
                after = proc.cpu_times()
                peak = _peak_rss(monitor.pid)
            finally:
                monitor.terminate()
                monitor.wait(timeout=60)
            records = [r for r in read_records(log).records if r["record"] == "sample"]
            assert all(r["runs"] == processes for r in records), "a run was not seen"
        finally:
            for instance in fleet:
                instance.close()
    cpu = (after.user + after.system) - (before.user + before.system)
    host = sorted(r["host"]["processes"] for r in records)[len(records) // 2]
    return cpu / samples, peak, host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()
    print(f"run_batt.py  host processes  CPU s/sample  peak RSS  ({args.samples} samples, "
          f"every {args.interval} s)")  # fmt: skip
    for count in args.processes:
        cpu, peak, host = measure(count, args.samples, args.interval)
        print(f"{count:>11}  {host:>14}  {cpu:>12.4f}  {peak / 2**20:>5.1f} MiB")


if __name__ == "__main__":
    main()
