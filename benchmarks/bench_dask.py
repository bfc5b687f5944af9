"""``make bench-dask``: reading on a Dask cluster against reading here, in one run.

Builds (once, under build/bench/) a simulated fleet of many instances (``--size``,
default 300 MB, 16 instances: 33 files), warms the page cache, starts a LocalCluster of
1 and of 2 worker processes (one thread each), then times, taking turns, best of
``--repeats``: the map (every file read: here in threads, or on the workers, results
back on the client) and, separately, the serial part the client does whatever the
number of workers: receiving the results (unpickling them), the reduction (duplicates,
tee copies, publishing) and the diagnosis. It measures the scheduler's cost per task
with empty tasks, and the client's memory per MB of input (the published tables), and
projects a 30-day review of 50 hosts at 200 MB a day (300 GB) on N workers: Amdahl's
law on the measured serial part, and the client's memory. Figures are ratios against
the local run of the same run: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import pandas as pd
from distributed import Client, LocalCluster

from poolwatch import api
from poolwatch.ingest.cluster import UnitResult, read_on, units
from poolwatch.ingest.discover import discover
from poolwatch.ingest.parse import Ingest, default_workers, read_files, reduction
from poolwatch.ingest.results import FileResult
from poolwatch.ingest.sources import CHUNK_BYTES
from poolwatch.ingest.tables import TABLES

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
#: The review projected: 50 hosts, 200 MB a day each, 30 days.
REVIEW_MB = 50 * 200 * 30
PROJECTED_WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
LOCAL = "local (threads)"
T = TypeVar("T")


def corpus(size: int, instances: int) -> Path:
    """The simulated fleet, generated once and reused."""
    out = BUILD / f"dask-{instances}x-{size // 10**6}MB"
    stamp = out.with_suffix(".complete")
    if not stamp.exists():
        print(f"generating {out} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "poolwatch", "simulate", "--scenario", "degraded",
             "--instances", str(instances), "--seed", "1", "--size", str(size),
             "--out", str(out)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        stamp.touch()
    return out


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of a call, and what it gave."""
    start = time.perf_counter()
    out = work()
    return time.perf_counter() - start, out


def _noop(_: int) -> int:
    return 0


def task_overhead(client: Client, tasks: int = 400) -> float:
    """Seconds a task costs the scheduler and client, from empty tasks' round trips."""
    client.gather(client.map(_noop, range(50), pure=False))  # warm
    seconds, _ = timed(lambda: client.gather(client.map(_noop, range(tasks), pure=False)))
    return seconds / tasks


