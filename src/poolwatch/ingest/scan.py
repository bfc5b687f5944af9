"""Vectorised scanning of one chunk of run output: lines in, notable lines out.

A chunk is a few MiB of whole lines. Lines are cut out of the chunk's bytes without
copying them (the newlines found by numpy, the lines handed to polars as an Arrow
array over the same bytes). Every line goes through one regex, in polars, that
recognises per-sample progress lines, the bulk of every log: they are only counted.
Of the other lines, task start and done lines give their fields by slicing; the rare
remaining lines are kept as they are and classified by the grammar's rules once per
file (``classify``). Each kept line carries how many progress lines preceded it, so
samples per task can be computed later without keeping the progress lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from poolwatch.ingest import grammar
from poolwatch.ingest.sources import Chunk
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
#: A per-sample progress line: the one alternative of ``grammar.BULK`` without ``-- ``
#: (every other alternative has it, and no progress line can), so that a line is in the
#: bulk exactly when it is a progress line or has ``-- `` and matches ``grammar.BULK``.
_PROGRESS = rf"^{grammar.PREFIX}(?:demo|test)\[[0-9]+\] - {grammar.TID} - [0-9]+"
#: The same, on a line that still ends with its newline (its only newline).
_PROGRESS_LF = _PROGRESS + r"\n"


#: Task start and done lines, kept apart from the rare marks in a compact frame.
TASK_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.UInt32(),
    "prog": pl.UInt32(),
    "done": pl.Boolean(),
    "task": pl.String(),
    "task_index": pl.Int32(),
    "count": pl.Int32(),
}


#: The rare lines of a chunk (neither progress nor task bookkeeping), unclassified.
RARE_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.UInt32(),
    "prog": pl.UInt32(),
    "text": pl.String(),
}


@dataclass(frozen=True)
class ChunkScan:
    """What one chunk holds: its task lines, its rare lines, counts of the rest."""

    rare: pl.DataFrame
    tasks: pl.DataFrame
    lines: int
    progress: int


@dataclass(frozen=True)
class Classified:
    """A file's rare lines classified: its marks, and the lines nothing explains."""

    marks: pl.DataFrame
    unparsed: int
    unparsed_examples: pl.DataFrame


def split_lines(raw: Chunk) -> pl.Series:
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


def _terminated_lines(raw: Chunk) -> pl.Series | None:
    """The lines of a chunk, each still ending with its newline, over the chunk's bytes.

    None when the chunk needs ``split_lines``: a last line without a newline, a
    carriage return, or bytes that are not UTF-8.
    """
    if not raw.endswith(b"\n") or b"\r" in raw:
        return None
    if not raw.isascii():
        try:
            raw.decode()
        except UnicodeDecodeError:
            return None
    ends = np.flatnonzero(np.frombuffer(raw, np.uint8) == ord("\n"))
    offsets = np.empty(len(ends) + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    array = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(raw))
    lines = pl.from_arrow(array)
    assert isinstance(lines, pl.Series)
    return lines.alias("line")


def clean(lines: pl.Series, raw: Chunk) -> pl.Series:
    """Remove colour codes (only paid for when the chunk has an escape byte)."""
    if b"\x1b" in raw:
        lines = lines.str.replace_all(grammar.ANSI, "")
    return lines


def scan_chunk(raw: Chunk) -> ChunkScan:
    """Scan one line-aligned chunk of run_batt / run_card output.

    One regex pass finds the progress lines; of the others, task lines (``-- ``
    and the rest of ``grammar.BULK``) give their fields and everything else is rare.
    A progress line never becomes a row: the number of progress lines before a kept
    line is its index minus the kept lines before it. Lines are numbered from 1 in
    the chunk; assembly adds the chunk's offset in its file.
    """
    lines = _terminated_lines(raw)
    terminated = lines is not None
    if lines is None:
        lines = split_lines(raw)
    lines = clean(lines, raw)
    text = pl.col("text")
    frame = pl.DataFrame({"text": lines}).with_row_index("index")
    kept = frame.filter(~text.str.contains(_PROGRESS_LF if terminated else _PROGRESS + "$"))
    kept = kept.select(
        line=(pl.col("index") + 1).cast(pl.UInt32),
        prog=(pl.col("index") - pl.int_range(pl.len(), dtype=pl.UInt32)).cast(pl.UInt32),
        text=text.str.head(-1) if terminated else text,
    )
    kept = kept.with_columns(
        bulk=text.str.contains("-- ", literal=True) & text.str.contains(grammar.BULK)
    )
    rare = kept.filter(~pl.col("bulk")).drop("bulk")
    return ChunkScan(
        # Copied: a slice of the chunk's lines would keep all of the chunk's bytes alive.
        rare=rare.with_columns(text=_copied(rare.get_column("text"))),
        tasks=_task_rows(kept.filter(pl.col("bulk"))),
        lines=len(lines),
        progress=len(lines) - len(kept),
    )


def _copied(text: pl.Series) -> pl.Series:
    """String values in buffers of their own (through Arrow, whose strings are contiguous)."""
    copy = pl.from_arrow(text.to_arrow())
    assert isinstance(copy, pl.Series)
    return copy


def classify(rare: pl.DataFrame) -> Classified:
    """Classify a file's rare lines (RARE_SCHEMA) by the grammar's rules.

    A line's marks depend on its text alone, and rare lines repeat (every run prints
    the same banner), so each distinct text is classified once. A line that several
    rules match has its marks in the rules' order.
    """
    texts = rare.get_column("text").unique(maintain_order=True)
    marks, unexplained = _rule_marks(texts)
    marks = rare.join(marks, on="text", how="inner").sort(["line", "rule"])
    unparsed = rare.join(unexplained.to_frame(), on="text", how="semi")
    return Classified(
        marks=_conform(marks),
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


def _rule_marks(texts: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """The marks of distinct rare texts (a ``rule`` column numbers the rule that made
    each), and the texts nothing explains."""
    candidate = texts.str.contains(_ANY_RULE)
    hits = texts.filter(candidate)
    matched = pl.repeat(False, len(hits), dtype=pl.Boolean, eager=True)
    frames: list[pl.DataFrame] = [pl.DataFrame(schema={"text": pl.String(), "rule": pl.UInt8()})]
    for number, rule in enumerate(_RULES):
        hit = hits.str.contains(rule.match)
        if rule.unless is not None:
            hit = hit & ~hits.str.contains(rule.unless)
        if hit.any():
            matched = matched | hit
            frames.append(_extract(hits.filter(hit), rule, number))
    rest = pl.concat([texts.filter(~candidate), hits.filter(~matched)])
    return pl.concat(frames, how="diagonal"), rest.filter(~rest.str.contains(grammar.ROUTINE))


def _extract(texts: pl.Series, rule: grammar.Rule, number: int) -> pl.DataFrame:
    """The marks of the texts one rule matched, with the fields it extracts."""
    frame = texts.to_frame("text").with_columns(
        rule=pl.lit(number, pl.UInt8), kind=pl.lit(rule.kind)
    )
    if rule.fields is not None:
        fields = texts.str.extract_groups(rule.fields).struct.unnest()
        frame = frame.hstack(fields.select([c for c in fields.columns if c in FIELDS]))
    return frame


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Give a mark frame every mark column, in order, its text cut to ``TEXT_LIMIT``."""
    out = conform_to(frame, MARK_SCHEMA)
    return out.with_columns(pl.col("text").str.slice(0, TEXT_LIMIT).str.replace_all("\r", " "))
