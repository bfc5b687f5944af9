"""Lines to DataFrames: read every input, scan chunks in parallel, assemble, deduplicate.

This is ingest's entry point: ``ingest(paths)`` returns the published tables
(``ingest.tables``) as pandas DataFrames plus what was skipped and why.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from threading import BoundedSemaphore, Thread
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from poolwatch.errors import shown
from poolwatch.ingest import tables
from poolwatch.ingest.assemble import RunFile, assemble, concat_scans, task_events
from poolwatch.ingest.dedupe import drop_tee_copies
from poolwatch.ingest.discover import Source, discover
from poolwatch.ingest.family import Family, detect
from poolwatch.ingest.monitor import header_zone, monitor_events, parse_monitor, parse_snapshot
from poolwatch.ingest.scan import ChunkScan, classify, clean, scan_chunk, split_lines
from poolwatch.ingest.sources import (
    CHUNK_BYTES,
    Chunk,
    InputError,
    Reader,
    binary_reason,
    sniff,
    sniffed_enough,
)

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Ingest:
    """Everything ingest read, as the published pandas tables."""

    events: pd.DataFrame
    tasks: pd.DataFrame
    runs: pd.DataFrame
    monitor: pd.DataFrame
    files: pd.DataFrame
    unparsed: pd.DataFrame
    locations: Mapping[str, Path | None] = field(default_factory=dict)
    """Where each read file can be read again, by its name in the tables (None: a pipe
    or standard input). Names are shown escaped; the file opens by its own bytes."""

    def table(self, name: str) -> pd.DataFrame:
        """A table by its published name."""
        frame: pd.DataFrame = getattr(self, name)
        return frame


@dataclass
class _FileResult:
    """One input as it comes out of reading: its facts and its parsed frames."""

    source: Source
    family: str = "none"
    status: str = "read"
    reason: str | None = None
    facts: dict[str, object] = field(default_factory=dict)
    run: RunFile | None = None
    monitor: pl.DataFrame | None = None
    snapshot: pl.DataFrame | None = None
    unparsed: int = 0
    examples: pl.DataFrame | None = None

    @property
    def label(self) -> str:
        """How tables name the file."""
        return self.source.label


def default_workers() -> int:
    """Scanning threads: one per core."""
    return max(1, os.cpu_count() or 1)


def ingest(
    paths: Sequence[str],
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Ingest:
    """Read every input the paths name and return the published tables."""
    # pandas is needed only to publish: it loads (half a second) while the files are read.
    Thread(target=importlib.import_module, args=("pandas",), daemon=True).start()
    found = discover(paths)
    results = _read_in_threads(found.sources, workers or default_workers(), progress, chunk_bytes)
    extra = [
        _FileResult(
            Source(path, Path(path)), status="duplicate", reason=f"same file as {shown(first)}"
        )
        for path, first in found.same_file
    ]
    skipped = [
        _FileResult(Source(s.path, Path(s.path)), status="skipped", reason=s.reason)
        for s in found.skipped
    ]
    _mark_content_duplicates(results)
    drop_tee_copies([r for r in results if r.status == "read" and r.run is not None])
    return _publish([*results, *extra, *skipped])


def _read_in_threads(
    sources: Sequence[Source], workers: int, progress: Progress | None, chunk_bytes: int
) -> list[_FileResult]:
    """Read files in turn, their chunks scanned by a thread pool."""
    with _Scanner(workers) as scanner:
        results = [_read_source(s, scanner, progress, chunk_bytes) for s in sources]
        scanner.finish()
    return results


#: Files whose chunks are read but whose assembly has not started, at most.
_WAITING_FILES = 2


class _Scanner:
    """Scans chunks in a thread pool, and assembles each file once its chunks are in.

    The scanning loop and polars release the GIL while they work, so threads share the
    cores without the start-up, copying and memory of processes (measured: reading one
    file per worker process was 10 % faster on 1 GB, slower on 100 MB, and used 40 %
    more memory).
    Chunks in flight are bounded so memory does not grow with input size; files are
    assembled in two threads of their own, beside the scanning, so that the last files
    to come in are assembled side by side once the scanning is over. Scanning is faster
    than assembling, so files waiting for an assembly thread are bounded too: reading
    pauses rather than keep every file's scanned lines (measured: 100 MB more at peak).
    """

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan")
        self._assembly = ThreadPoolExecutor(max_workers=2, thread_name_prefix="assemble")
        self._slots = BoundedSemaphore(workers + 1)
        self._waiting = BoundedSemaphore(_WAITING_FILES)
        self._assembling: list[Future[None]] = []

    def __enter__(self) -> _Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._assembly.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, raw: Chunk) -> Future[ChunkScan]:
        """Scan a chunk in the background (blocks while too many are in flight)."""
        self._slots.acquire()
        future = self._pool.submit(scan_chunk, raw)
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def queue(self, result: _FileResult, scans: list[Future[ChunkScan]], *, cut: bool) -> None:
        """Assemble a file as soon as its scans are done (blocks while too many files wait
        for an assembly thread)."""
        self._waiting.acquire()

        def assemble() -> None:
            self._waiting.release()
            _assemble_scanned(result, scans, cut)

        self._assembling.append(self._assembly.submit(assemble))

    def finish(self) -> None:
        """Wait for every file's assembly (and so for every scan)."""
        for assembly in self._assembling:
            assembly.result()


