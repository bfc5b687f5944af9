"""Vectorised scanning of one chunk of run output: lines in, notable lines out.

A chunk is a few MiB of whole lines. Every line goes through one regex, in polars,
that recognises the routine bulk (per-sample progress and task bookkeeping):
progress lines are only counted, task start and done lines give their fields by
slicing, and the rare remaining lines are classified by the grammar's rules. Each
kept line carries how many progress lines preceded it, so samples per task can be
computed later without keeping the progress lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl

from poolwatch.ingest import grammar
from poolwatch.ingest.tables import conform_to

#: Event fields every mark frame carries (numbers typed, the rest strings).
FIELDS: tuple[str, ...] = (
    "task",
    "task_index",
    "threads",
    "count",
    "timeouts",
    "error_type",
    "message",
    "sample_kind",
    "sample_index",
    "seconds",
)
_NUMERIC: dict[str, pl.DataType] = {
    "task_index": pl.Int32(),
    "threads": pl.Int32(),
    "count": pl.Int32(),
    "timeouts": pl.Int32(),
    "sample_index": pl.Int32(),
    "seconds": pl.Float64(),
}
MARK_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.UInt32(),
    "prog": pl.UInt32(),
    "kind": pl.String(),
    **{name: _NUMERIC.get(name, pl.String()) for name in FIELDS},
    "text": pl.String(),
}
#: Longest line text kept as evidence.
TEXT_LIMIT = 2000
#: Unparsed lines kept per chunk as examples.
UNPARSED_EXAMPLES = 5

#: Internal marks that shape runs but are not published events.
INTERNAL_RULES: tuple[grammar.Rule, ...] = (
    grammar.Rule("date", grammar.DATE_LINE),
    grammar.Rule("gpu", grammar.GPU_LINE),
    # Its message is the instance the Generating line names.
    grammar.Rule("generating", grammar.GENERATING_INSTANCE, grammar.GENERATING_INSTANCE),
)
_RULES = (*grammar.RUN_RULES, *INTERNAL_RULES)
#: Any rule at all: one pass that spares each rule the lines none of them wants.
_ANY_RULE = "|".join(f"(?:{rule.match})" for rule in _RULES)


#: Task start and done lines, kept apart from the rare marks in a compact frame.
TASK_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.UInt32(),
    "prog": pl.UInt32(),
    "done": pl.Boolean(),
    "task": pl.String(),
    "task_index": pl.Int32(),
    "count": pl.Int32(),
}


@dataclass(frozen=True)
class ChunkScan:
    """What one chunk holds: its task lines, its rare notable lines, counts of the rest."""

    marks: pl.DataFrame
    tasks: pl.DataFrame
    lines: int
    progress: int
    unparsed: int
    unparsed_examples: pl.DataFrame


def split_lines(raw: bytes) -> pl.Series:
    """Split bytes into lines (LF or CRLF), decoding invalid UTF-8 with U+FFFD."""
    if b"\x1f" in raw:
        text = raw.decode("utf-8", "replace")
        lines = pl.Series("line", [text]).str.split("\n").explode()
        if text.endswith("\n"):
            lines = lines.head(-1)
        return lines.str.strip_suffix("\r")
    # From a file object: measured twice as fast as from bytes, which polars copies.
    frame = pl.read_csv(
        io.BytesIO(raw),
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["line"],
        infer_schema=False,
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
        raise_if_empty=False,
    )
    if frame.width == 0:
        return pl.Series("line", [], pl.String)
    return frame.to_series().fill_null("")


def clean(lines: pl.Series, raw: bytes) -> pl.Series:
    """Remove colour codes (only paid for when the chunk has an escape byte)."""
    if b"\x1b" in raw:
        lines = lines.str.replace_all(grammar.ANSI, "")
    return lines


def scan_chunk(raw: bytes) -> ChunkScan:
    """Scan one line-aligned chunk of run_batt / run_card output.

    One regex pass finds the routine bulk (progress and task lines); everything
    else is rare. A progress line never becomes a row: the number of progress
    lines before a kept line is its index minus the kept lines before it. Lines are
    numbered from 1 in the chunk; assembly adds the chunk's offset in its file.
    """
    lines = clean(split_lines(raw), raw)
    frame = pl.DataFrame({"text": lines}).with_row_index("index")
    frame = frame.with_columns(bulk=pl.col("text").str.contains(grammar.BULK))
    # Of the bulk, only task lines (``-- <tid> ...``) are kept; progress lines are not.
    kept = frame.filter(~pl.col("bulk") | pl.col("text").str.contains("-- ", literal=True))
    kept = kept.with_columns(
        line=(pl.col("index") + 1).cast(pl.UInt32),
        prog=(pl.col("index") - pl.int_range(pl.len(), dtype=pl.UInt32)).cast(pl.UInt32),
    ).drop("index")
    marks, unparsed = _rule_marks(kept.filter(~pl.col("bulk")))
    return ChunkScan(
        marks=marks.sort("line"),
        tasks=_task_rows(kept.filter(pl.col("bulk"))),
        lines=len(lines),
        progress=len(lines) - len(kept),
        unparsed=len(unparsed),
        unparsed_examples=unparsed.sort("line").head(UNPARSED_EXAMPLES).select("line", "text"),
    )


def _task_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Task start and done lines (the other task lines are routine), in TASK_SCHEMA.

    The lines matched ``grammar.BULK`` already, so literal searches and slicing are
    enough: no regex runs on these, the commonest lines after progress.
    """
    text = pl.col("text")
    rows = rows.with_columns(done_at=text.str.find(" done - ", literal=True))
    rows = rows.filter(text.str.ends_with(" start --") | pl.col("done_at").is_not_null())
    rows = rows.with_columns(tid_at=text.str.find("-- ", literal=True) + 3)
    return rows.select(
        "line",
        "prog",
        done=pl.col("done_at").is_not_null(),
        task=text.str.slice(pl.col("tid_at"), 8),
        task_index=_leading_number(text.str.slice(pl.col("tid_at") + len("01234567 - "))),
        count=_leading_number(text.str.slice(pl.col("done_at") + len(" done - "))),
    )


