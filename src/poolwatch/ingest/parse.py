"""Lines to DataFrames: read every input, scan chunks in parallel, assemble, deduplicate.

This is ingest's entry point: ``ingest(paths)`` returns the published tables
(``ingest.tables``, ``ingest.publish.Ingest``) as pandas DataFrames plus what was
skipped and why. A large file's chunks are scanned in parallel and the file assembled
on its own; small files are read in batches (``ingest.batch``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from threading import BoundedSemaphore, Thread

import numpy as np
import polars as pl

from poolwatch.errors import shown
from poolwatch.ingest.assemble import assemble, concat_scans, files_frame
from poolwatch.ingest.batch import BATCH_BYTES, BATCH_FILES, SMALL_FILE_BYTES, scan_files
from poolwatch.ingest.cluster import Cluster
from poolwatch.ingest.dedupe import drop_tee_copies
from poolwatch.ingest.discover import Discovery, Source, discover
from poolwatch.ingest.family import HUMAN, RECORDS, Family, detect, detect_many
from poolwatch.ingest.hosts import HostPattern
from poolwatch.ingest.monitor import header_zone, parse_monitor, parse_snapshot
from poolwatch.ingest.own import binary_own_reason, monitor_lock_reason
from poolwatch.ingest.publish import Ingest, RunsWanted, kept_only, publish
from poolwatch.ingest.results import Assembly, FileResult
from poolwatch.ingest.sampled import covered, parse_human, parse_records
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

__all__ = ["Cluster", "Ingest", "Progress", "default_workers", "ingest", "read_files", "reduction"]

Progress = Callable[[int], None]


def default_workers() -> int:
    """Scanning threads: one per core."""
    return max(1, os.cpu_count() or 1)


def ingest(
    paths: Sequence[str],
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    cluster: Cluster | None = None,
    host_from: HostPattern | None = None,
    wanted: RunsWanted | None = None,
) -> Ingest:
    """Read every input the paths name and return the published tables (with
    ``wanted``, only those runs' tasks and events: ``publish``).

    Each file's host is told by its path (``ingest.hosts``; ``host_from``: the
    ``--host-from`` pattern). With a ``cluster``, the files are read by its workers
    (``ingest.cluster``); what follows, the same here either way, is the reduction:
    content duplicates, the monitor's human log and tee copies counted once, then the
    tables published.
    """
    # pandas is needed only to publish: it loads (half a second) while the files are read.
    Thread(target=importlib.import_module, args=("pandas",), daemon=True).start()
    found = discover(paths, host_from)
    if cluster is None:
        results = read_files(found.sources, workers or default_workers(), progress, chunk_bytes)
    else:
        results = cluster.read(found.sources, progress, chunk_bytes)
    return reduction(found, results, wanted)


def reduction(
    found: Discovery, results: list[FileResult], wanted: RunsWanted | None = None
) -> Ingest:
    """What follows reading, on every file's result at once (here, also after a cluster
    read them): content duplicates, the monitor's human log and tee copies counted
    once, then the tables published."""
    extra = [
        FileResult(
            Source(same.path, Path(same.path), host=same.host),
            status="duplicate",
            reason=f"same file as {shown(same.first)}",
        )
        for same in found.same_file
    ]
    skipped = [
        FileResult(Source(s.path, Path(s.path), host=s.host), status="skipped", reason=s.reason)
        for s in found.skipped
    ]
    _mark_content_duplicates(results)
    _mark_human_copies(results)
    hosts = {result.label: result.source.host for result in results}
    copies = drop_tee_copies(kept_only(results), hosts)
    for result in results:
        if result.label in copies and result.family == "run_batt":
            result.drop("duplicate", copies[result.label])
    return publish([*results, *extra, *skipped], wanted)


def read_files(
    sources: Sequence[Source], workers: int, progress: Progress | None, chunk_bytes: int
) -> list[FileResult]:
    """Read files in turn, their chunks scanned by a thread pool; small files in batches
    (each file's result as assembled, before any file is compared with another)."""
    results: list[FileResult] = []
    with _Scanner(workers) as scanner:
        batch = _Batch(scanner)
        for source in sources:
            result = _read_source(source, scanner, progress, chunk_bytes)
            if result.pending is not None:
                batch.add(result)
            elif result.status == "read":
                batch.flush()  # tables keep the files' order
            results.append(result)
        batch.flush()
        scanner.finish()
    return results


class _Batch:
    """Small files waiting to be read together (``batch``), in order."""

    def __init__(self, scanner: _Scanner) -> None:
        self._scanner = scanner
        self._results: list[FileResult] = []
        self._bytes = 0

    def add(self, result: FileResult) -> None:
        """Add a small file; read the batch once it is full."""
        assert result.pending is not None
        self._results.append(result)
        self._bytes += len(result.pending)
        if self._bytes >= BATCH_BYTES or len(self._results) >= BATCH_FILES:
            self.flush()

    def flush(self) -> None:
        """Read the files waiting, in the background."""
        if self._results:
            results, self._results, self._bytes = self._results, [], 0
            self._scanner.queue(lambda: _read_batch(results))


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

    def queue(self, job: Callable[[], None]) -> None:
        """Assemble a file (or a batch) in an assembly thread (blocks while too many wait
        for one)."""
        self._waiting.acquire()

        def assemble() -> None:
            self._waiting.release()
            job()

        self._assembling.append(self._assembly.submit(assemble))

    def finish(self) -> None:
        """Wait for every file's assembly (and so for every scan)."""
        for assembly in self._assembling:
            assembly.result()


def _assemble_scanned(result: FileResult, scans: list[Future[ChunkScan]], cut: bool) -> None:
    """Wait for a file's scans, then assemble it."""
    _assemble(result, [future.result() for future in scans], cut=cut)


def _read_source(
    source: Source, scanner: _Scanner, progress: Progress | None, chunk_bytes: int
) -> FileResult:
    """Read one source: sniff its family, scan its chunks, assemble its tables."""
    result = FileResult(source)
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
    result: FileResult, reader: Reader, scanner: _Scanner, progress: Progress | None
) -> None:
    """Dispatch a file's chunks to the scanner suited to its family (a small file waits
    for its batch)."""
    chunks = _reported(reader.chunks(), progress)
    head = _head(chunks)
    if not head:
        result.status, result.reason = "skipped", reader.facts.nothing_read()
        return
    if sum(map(len, head)) <= SMALL_FILE_BYTES:
        more = next(chunks, None)
        if more is None:
            result.pending = b"".join(head)
            return
        chunks = chain([more], chunks)
    family = _family(sniff(head), reader.source.path)
    if family.name is None:
        result.status, result.reason = "skipped", family.reason
        for _ in chunks:  # read to the end so the fingerprint covers the whole file
            pass
        return
    result.family = family.name
    if family.name in _READ_WHOLE:
        data = b"".join([*head, *chunks])
        # Parsed beside the reading of the next files, not before it.
        scanner.queue(lambda: _read_small(result, data))
        return
    futures = [scanner.submit(chunk) for chunk in chain(head, chunks)]
    scanner.queue(lambda: _assemble_scanned(result, futures, reader.facts.last_line_cut))


