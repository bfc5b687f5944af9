"""``poolwatch monitor``'s records (its ``--log``, JSON Lines) as the samples tables.

Each ``sample`` record becomes a row of ``host_samples`` and a row of ``samples`` per
run_batt.py process it saw (docs/monitor.md has every field). Lines are decoded
together, with the fields these tables need; a line that is not a whole record (the
last line of a file still being written or of a monitor killed mid-write, a line cut
short by a full disk, anything else) is left out and counted, never read in part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from poolwatch.ingest import grammar

_COUNT = pl.Int64()
_PROCESS = pl.Struct(
    {"pid": _COUNT, "ppid": _COUNT, "instance": pl.String(), "worker": pl.Boolean(),
     "threads": _COUNT, "rss": _COUNT, "age": pl.Float64()}
)  # fmt: skip
_HOST = pl.Struct(
    {"threads": _COUNT, "processes": _COUNT, "memory_available": _COUNT,
     "memory_total": _COUNT, "load": pl.List(pl.Float64()), "cpus": _COUNT}
)  # fmt: skip
_FALLBACKS = pl.Struct(
    {"overload": _COUNT, "processpool_failed": _COUNT, "threadpool_failed": _COUNT}
)
#: The fields read, by name and type (other fields, and those of later versions, are not).
RECORD = pl.Struct(
    {"schema": _COUNT, "record": pl.String(), "time": pl.String(), "zone": pl.String(),
     "hostname": pl.String(), "sample": _COUNT, "window": pl.Float64(), "runs": _COUNT,
     "skipped_processes": _COUNT, "host": _HOST, "processes": pl.List(_PROCESS),
     "fallbacks": _FALLBACKS, "alerts": _COUNT}
)  # fmt: skip
#: How the records' times are written: ISO 8601 with milliseconds and the UTC offset.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"


@dataclass(frozen=True)
class Records:
    """A records file's two tables, and the lines that were not whole records."""

    samples: pl.DataFrame
    host: pl.DataFrame
    lines: int
    skipped: int
    """Non-blank lines that are not a whole record (a line cut short included)."""
    last_line_cut: bool


#: The records are decoded a block of lines at a time, of about this many bytes: the
#: memory a file needs follows its samples, not its text held several times over.
BLOCK_BYTES = 4 << 20


def parse_records(name: str, raw: bytes, block_bytes: int = BLOCK_BYTES) -> Records:
    """The sample records of a monitor's records file (``raw``, named ``name``): each
    block of lines decoded and made into its rows of both tables on its own, so that
    only one block's decoded records are held at a time."""
    end = raw.rfind(b"\n") + 1
    tail = raw[end:].decode("utf-8", "replace")
    parts = [_tables(name, text, first) for first, text in _blocks(raw[:end], block_bytes)]
    if not parts:
        parts = [_tables(name, [], 1)]
    samples, host, lines, blank, found = zip(*parts, strict=True)
    return Records(
        samples=pl.concat(samples, how="vertical"),
        host=pl.concat(host, how="vertical"),
        lines=sum(lines) + bool(tail),
        skipped=sum(lines) - sum(blank) - sum(found) + bool(tail.strip()),
        last_line_cut=bool(tail),
    )


def _tables(
    name: str, text: list[str], first: int
) -> tuple[pl.DataFrame, pl.DataFrame, int, int, int]:
    """A block's rows of ``samples`` and ``host_samples``, its lines, its blank lines and
    its records."""
    records, lines, blank = _block(text, first)
    samples = records.filter(pl.col("record") == "sample").with_columns(
        timestamp=pl.col("time").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False),
        file=pl.lit(name),
    )
    return _processes(samples), _host(samples), lines, blank, records.height


def _blocks(body: bytes, size: int) -> Iterator[tuple[int, list[str]]]:
    """``body`` (whole lines, each ending in a newline) as blocks of whole lines of about
    ``size`` bytes, each with the number of its first line, decoded one at a time."""
    start, first = 0, 1
    while start < len(body):
        cut = body.find(b"\n", min(start + size, len(body)) - 1) + 1 or len(body)
        text = body[start:cut].decode("utf-8", "replace").split("\n")
        text.pop()  # after the block's last newline: nothing
        yield first, text
        first += len(text)
        start = cut


def _block(text: list[str], first: int) -> tuple[pl.DataFrame, int, int]:
    """A block's records (the line each comes from, and its fields), its lines and its
    blank lines."""
    lines = pl.DataFrame({"text": text}, schema={"text": pl.String()}).with_row_index(
        "line", offset=first
    )
    candidates = lines.filter(pl.col("text").str.contains(grammar.MONITOR_RECORDS))
    decoded = _decoded(candidates.get_column("text"))
    records = (
        candidates.select("line")
        .hstack(decoded.struct.unnest())
        .filter(pl.col("record").is_not_null())
    )
    blank = int((lines.get_column("text").str.strip_chars() == "").sum())
    return records, len(text), blank