def _assemble_scanned(result: _FileResult, scans: list[Future[ChunkScan]], cut: bool) -> None:
    """Wait for a file's scans, then assemble it."""
    _assemble(result, [future.result() for future in scans], cut=cut)


def _read_source(
    source: Source, scanner: _Scanner, progress: Progress | None, chunk_bytes: int
) -> _FileResult:
    """Read one source: sniff its family, scan its chunks, assemble its tables."""
    result = _FileResult(source)
    try:
        with Reader(source, chunk_bytes) as reader:
            _read_chunks(result, reader, scanner, progress)
            result.facts.update(vars(reader.facts))
        if result.status == "read":
            result.reason = "; ".join(reader.facts.notes()) or None
    except InputError as err:
        result.status, result.reason = "skipped", str(err)
    return result


def _read_chunks(
    result: _FileResult, reader: Reader, scanner: _Scanner, progress: Progress | None
) -> None:
    """Dispatch a file's chunks to the scanner suited to its family."""
    chunks = _reported(reader.chunks(), progress)
    head = _head(chunks)
    if not head:
        result.status, result.reason = "skipped", reader.facts.nothing_read()
        return
    sniffed = sniff(head)
    reason = binary_reason(sniffed)
    family = (
        Family(None, reason)
        if reason
        else detect(clean(split_lines(sniffed), sniffed), len(sniffed))
    )
    if family.name is None:
        result.status, result.reason = "skipped", family.reason
        for _ in chunks:  # read to the end so the fingerprint covers the whole file
            pass
        return
    result.family = family.name
    if family.name in ("monitor", "snapshot"):
        _read_small(result, [*head, *chunks])
        return
    futures = [scanner.submit(chunk) for chunk in chain(head, chunks)]
    scanner.queue(result, futures, cut=reader.facts.last_line_cut)


def _reported(chunks: Iterator[Chunk], progress: Progress | None) -> Iterator[Chunk]:
    """Pass chunks through, telling the progress bar how many bytes went by."""
    for chunk in chunks:
        if progress is not None:
            progress(len(chunk))
        yield chunk


def _head(chunks: Iterator[Chunk]) -> list[Chunk]:
    """A file's first chunks: enough to hold the bytes its family is told from."""
    head: list[Chunk] = []
    for chunk in chunks:
        head.append(chunk)
        if sniffed_enough(head):
            break
    return head


def _read_small(result: _FileResult, chunks: list[Chunk]) -> None:
    """Parse a monitor log or a snapshot file whole (they are small)."""
    raw = b"".join(chunks)
    lines = clean(split_lines(raw), raw)
    if result.family == "monitor":
        result.monitor = parse_monitor(result.source.label, lines, header_zone(lines))
    else:
        result.snapshot = parse_snapshot(result.source.label, lines)
    result.facts["lines"] = len(lines)


def _assemble(result: _FileResult, scans: list[ChunkScan], *, cut: bool) -> None:
    """Assemble a run_batt or console file from its chunk scans."""
    lines = sum(s.lines for s in scans)
    rare, task_lines = concat_scans(scans)
    found = classify(rare)
    result.run = assemble(
        result.source.label,
        found.marks,
        task_lines,
        lines=lines,
        progress=sum(s.progress for s in scans),
        cut=cut,
    )
    result.family = result.run.family
    result.unparsed = found.unparsed
    result.examples = found.unparsed_examples
    result.facts["lines"] = lines


def _mark_content_duplicates(results: list[_FileResult]) -> None:
    """Keep the first of inputs with the same decompressed content (even renamed)."""
    first: dict[str, str] = {}
    for result in results:
        digest = str(result.facts.get("digest", ""))
        if result.status != "read" or not digest:
            continue
        if digest in first:
            result.status, result.reason = "duplicate", f"same content as {first[digest]}"
            result.run = result.monitor = result.snapshot = None
        else:
            first[digest] = result.label