def _family(sniffed: bytes, path: Path | None) -> Family:
    """A file's family, from the bytes it is told from."""
    if reason := _not_text(sniffed, path):
        return Family(None, reason)
    return detect(clean(split_lines(sniffed), sniffed), len(sniffed))


def _not_text(sniffed: bytes, path: Path | None) -> str | None:
    """Why a file is no log before its lines are read: binary (perhaps one of
    poolwatch's own outputs, told by its path), or the monitor's lock; None otherwise."""
    if reason := binary_reason(sniffed):
        return binary_own_reason(path) or reason
    return monitor_lock_reason(path)


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


#: The families read whole, each file on its own (they are small).
_READ_WHOLE = ("monitor", "snapshot", RECORDS, HUMAN)


def _read_small(result: FileResult, raw: bytes) -> None:
    """Parse a monitor log, monitor records or a snapshot file whole (they are small)."""
    if result.family in (RECORDS, HUMAN):
        parser = parse_records if result.family == RECORDS else parse_human
        result.records = parser(result.label, raw)
        result.facts["lines"] = result.records.lines
        result.unparsed = result.records.skipped
        return
    lines = clean(split_lines(raw), raw)
    if result.family == "monitor":
        result.monitor = parse_monitor(result.label, lines, header_zone(lines))
    else:
        result.snapshot = parse_snapshot(result.label, lines)
    result.facts["lines"] = len(lines)


