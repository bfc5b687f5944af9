"""The monitor log and pasted thread snapshots.

``monitor_week6b.sh`` splits a record over several physical lines whenever a count
is zero (``grep -c`` prints ``0`` and ``|| echo "0"`` prints another): records are
reassembled from their first line and the ``0 ...`` continuation lines after it.
Its record times carry no zone; the zone of its ``date`` header is used when known.

Thread snapshots are read as operators paste them, prompts, ``date`` lines and
``ps`` headers included: each count gets the time of the ``date`` line above it and
the instance (or PID) that the file name or the prompt before it names.
"""

from __future__ import annotations

import re
from datetime import timedelta

import polars as pl

from poolwatch.ingest import grammar, numbers
from poolwatch.ingest.timestamps import date_offset, parse_date_lines

_COUNTS = ("python_threads", "system_threads", "process_fails", "thread_fails", "overload")


def parse_monitor(name: str, lines: pl.Series, zone: timedelta | None) -> pl.DataFrame:
    """One row per monitor record (samples and alerts), physical lines reassembled."""
    frame = pl.DataFrame({"text": lines}).with_row_index("line", offset=1)
    text = pl.col("text")
    frame = frame.with_columns(
        starts=text.str.contains(grammar.MONITOR_RECORD),
        alert=text.str.contains(grammar.MONITOR_ALERT),
        cont=text.str.contains(grammar.MONITOR_CONTINUATION),
    )
    # A continuation belongs to the record above it only if nothing else came between.
    opener = pl.when(pl.col("starts")).then(True).when(~pl.col("cont")).then(False)
    frame = frame.with_columns(
        attached=pl.col("cont") & opener.forward_fill().fill_null(False),
        record=pl.col("starts").cum_sum(),
    )
    samples = (
        frame.filter(pl.col("starts") | pl.col("attached"))
        .group_by("record", maintain_order=True)
        .agg(line=pl.col("line").first(), lines=pl.len(), text=text.str.join(" / "))
        .with_columns(record=pl.lit("sample"))
    )
    fields = samples["text"].str.replace_all(" / ", " ").str.extract_groups(grammar.MONITOR_FIELDS)
    samples = samples.hstack(fields.struct.unnest())
    alerts = _alerts(frame.filter(pl.col("alert")))
    records = pl.concat([samples, alerts], how="diagonal").sort("line")
    records = records.with_columns(
        [numbers.int32(pl.col(c)) for c in _COUNTS],
        timestamp=_stamps(records["timestamp"], zone),
        file=pl.lit(name),
    )
    return records.with_columns(pl.col("timestamp").forward_fill())


def _alerts(rows: pl.DataFrame) -> pl.DataFrame:
    """Alert lines, in emoji, mojibake or plain form: the words decide."""
    fields = rows["text"].str.extract_groups(grammar.MONITOR_ALERT_FIELDS).struct.unnest()
    return pl.DataFrame(
        {
            "line": rows["line"],
            "lines": pl.repeat(1, len(rows), dtype=pl.UInt32, eager=True),
            "text": rows["text"],
            "record": pl.repeat("alert", len(rows), eager=True),
            "alert": fields["alert"],
            "alert_count": fields["count"].cast(pl.Int32, strict=False),  # null: out of range
        }
    )


def _stamps(texts: pl.Series, zone: timedelta | None) -> pl.Series:
    """Record times as UTC, shifted by the header's zone offset when there is one."""
    stamps = texts.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    if zone is not None:
        stamps = stamps - zone
    return stamps.dt.replace_time_zone("UTC")


def header_zone(lines: pl.Series) -> timedelta | None:
    """The UTC offset of the monitor's ``date`` header line, if it has one."""
    dates = lines.filter(lines.str.contains(grammar.DATE_LINE)).head(1)
    return None if dates.is_empty() else date_offset(dates[0])


def monitor_events(records: pl.DataFrame) -> pl.DataFrame:
    """The monitor's records as events (monitor_sample, monitor_alert)."""
    return records.select(
        "file",
        "line",
        "timestamp",
        "text",
        kind=pl.when(pl.col("record") == "alert")
        .then(pl.lit("monitor_alert"))
        .otherwise(pl.lit("monitor_sample")),
        count=pl.coalesce("alert_count", "system_threads"),
        message=pl.col("alert"),
    )


#: Where a snapshot's count comes from (``message``; a per-process count adds its PID).
ACTIVE_COUNT = "threading.active_count()"
NLWP = "ps -o nlwp"
HOST_COUNT = "ps -eLf | wc -l"