def _leading_number(text: pl.Expr) -> pl.Expr:
    """The number a string starts with, up to its first space (null if none)."""
    return text.str.slice(0, text.str.find(" ", literal=True)).cast(pl.Int32, strict=False)


def _rule_marks(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Classify the rare lines by the grammar; also return the lines nothing explains."""
    candidate = rows["text"].str.contains(_ANY_RULE)
    hits = rows.filter(candidate)
    text = hits["text"]
    matched = pl.repeat(False, len(hits), dtype=pl.Boolean, eager=True)
    frames: list[pl.DataFrame] = []
    for rule in _RULES:
        hit = text.str.contains(rule.match)
        if rule.unless is not None:
            hit = hit & ~text.str.contains(rule.unless)
        if hit.any():
            matched = matched | hit
            frames.append(_extract(hits.filter(hit), rule))
    marks = pl.concat(frames, how="diagonal") if frames else pl.DataFrame()
    rest = pl.concat([rows.filter(~candidate), hits.filter(~matched)])
    return _conform(marks), rest.filter(~rest["text"].str.contains(grammar.ROUTINE))


def _extract(rows: pl.DataFrame, rule: grammar.Rule) -> pl.DataFrame:
    """The marks of the lines one rule matched, with the fields it extracts."""
    frame = rows.select("line", "prog", "text").with_columns(kind=pl.lit(rule.kind))
    if rule.fields is not None:
        fields = rows["text"].str.extract_groups(rule.fields).struct.unnest()
        frame = frame.hstack(fields.select([c for c in fields.columns if c in FIELDS]))
    return frame


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Give a mark frame every mark column, in order, its text cut to ``TEXT_LIMIT``."""
    out = conform_to(frame, MARK_SCHEMA)
    return out.with_columns(pl.col("text").str.slice(0, TEXT_LIMIT).str.replace_all("\r", " "))
