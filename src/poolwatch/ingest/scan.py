"""Scanning one chunk of run output: lines in, notable lines out.

A chunk is a few MiB of whole lines. One compiled pass over its bytes (``linescan``)
sorts its lines out: per-sample progress lines, the bulk of every log, are only
counted; task start and done lines give their fields; the other task bookkeeping
lines are routine; the rare remaining lines are kept as they are and classified by
the grammar's rules once per file (``classify``). Each kept line carries how many
progress lines preceded it, so samples per task can be computed later without
keeping the progress lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from poolwatch.ingest import grammar, linescan, numbers
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
#: Unparsed lines kept per file as examples.
UNPARSED_EXAMPLES = 5

#: Internal marks that shape runs but are not published events.
INTERNAL_RULES: tuple[grammar.Rule, ...] = (
    grammar.Rule("date", grammar.DATE_LINE),
    grammar.Rule("banner", grammar.BANNER),
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
    """Files' rare lines classified: their marks, and the lines nothing explains."""

    marks: pl.DataFrame
    unparsed: dict[int, int]
    """Lines nothing explains, by ``fid``."""
    unparsed_examples: pl.DataFrame
    """The first few of them in each file (``fid``, ``line``, ``text``)."""


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


def _normalised(raw: Chunk) -> Chunk:
    """A chunk's bytes as ``linescan`` reads them: newline-terminated UTF-8 without
    carriage returns or colour codes.

    Most chunks are already; one that is not (a carriage return, bytes that are not
    UTF-8, a last line without a newline, colour codes) is split and cleaned line by
    line, then joined into new bytes.
    """
    if _is_clean(raw) and b"\x1b" not in raw:
        return raw
    text = clean(split_lines(raw), raw)
    if text.is_empty():
        return b""
    return (str(text.str.join("\n").item()) + "\n").encode()


def _is_clean(raw: Chunk) -> bool:
    """Whether a chunk's bytes are newline-terminated UTF-8 without carriage returns."""
    if not raw.endswith(b"\n") or b"\r" in raw:
        return False
    if raw.isascii():
        return True
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def clean(lines: pl.Series, raw: Chunk) -> pl.Series:
    """Remove colour codes (only paid for when the chunk has an escape byte)."""
    if b"\x1b" in raw:
        lines = lines.str.replace_all(grammar.ANSI, "")
    return lines


def scan_chunk(raw: Chunk) -> ChunkScan:
    """Scan one line-aligned chunk of run_batt / run_card output.

    Lines are numbered from 1 in the chunk; assembly adds the chunk's offset in its
    file. A progress line never becomes a row: each kept line carries how many
    progress lines preceded it.
    """
    found = linescan.scan(_normalised(raw))
    rare = pl.DataFrame(
        {
            "line": found.rare_line,
            "prog": found.rare_prog,
            "text": _strings(found.rare_text, np.r_[0, found.rare_ends]),
        },
        schema=RARE_SCHEMA,
    )
    tasks = pl.DataFrame(
        {
            "line": found.task_line,
            "prog": found.task_prog,
            "done": found.task_done,
            "task": _strings(found.task_id.ravel(), np.arange(0, 8 * len(found.task_id) + 1, 8)),
            "task_index": _nullable(found.task_index),
            "count": _nullable(found.task_count),
        },
        schema=TASK_SCHEMA,
    )
    return ChunkScan(rare=rare, tasks=tasks, lines=found.lines, progress=found.progress)


def _strings(data: np.ndarray, offsets: np.ndarray) -> pl.Series:
    """Strings over UTF-8 bytes: string ``i`` is ``data[offsets[i]:offsets[i + 1]]``."""
    array = pa.LargeStringArray.from_buffers(
        len(offsets) - 1,
        pa.py_buffer(np.ascontiguousarray(offsets, np.int64)),
        pa.py_buffer(np.ascontiguousarray(data)),
    )
    strings = pl.from_arrow(array)
    assert isinstance(strings, pl.Series)
    return strings


def _nullable(numbers: np.ndarray) -> pl.Series:
    """Int32 numbers, null where -1."""
    return pl.Series(numbers, dtype=pl.Int32).set(pl.Series(numbers < 0), None)


def classify(rare: pl.DataFrame) -> Classified:
    """Classify files' rare lines (RARE_SCHEMA and ``fid``, in line order) by the grammar's
    rules.

    A line's marks depend on its text alone, and rare lines repeat (every run prints
    the same banner), so each distinct text is classified, its fields read and its text
    cut once. A line that several rules match has its marks in the rules' order: the
    join keeps the lines' order, then the marks' (measured: a third of the time a
    sort took, and the text of each line not copied twice).
    """
    texts = rare.get_column("text").unique(maintain_order=True)
    marks, unexplained = _rule_marks(texts)
    lines = rare.select("line", "prog", "fid", _key="text")
    marks = lines.join(_conform(marks), on="_key", how="inner", maintain_order="left_right")
    unparsed = rare.join(unexplained.to_frame(), on="text", how="semi", maintain_order="left")
    counts = unparsed.group_by("fid").len()
    return Classified(
        marks=marks.select(*MARK_SCHEMA, "fid"),
        unparsed=dict(zip(counts["fid"], counts["len"], strict=True)),
        unparsed_examples=unparsed.group_by("fid", maintain_order=True)
        .head(UNPARSED_EXAMPLES)
        .select("fid", "line", "text"),
    )


def _rule_marks(texts: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """The marks of distinct rare texts, rule by rule in the rules' order, and the texts
    nothing explains."""
    candidate = texts.str.contains(_ANY_RULE)
    hits = texts.filter(candidate)
    matched = pl.repeat(False, len(hits), dtype=pl.Boolean, eager=True)
    frames: list[pl.DataFrame] = [pl.DataFrame(schema={"text": pl.String()})]
    for rule in _RULES:
        hit = hits.str.contains(rule.match)
        if rule.unless is not None:
            hit = hit & ~hits.str.contains(rule.unless)
        if hit.any():
            matched = matched | hit
            frames.append(_extract(hits.filter(hit), rule))
    rest = pl.concat([texts.filter(~candidate), hits.filter(~matched)])
    return pl.concat(frames, how="diagonal"), rest.filter(~rest.str.contains(grammar.ROUTINE))


def _extract(texts: pl.Series, rule: grammar.Rule) -> pl.DataFrame:
    """The marks of the texts one rule matched, with the fields it extracts."""
    frame = texts.to_frame("text").with_columns(kind=pl.lit(rule.kind))
    if rule.fields is not None:
        fields = texts.str.extract_groups(rule.fields).struct.unnest()
        frame = frame.hstack(fields.select([c for c in fields.columns if c in FIELDS]))
    return frame


def _conform(marks: pl.DataFrame) -> pl.DataFrame:
    """Distinct texts' marks with every mark column but a line's own (numbers out of
    range null, the text cut to ``TEXT_LIMIT``), and the text they are joined on
    (``_key``), in the rules' order for each text."""
    fields = {name: dtype for name, dtype in MARK_SCHEMA.items() if name not in ("line", "prog")}
    return conform_to(marks, fields).with_columns(
        numbers.seconds(pl.col("seconds")),
        pl.col("text").str.slice(0, TEXT_LIMIT).str.replace_all("\r", " "),
        _key="text",
    )