def snapshot_lines(lines: pl.Series) -> pl.DataFrame:
    """Each line of pasted thread snapshots: what it is (``explained``: a prompt, a
    ``date``, a ``ps`` header or a count) and, for a count, its ``source``.

    A count is a per-process one under an ``NLWP`` or ``PID NLWP`` header (until a line
    that is not a row), an ``Active threads:`` line, or else a bare ``ps -eLf | wc -l``.
    """
    text = pl.col("text")
    frame = pl.DataFrame({"text": lines}).with_row_index("line", offset=1)
    row = text.str.extract_groups(grammar.SNAPSHOT_ROW)
    frame = frame.with_columns(
        prompt=text.str.contains(grammar.SNAPSHOT_PROMPT),
        date=text.str.contains(grammar.DATE_LINE),
        header=text.str.extract(grammar.SNAPSHOT_HEADER, 1).str.replace(r"\s+", " "),
        active_text=text.str.extract(grammar.SNAPSHOT_ACTIVE, 1),
        pid_text=row.struct.field("pid"),
        number_text=row.struct.field("number"),
    ).with_columns(
        # A count too large for Int32 is still a count: the line is one, its value unknown.
        active=numbers.int32(pl.col("active_text")),
        row_pid=numbers.int32(pl.col("pid_text")),
        number=numbers.int32(pl.col("number_text")),
    )
    is_row = pl.col("number_text").is_not_null()
    header = pl.col("header")
    table = pl.when(header.is_not_null()).then(header).when(~is_row).then(pl.lit(""))
    frame = frame.with_columns(table=table.forward_fill().fill_null(""))
    pid_row = pl.col("pid_text").is_not_null()
    under = pl.col("table")
    frame = frame.with_columns(
        source=pl.when(pl.col("active_text").is_not_null())
        .then(pl.lit(ACTIVE_COUNT))
        .when(is_row & (((under == "NLWP") & ~pid_row) | ((under == "PID NLWP") & pid_row)))
        .then(pl.lit(NLWP))
        .when(is_row & (under == "") & ~pid_row)
        .then(pl.lit(HOST_COUNT))
    )
    explained = pl.col("prompt") | pl.col("date") | pl.col("header").is_not_null()
    frame = frame.drop("active_text", "pid_text", "number_text")
    return frame.with_columns(explained=explained | pl.col("source").is_not_null())


def parse_snapshot(name: str, lines: pl.Series) -> pl.DataFrame:
    """Pasted thread counts as thread_snapshot events: where each comes from, the time of
    the ``date`` line above it, and the instance it belongs to."""
    frame = _snapshot_context(snapshot_lines(lines))
    counts = frame.filter(pl.col("source").is_not_null())
    per_process = pl.col("source") != HOST_COUNT
    pid = pl.when(pl.col("source") == NLWP).then(
        pl.coalesce("row_pid", "block_pid", pl.lit(_name_pid(name), pl.Int32))
    )
    counts = counts.with_columns(pid=pid)
    counts = _by_pid(counts).with_columns(
        instance=pl.coalesce(
            "block_instance",
            "pid_instance",
            pl.lit(_name_instance(name), pl.String),
            pl.lit("pid ") + pl.col("pid").cast(pl.String),
            pl.lit(name.rsplit("/", 1)[-1]),
        ),
        message=pl.col("source") + pl.lit(" ") + pl.col("pid").cast(pl.String),
    )
    number = pl.coalesce("active", "number")
    return counts.select(
        "line",
        "instance",
        "timestamp",
        kind=pl.lit("thread_snapshot"),
        file=pl.lit(name),
        message=pl.coalesce("message", "source"),
        threads=pl.when(per_process).then(number),
        count=pl.when(~per_process).then(number),
        text=pl.col("text").str.strip_chars(),
    )


def _snapshot_context(frame: pl.DataFrame) -> pl.DataFrame:
    """Give every line the time of the last ``date`` line above it, and the instance and
    PID its block names: the prompt and comment lines in a row before it."""
    dates = frame.filter(pl.col("date"))
    stamps = dates.select("line", timestamp=parse_date_lines(dates.get_column("text")))
    prompt = pl.col("prompt")
    frame = frame.join(stamps, on="line", how="left", maintain_order="left").with_columns(
        pl.col("timestamp").forward_fill(),
        block=(prompt & ~prompt.shift(1, fill_value=False)).cum_sum(),
    )
    text = pl.col("text")
    pids = (
        text.str.extract_all(grammar.SNAPSHOT_PS)
        .list.join(" ")
        .str.extract_all(r"[^\s,]+")
        .list.eval(pl.element().str.extract(grammar.SNAPSHOT_PS_PID, 1).drop_nulls())
    )
    blocks = (
        frame.filter(prompt)
        .group_by("block")
        .agg(
            block_instance=text.str.extract(grammar.SNAPSHOT_INSTANCE, 0).drop_nulls().first(),
            pids=pids.explode().drop_nulls().unique(),
        )
        .select(
            "block",
            "block_instance",
            block_pid=pl.when(pl.col("pids").list.len() == 1)
            .then(pl.col("pids").list.first())
            .cast(pl.Int32, strict=False),
        )
    )
    return frame.join(blocks, on="block", how="left", maintain_order="left")


def _by_pid(counts: pl.DataFrame) -> pl.DataFrame:
    """Give a PID the instance one of its blocks names to its other counts too."""
    named = (
        counts.filter(pl.col("pid").is_not_null() & pl.col("block_instance").is_not_null())
        .group_by("pid")
        .agg(pid_instance=pl.col("block_instance").first())
    )
    return counts.join(named, on="pid", how="left", maintain_order="left")


def _name_instance(name: str) -> str | None:
    """The instance a snapshot file's name carries (``threads_tmp_batt_Xa3k9Q.txt``)."""
    found = re.search(grammar.SNAPSHOT_INSTANCE, name.rsplit("/", 1)[-1])
    return found.group(0) if found else None


def _name_pid(name: str) -> int | None:
    """The PID a snapshot file's name carries (``nlwp_pid48213.txt``)."""
    found = re.search(grammar.SNAPSHOT_NAME_PID, name.rsplit("/", 1)[-1])
    pid = int(found.group(1)) if found else None
    return pid if pid is not None and pid <= numbers.INT32_MAX else None
