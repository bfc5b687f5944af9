"""Reading files on a Dask cluster: the map over files on its workers, the reduction here.

Each worker reads a *unit* (one large file, or a run of consecutive small files that it
reads as one batch) with the very code of a local run (``parse.read_files``) and gives
back the unit's results as assembled: Arrow-backed polars frames and each file's facts,
before any file is compared with another. The client then does what a local run does
after reading (content duplicates, tee copies, publishing), so the tables are the same.
A worker that dies has its units read again elsewhere (Dask reschedules them); each
unit's result is taken once, so nothing is lost or counted twice.

Standard input and FIFOs are read here, on the client: no worker can reach them. Dask
is imported only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poolwatch.errors import PoolwatchError, UsageError, shown
from poolwatch.ingest.batch import BATCH_BYTES, BATCH_FILES, SMALL_FILE_BYTES
from poolwatch.ingest.discover import Source

if TYPE_CHECKING:
    from distributed import Client

    from poolwatch.ingest.results import FileResult

#: The scheduler's address, when the command line gives none.
SCHEDULER_ENV = "POOLWATCH_SCHEDULER"
#: Seconds to wait for a scheduler to answer.
CONNECT_SECONDS = 10
#: Units of small files per worker, at least, so that none waits on another's batch.
UNITS_PER_WORKER = 4


class ClusterError(PoolwatchError):
    """The cluster cannot be used as asked (no scheduler answering, Dask not installed,
    a file that kills every worker reading it); the message says which and why."""


@dataclass(frozen=True)
class Unit:
    """Sources read together by one worker (or here, on the client)."""

    sources: tuple[Source, ...]
    size: int
    """Their bytes on disk or in the store, as listed (for progress and priority)."""
    here: bool = False
    """Read on the client: standard input or a FIFO."""


@dataclass(frozen=True)
class UnitResult:
    """What a worker gives back for a unit: its files' results, pickled as one object so
    that the files of one batch still share their assembly (a list would be sent item
    by item, each with a copy of it)."""

    results: list[FileResult]


@dataclass(frozen=True)
class Cluster:
    """Where files are read: the Dask scheduler at ``scheduler`` (``tcp://host:8786``),
    or an embedded ``LocalCluster`` of ``workers`` worker processes on this machine."""

    scheduler: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if (self.scheduler is None) == (self.workers is None):
            raise UsageError("give --scheduler or --workers, not both")
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"--workers {self.workers}: give 1 or more worker processes")
        if self.scheduler is not None and "://" not in self.scheduler:
            raise UsageError(
                f"--scheduler {shown(self.scheduler)}: give the scheduler's address as "
                "tcp://HOST:PORT"
            )

    @classmethod
    def of(cls, scheduler: str | None = None, workers: int | None = None) -> Cluster | None:
        """The cluster the options (or ``POOLWATCH_SCHEDULER``) ask for; None: read here."""
        if scheduler is None and workers is None:
            scheduler = os.environ.get(SCHEDULER_ENV) or None
        if scheduler is None and workers is None:
            return None
        return cls(scheduler, workers)

    def read(
        self, sources: Sequence[Source], progress: Callable[[int], None] | None, chunk_bytes: int
    ) -> list[FileResult]:
        """Every source's result, in order, read by the cluster's workers."""
        with self._client() as client:
            return read_on(client, sources, progress, chunk_bytes)

    @contextmanager
    def _client(self) -> Iterator[Client]:
        """A client of the scheduler, or of a LocalCluster started (and stopped) here."""
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:
            option = "--scheduler" if self.scheduler else "--workers"
            raise ClusterError(
                f"{option} needs Dask's distributed scheduler (pip install 'poolwatch[dask]')"
            ) from err
        if self.workers is not None:
            local = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
            with local, Client(local) as client:
                yield client
            return
        assert self.scheduler is not None
        try:
            client = Client(self.scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as err:
            raise ClusterError(
                f"--scheduler {shown(self.scheduler)}: no scheduler answers there ({err})"
            ) from err
        with client:
            yield client


def read_on(
    client: Client,
    sources: Sequence[Source],
    progress: Callable[[int], None] | None,
    chunk_bytes: int,
) -> list[FileResult]:
    """Read the sources' units on the client's workers (stdin and FIFOs here), the
    largest first; the results in the sources' order."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    from poolwatch.ingest.parse import default_workers, read_files

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    plan = units(sources, workers)
    futures = {
        client.submit(read_unit, unit.sources, chunk_bytes, pure=False, priority=unit.size): at
        for at, unit in enumerate(plan)
        if not unit.here
    }
    done: dict[int, list[FileResult]] = {}
    for at, unit in enumerate(plan):
        if unit.here:
            done[at] = read_files(unit.sources, default_workers(), None, chunk_bytes)
            _advance(progress, unit)
    try:
        for future in as_completed(futures):
            at = futures[future]
            done[at] = future.result().results
            _advance(progress, plan[at])
    except KilledWorker as err:
        raise ClusterError(f"workers died reading {_named(err, futures, plan)}") from err
    return [result for at in range(len(plan)) for result in done[at]]


def _advance(progress: Callable[[int], None] | None, unit: Unit) -> None:
    if progress is not None:
        progress(unit.size)


def _named(err: Exception, futures: dict[Any, int], plan: list[Unit]) -> str:
    """The unit whose reading killed its workers, by its first file."""
    key = err.args[0] if err.args else None
    for future, at in futures.items():
        if future.key == key:
            first = plan[at].sources[0].label
            more = len(plan[at].sources) - 1
            return first + (f" (or one of the {more} files read with it)" if more else "")
    return "a file"


def read_unit(sources: Sequence[Source], chunk_bytes: int) -> UnitResult:
    """On a worker: read a unit's files as a local run reads them, with the worker's
    threads."""
    from poolwatch.ingest.parse import read_files

    try:
        from distributed import get_worker

        threads = get_worker().state.nthreads
    except (ImportError, ValueError):
        threads = os.cpu_count() or 1
    return UnitResult(read_files(sources, max(1, threads), None, chunk_bytes))


def units(sources: Sequence[Source], workers: int) -> list[Unit]:
    """The sources as units, in order: each large file alone, consecutive small files
    together (up to a batch's bytes, and few enough per unit that every worker gets
    several), standard input and FIFOs on their own, read here."""
    sized = [(source, _size(source)) for source in sources]
    small = sum(1 for _, size in sized if _small(size))
    per_unit = max(1, min(BATCH_FILES, math.ceil(small / (UNITS_PER_WORKER * workers))))
    out: list[Unit] = []
    batch: list[Source] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            out.append(Unit(tuple(batch), batch_bytes))
            batch, batch_bytes = [], 0

    for source, size in sized:
        if not _small(size):
            flush()
            here = source.is_stdin or source.stream
            out.append(Unit((source,), size or 0, here=here))
            continue
        assert size is not None
        if batch and (len(batch) >= per_unit or batch_bytes + size > BATCH_BYTES):
            flush()
        batch.append(source)
        batch_bytes += size
    flush()
    return out


def _small(size: int | None) -> bool:
    return size is not None and size <= SMALL_FILE_BYTES


def _size(source: Source) -> int | None:
    """A source's size as listed or on disk (None: a stream, or unknown)."""
    if source.size is not None:
        return source.size
    if source.path is None or source.stream:
        return None
    try:
        return source.path.stat().st_size
    except OSError:
        return 0