def _assemble(result: FileResult, scans: list[ChunkScan], *, cut: bool) -> None:
    """Assemble a run_batt or console file from its chunk scans."""
    lines = sum(s.lines for s in scans)
    rare, task_lines = concat_scans(scans)
    progress = sum(s.progress for s in scans)
    files = files_frame([result.label], [0], [lines], [progress], [cut])
    _assembled([result], files, rare, task_lines)


def _read_batch(results: list[FileResult]) -> None:
    """Read small files together: their families told at once, their run files scanned
    and assembled as one (monitor logs and snapshots each on its own)."""
    contents: list[bytes] = []
    for result in results:
        assert result.pending is not None
        contents.append(result.pending)
        result.pending = None
    sniffs = [sniff([data]) for data in contents]
    families = _families(sniffs, [r.source.path for r in results])
    run_files: list[tuple[FileResult, bytes]] = []
    for result, data, family in zip(results, contents, families, strict=True):
        if family.name is None:
            result.status, result.reason = "skipped", family.reason
        elif family.name in _READ_WHOLE:
            _assemble_batch(run_files)  # tables keep the files' order
            run_files = []
            result.family = family.name
            _read_small(result, data)
        else:
            run_files.append((result, data))
    _assemble_batch(run_files)


def _families(sniffs: list[bytes], paths: list[Path | None]) -> list[Family]:
    """The families of several files, told at once from the bytes each is told from."""
    binary = [_not_text(data, path) for data, path in zip(sniffs, paths, strict=True)]
    texts = [data for data, reason in zip(sniffs, binary, strict=True) if reason is None]
    pieces = [data if data.endswith(b"\n") else data + b"\n" for data in texts]
    joined = b"".join(pieces)
    lines = pl.DataFrame(
        {
            "fid": np.repeat(
                np.arange(len(pieces), dtype=np.uint32), [p.count(b"\n") for p in pieces]
            ),
            "text": clean(split_lines(joined), joined),
        }
    )
    told = iter(detect_many(lines, [len(data) for data in texts]))
    return [Family(None, reason) if reason else next(told) for reason in binary]


def _assemble_batch(run_files: list[tuple[FileResult, bytes]]) -> None:
    """Scan and assemble run_batt and console files together."""
    if not run_files:
        return
    results = [result for result, _ in run_files]
    scan = scan_files([r.label for r in results], [data for _, data in run_files])
    _assembled(results, scan.files, scan.rare, scan.tasks)


def _assembled(
    results: list[FileResult], files: pl.DataFrame, rare: pl.DataFrame, task_lines: pl.DataFrame
) -> None:
    """Classify and assemble files' lines; each result gets the assembly and its facts."""
    found = classify(rare)
    run = assemble(files, found.marks, task_lines)
    names = files.get_column("name")
    unparsed = found.unparsed_examples.select(
        file=pl.col("fid").replace_strict(range(len(names)), names, return_dtype=pl.String),
        line=pl.col("line") - pl.col("fid").replace_strict(range(len(names)), files["first"]),
        text="text",
    )
    part = Assembly(run, unparsed)
    for fid, (result, lines) in enumerate(zip(results, files["lines"], strict=True)):
        result.part = part
        result.family = run.families[result.label]
        result.unparsed = found.unparsed.get(fid, 0)
        result.facts["lines"] = lines


def _mark_content_duplicates(results: list[FileResult]) -> None:
    """Keep the first of inputs with the same decompressed content (even renamed, even
    under another host: a byte-identical file is a copy made while shipping logs, not a
    second host's run, whose dates, tasks and counts would differ)."""
    first: dict[str, str] = {}
    for result in results:
        digest = str(result.facts.get("digest", ""))
        if result.status != "read" or not digest:
            continue
        if digest in first:
            result.drop("duplicate", f"same content as {first[digest]}")
        else:
            first[digest] = result.label


def _mark_human_copies(results: list[FileResult]) -> None:
    """Count the monitor's human log once: its samples are those of its records when
    the records of its host are given too (read from there)."""
    records = [r for r in results if r.status == "read" and r.family == RECORDS]
    for result in results:
        if result.status != "read" or result.family != HUMAN or result.records is None:
            continue
        source = next(
            (
                r
                for r in records
                if r.source.host == result.source.host
                and r.records
                and covered(result.records, r.records)
            ),
            None,
        )
        if source is not None:
            result.drop("duplicate", f"the same samples as {source.label} (read from there)")
