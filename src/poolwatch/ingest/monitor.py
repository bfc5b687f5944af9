"""The monitor log and pasted thread snapshots.

``monitor_week6b.sh`` splits a record over several physical lines whenever a count
is zero (``grep -c`` prints ``0`` and ``|| echo "0"`` prints another): records are
reassembled from their first line and the ``0 ...`` continuation lines after it.
Its record times carry no zone; the zone of its ``date`` header is used when known.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from poolwatch.ingest import grammar
from poolwatch.ingest.timestamps import date_offset

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
        [pl.col(c).cast(pl.Int32, strict=False) for c in _COUNTS],
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
            "alert_count": fields["count"].cast(pl.Int32),
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


def parse_snapshot(name: str, lines: pl.Series) -> pl.DataFrame:
    """Pasted thread counts as thread_snapshot events, with where each count comes from."""
    frame = pl.DataFrame({"text": lines.str.strip_chars()}).with_row_index("line", offset=1)
    frame = frame.with_columns(nlwp=(pl.col("text").shift(1) == "NLWP").fill_null(False))
    frame = frame.filter(pl.col("text").str.contains(r"^(?:\d+|Active threads: \d+)$"))
    nlwp_above = pl.col("nlwp")
    number = pl.col("text").str.extract(r"(\d+)$", 1).cast(pl.Int32)
    return frame.with_columns(
        kind=pl.lit("thread_snapshot"),
        file=pl.lit(name),
        message=pl.when(pl.col("text").str.starts_with("Active"))
        .then(pl.lit("threading.active_count()"))
        .when(nlwp_above)
        .then(pl.lit("ps -o nlwp"))
        .otherwise(pl.lit("ps -eLf | wc -l")),
        threads=pl.when(pl.col("text").str.starts_with("Active") | nlwp_above).then(number),
        count=pl.when(~(pl.col("text").str.starts_with("Active") | nlwp_above)).then(number),
    ).drop("nlwp")


def is_snapshot(lines: pl.Series) -> bool:
    """Whether every non-blank line is a thread count (and there is one)."""
    filled = lines.filter(lines.str.strip_chars() != "")
    return not filled.is_empty() and bool(filled.str.contains(grammar.SNAPSHOT_LINE).all())