def _publish(results: list[_FileResult]) -> Ingest:
    """Concatenate every kept file's frames, in input order, into the published tables.

    The files' frames are let go of as their tables are built (``tables.to_pandas``).
    """
    kept = [r for r in results if r.status == "read"]
    files = _files(results)
    frames: dict[str, list[tables.Part]] = {name: [] for name in tables.TABLES}
    for result in kept:
        for name, frame in _frames_of(result).items():
            frames[name].append(frame)
        result.run = result.monitor = result.snapshot = result.examples = None
    # The largest table last, once the others' polars frames are gone.
    order = ("tasks", "runs", "monitor", "unparsed", "events")
    published = {name: tables.to_pandas(frames[name], tables.TABLES[name]) for name in order}
    locations = {r.label: r.source.rereadable for r in kept}
    return Ingest(files=files, **published, locations=locations)


def _frames_of(result: _FileResult) -> dict[str, tables.Part]:
    """One kept file's frames, by the table they go to."""
    out: dict[str, tables.Part] = {}
    if result.run is not None:
        run = result.run
        rare = tables.conform(run.events, tables.EVENTS)
        events = (
            _RunEvents(rare, task_events(run.tasks), result.source.label)
            if run.tasks.height
            else rare
        )
        out |= {"events": events, "tasks": run.tasks, "runs": run.runs}
    if result.monitor is not None:
        out |= {"events": monitor_events(result.monitor), "monitor": result.monitor}
    if result.snapshot is not None:
        out["events"] = result.snapshot
    if result.examples is not None and result.examples.height:
        out["unparsed"] = result.examples.with_columns(file=pl.lit(result.source.label))
    return out


class _RunEvents:
    """A run file's events in line order, made a column at a time: its rare events and
    the task start and done events of its tasks table.

    Task events have no message, text, timestamp or sample: making the whole table
    at once would hold those empty columns for millions of rows. A column only rare
    events fill is placed by one Arrow ``take``, null wherever a task event is; the
    ``file`` column, the same on every row, is one dictionary entry.
    """

    def __init__(self, rare: pl.DataFrame, tasks: pl.DataFrame, file: str) -> None:
        self._rare = rare
        self._tasks = tasks
        self._file = file
        lines = pl.concat([rare.get_column("line"), tasks.get_column("line")])
        self._order = (
            lines.to_frame().with_row_index().sort("line", maintain_order=True).get_column("index")
        )
        order = self._order.to_numpy()
        self._rows = pa.array(order)
        self._rare_rows = pa.array(order, mask=order >= rare.height)

    @property
    def height(self) -> int:
        """Rows: every rare event and every task event."""
        return len(self._order)

    def arrow(self, name: str) -> pa.Array:
        """One column, in line order."""
        if name == "file":
            codes = pa.array(np.zeros(self.height, np.uint32))
            return pa.DictionaryArray.from_arrays(codes, pa.array([self._file], pa.large_string()))
        rare = self._rare.get_column(name)
        if name not in self._tasks.columns:
            return rare.to_arrow().take(self._rare_rows)
        other = self._tasks.get_column(name).cast(rare.dtype)
        if isinstance(rare.dtype, pl.Categorical | pl.Enum):
            # In polars: its categories stay in the order the lines give them.
            return pl.concat([rare, other]).gather(self._order).to_arrow()
        # Numbers put in line order by Arrow: about three times faster (measured).
        return pa.concat_arrays([rare.to_arrow(), other.to_arrow()]).take(self._rows)

    def drop(self, name: str) -> _RunEvents:
        """Let go of a column once it is converted."""
        self._rare = self._rare.drop(name)
        if name in self._tasks.columns:
            self._tasks = self._tasks.drop(name)
        return self


def _damaged(facts: dict[str, object]) -> bool | None:
    """Whether a compressed stream was cut short or corrupt (None: not read)."""
    if "truncated_stream" not in facts:
        return None
    return bool(facts["truncated_stream"] or facts["damage"])


def _files(results: list[_FileResult]) -> pd.DataFrame:
    """The inventory of inputs: what each was, and whether it was read, skipped or a duplicate."""
    rows = [
        {
            "path": r.source.label,
            "family": r.family,
            "status": r.status,
            "reason": r.reason,
            "bytes": r.facts.get("bytes_read"),
            "lines": r.facts.get("lines"),
            "unparsed": r.unparsed if r.status == "read" else None,
            "compressed": r.facts.get("compressed"),
            "digest": r.facts.get("digest") or None,
            "mtime": r.facts.get("mtime"),
            "last_line_cut": r.facts.get("last_line_cut"),
            "grew": r.facts.get("grew"),
            "shrank": r.facts.get("shrank"),
            "damaged": _damaged(r.facts),
        }
        for r in results
    ]
    frame = pl.DataFrame(rows, schema_overrides={"mtime": pl.Float64}, infer_schema_length=None)
    if frame.height:
        frame = frame.with_columns(
            mtime=(pl.col("mtime") * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC"))
        )
    return tables.to_pandas([frame], tables.FILES)