def _whole_lines(raw: bytes) -> tuple[list[str], str]:
    """The file's whole lines, and what follows the last (a line still being written, or
    cut short: never read). Lines are read whole, however long."""
    text = raw.decode("utf-8", "replace").split("\n")
    return text, text.pop()


def _decoded(text: pl.Series) -> pl.Series:
    """Each line as a record; null where a line is not one (decoded one at a time only
    when the lines together are not all records)."""
    try:
        return text.str.json_decode(RECORD)
    except pl.exceptions.PolarsError:
        return pl.Series([_one(line) for line in text], dtype=RECORD)


def _one(line: str) -> dict[str, object] | None:
    """One line as a record, or None."""
    try:
        decoded = pl.Series([line]).str.json_decode(RECORD)[0]
    except pl.exceptions.PolarsError:
        return None
    return decoded if isinstance(decoded, dict) else None


_KEYS = ("file", "line", "sample", "timestamp", "zone", "hostname")


def _processes(samples: pl.DataFrame) -> pl.DataFrame:
    """One row per process per sample."""
    rows = samples.select(*_KEYS, "processes").explode("processes")
    rows = rows.filter(pl.col("processes").is_not_null())
    return rows.select(*_KEYS, pl.col("processes").struct.unnest())


def _host(samples: pl.DataFrame) -> pl.DataFrame:
    """One row per sample: the host and the fleet as a whole."""
    host, load = pl.col("host"), pl.col("host").struct.field("load")
    return samples.select(
        *_KEYS,
        "window",
        "runs",
        processes=pl.col("processes").list.len(),
        skipped_processes="skipped_processes",
        host_threads=host.struct.field("threads"),
        host_processes=host.struct.field("processes"),
        memory_available=host.struct.field("memory_available"),
        memory_total=host.struct.field("memory_total"),
        load_1m=load.list.get(0, null_on_oob=True),
        load_5m=load.list.get(1, null_on_oob=True),
        load_15m=load.list.get(2, null_on_oob=True),
        cpus=host.struct.field("cpus"),
        overload=pl.col("fallbacks").struct.field("overload"),
        processpool_failed=pl.col("fallbacks").struct.field("processpool_failed"),
        threadpool_failed=pl.col("fallbacks").struct.field("threadpool_failed"),
        alerts="alerts",
    )


def parse_human(name: str, raw: bytes) -> Records:
    """The samples of the same monitor's human log (``poolwatch-monitor.log``), for when
    its records are not given: each instance's thread count (its PIDs are not in the
    line), the host's threads, the runs and the window's fallbacks."""
    lines, tail = _whole_lines(raw)
    fields = (
        pl.DataFrame({"text": lines}, schema={"text": pl.String()})
        .with_row_index("line", offset=1)
        .with_columns(pl.col("text").str.extract_groups(grammar.MONITOR_HUMAN_FIELDS).alias("f"))
        .unnest("f")
        .filter(pl.col("time").is_not_null())
    )
    offset = pl.col("offset")
    shift = offset.str.slice(0, 1).replace({"+": 1, "-": -1}).cast(pl.Int64) * (
        offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(3, 2).cast(pl.Int64)
    )
    samples = fields.with_columns(
        timestamp=(
            pl.col("time").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
            - pl.duration(minutes=shift)
        ).dt.replace_time_zone("UTC"),
        file=pl.lit(name),
        sample=pl.lit(None, pl.Int64),
        hostname=pl.lit(None, pl.String),
    )
    host = samples.select(
        *_KEYS,
        *(pl.col(c).cast(pl.Int64, strict=False) for c in
          ("runs", "overload", "processpool_failed", "threadpool_failed")),
        host_threads=pl.col("system").cast(pl.Int64, strict=False) - 1,
    )  # fmt: skip
    instances = (
        samples.select(*_KEYS, one=pl.col("instances").str.split("; "))
        .explode("one")
        .with_columns(pl.col("one").str.extract_groups(grammar.MONITOR_HUMAN_INSTANCE).alias("i"))
        .unnest("i")
        .filter(pl.col("threads").str.contains(r"^\d+$"))
        .select(
            *_KEYS,
            "instance",
            threads=pl.col("threads").cast(pl.Int64, strict=False),
            worker=pl.lit(False),
        )
    )
    return Records(instances, host, len(lines) + bool(tail), 0, last_line_cut=bool(tail))


def covered(human: Records, records: Records) -> bool:
    """Whether most samples of a human log are samples of these records (the same monitor
    writes both, to the second)."""
    seconds = records.host.get_column("timestamp").dt.truncate("1s")
    times = human.host.get_column("timestamp")
    return times.len() > 0 and int(times.is_in(seconds.implode()).sum()) * 2 > times.len()