def table_bytes(result: Ingest) -> int:
    """The published tables' memory (deep), what the client holds at the end."""
    return sum(int(result.table(n).memory_usage(deep=True).sum()) for n in TABLES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300 * 10**6, help="corpus bytes")
    parser.add_argument("--instances", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logs = corpus(args.size, args.instances)
    found = discover([str(logs)])
    size = sum(s.path.stat().st_size for s in found.sources if s.path is not None)
    mb = size / 1e6
    for source in found.sources:  # warm the page cache
        assert source.path is not None
        source.path.read_bytes()
    print(f"corpus: {logs} ({len(found.sources)} files, {mb:,.0f} MB)", flush=True)

    start_1, cluster_1 = timed(lambda: _local_cluster(1))
    start_2, cluster_2 = timed(lambda: _local_cluster(2))
    client_1, client_2 = Client(cluster_1), Client(cluster_2)
    maps: dict[str, Callable[[], list[FileResult]]] = {
        LOCAL: lambda: read_files(found.sources, default_workers(), None, CHUNK_BYTES),
        "1 worker": lambda: read_on(client_1, found.sources, None, CHUNK_BYTES),
        "2 workers": lambda: read_on(client_2, found.sources, None, CHUNK_BYTES),
    }
    for work in maps.values():  # warm: imports on the workers
        work()
    best = {name: float("inf") for name in maps}
    serial = {"receive": float("inf"), "reduction": float("inf"), "diagnosis": float("inf")}
    tables: dict[str, Ingest] = {}
    for _ in range(args.repeats):
        for name, work in maps.items():
            seconds, results = timed(work)
            best[name] = min(best[name], seconds)
            if name == LOCAL:
                blob = pickle.dumps(UnitResult(results), protocol=5)
                serial["receive"] = min(serial["receive"], timed(partial(pickle.loads, blob))[0])
            reduce_s, tables[name] = timed(partial(reduction, found, results))
            if name == LOCAL:
                serial["reduction"] = min(serial["reduction"], reduce_s)
                diagnose_s = timed(partial(api.diagnose, tables[name]))[0]
                serial["diagnosis"] = min(serial["diagnosis"], diagnose_s)
    for name in ("1 worker", "2 workers"):
        for table in TABLES:
            pd.testing.assert_frame_equal(tables[LOCAL].table(table),
                                          tables[name].table(table), obj=table)  # fmt: skip
    overhead = task_overhead(client_2)
    result_mb = len(blob) / 1e6
    memory = table_bytes(tables[LOCAL])
    tasks = len(units(found.sources, 2))
    client_1.close()
    client_2.close()
    cluster_1.close()
    cluster_2.close()

    local = best[LOCAL]
    print("\n| map (read every file) | seconds | per file | MB/s | against local |")
    print("|---|---|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} s | {seconds / len(found.sources) * 1000:.0f} ms "
              f"| {mb / seconds:.0f} | {seconds / local:.2f} |")  # fmt: skip
    serial_s = sum(serial.values())
    print("\n| serial part (client) | seconds | per GB of input |")
    print("|---|---|---|")
    for name, seconds in serial.items():
        print(f"| {name} | {seconds:.2f} s | {seconds / mb * 1000:.1f} s |")
    print(f"| total | {serial_s:.2f} s | {serial_s / mb * 1000:.1f} s |")
    print(f"\ncluster start: 1 worker {start_1:.1f} s, 2 workers {start_2:.1f} s; "
          f"scheduler and client per task: {overhead * 1000:.2f} ms ({tasks} units here); "
          f"results sent back: {result_mb:,.0f} MB ({result_mb / mb:.2f} per MB read); "
          f"published tables: {memory / 1e6:,.0f} MB "
          f"({memory / 1e6 / mb:.2f} per MB read)")  # fmt: skip
    project(best["1 worker"] / mb, serial_s / mb, memory / 1e6 / mb)
    return 0


def project(map_per_mb: float, serial_per_mb: float, memory_per_mb: float) -> None:
    """The 300 GB review on N workers: map shared out, serial part not (Amdahl)."""
    total = REVIEW_MB
    limit = (map_per_mb + serial_per_mb) / serial_per_mb
    print(f"\nprojection: {total / 1000:,.0f} GB (50 hosts x 200 MB/day x 30 days), "
          f"one worker {map_per_mb * 1000:.1f} s per GB, serial "
          f"{serial_per_mb * 1000:.1f} s per GB")  # fmt: skip
    print("\n| workers | map | serial | total | speedup over 1 worker |")
    print("|---|---|---|---|---|")
    one = (map_per_mb + serial_per_mb) * total
    for n in PROJECTED_WORKERS:
        mapped, serial = map_per_mb * total / n, serial_per_mb * total
        print(f"| {n} | {_hours(mapped)} | {_hours(serial)} | {_hours(mapped + serial)} "
              f"| {one / (mapped + serial):.1f} |")  # fmt: skip
    half = map_per_mb / serial_per_mb
    print(f"\nAmdahl: at most {limit:.1f}x over one worker; past about {half:.0f} workers "
          f"the serial part is half the time or more. Client memory: about "
          f"{memory_per_mb * total / 1000:,.0f} GB of tables for the whole review (measured "
          f"{memory_per_mb:.2f} MB per MB read): read day by day (poolwatch daily) or "
          "host by host instead.")  # fmt: skip


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _local_cluster(workers: int) -> LocalCluster:
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )


if __name__ == "__main__":
    sys.exit(main())
