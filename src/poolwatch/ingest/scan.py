"""Vectorised scanning of one chunk of run output: lines in, notable lines out.

A chunk is a few MiB of whole lines. Lines are cut out of the chunk's bytes without
copying them (the newlines found by numpy, the lines handed to polars as an Arrow
array over the same bytes). Every line without a ``-- `` goes through one regex, in
polars, that recognises per-sample progress lines, the bulk of every log: they are
only counted. Of the other lines, task start and done lines give their fields, read
by position from the chunk's bytes with numpy; the rare remaining lines are kept as
they are and classified by the grammar's rules once per file (``classify``). Each
kept line carries how many progress lines preceded it, so samples per task can be
computed later without keeping the progress lines.
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
#: ``grammar.BULK`` matched byte by byte (``(?-u)``): its classes are ASCII, so it
#: means the same, and its automaton runs about a quarter faster (measured).
_BULK = "(?-u)" + grammar.BULK


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


@dataclass(frozen=True)
class _Lines:
    """A chunk's lines, each still ending with its newline, over the bytes they are in."""

    text: pl.Series
    data: np.ndarray
    """The bytes, as uint8."""
    starts: np.ndarray
    """Where each line starts in ``data``, and one past the end of the last (int64)."""


def _lines_of(raw: Chunk) -> _Lines:
    """The lines of a chunk, colour codes removed, each ending with a newline.

    Lines are cut out of the chunk's bytes without copying them. A chunk that needs
    more (a carriage return, bytes that are not UTF-8, a last line without a newline,
    colour codes) is split and cleaned line by line, then joined into new bytes.
    """
    direct = _cut(raw) if _is_cut_ready(raw) else None
    if direct is not None and b"\x1b" not in raw:
        return direct
    text = direct.text.str.head(-1) if direct is not None else split_lines(raw)
    text = clean(text, raw)
    if text.is_empty():
        return _cut(b"")
    return _cut((str(text.str.join("\n").item()) + "\n").encode())


def _is_cut_ready(raw: Chunk) -> bool:
    """Whether a chunk's bytes can be cut as they are: newline-terminated UTF-8, no CR."""
    if not raw.endswith(b"\n") or b"\r" in raw:
        return False
    if raw.isascii():
        return True
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _cut(raw: Chunk) -> _Lines:
    """Lines over newline-terminated UTF-8 bytes: numpy finds the newlines, and an Arrow
    array over the same bytes becomes a polars series."""
    data = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    starts = np.empty(len(ends) + 1, np.int64)
    starts[0] = 0
    starts[1:] = ends + 1
    array = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(starts), pa.py_buffer(raw))
    text = pl.from_arrow(array)
    assert isinstance(text, pl.Series)
    return _Lines(text.alias("text"), data, starts)


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
    lines = _lines_of(raw)
    text = pl.col("text")
    frame = pl.DataFrame({"text": lines.text}).with_row_index("index")
    frame = frame.with_columns(dash=text.str.find("-- ", literal=True))
    # A line with "-- " is never a progress line: the regex reads only the others.
    plain = frame.get_column("dash").is_null().to_numpy()
    progress = np.zeros(len(plain), bool)
    progress[plain] = lines.text.filter(pl.Series(plain)).str.contains(_PROGRESS_LF).to_numpy()
    kept = frame.filter(pl.Series(~progress))
    kept = kept.select(
        "index",
        "dash",
        line=(pl.col("index") + 1).cast(pl.UInt32),
        prog=(pl.col("index") - pl.int_range(pl.len(), dtype=pl.UInt32)).cast(pl.UInt32),
        text=text.str.head(-1),
    )
    bulk = pl.col("dash").is_not_null() & text.str.contains(_BULK)
    kept = kept.with_columns(bulk=bulk)
    rare = kept.filter(~pl.col("bulk")).select(*RARE_SCHEMA)
    return ChunkScan(
        # Copied: a slice of the chunk's lines would keep all of the chunk's bytes alive.
        rare=rare.with_columns(text=_copied(rare.get_column("text"))),
        tasks=_task_rows(kept.filter(pl.col("bulk")), lines),
        lines=len(lines.text),
        progress=len(lines.text) - len(kept),
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


def _task_rows(rows: pl.DataFrame, lines: _Lines) -> pl.DataFrame:
    """Task start and done lines (the other task lines are routine), in TASK_SCHEMA.

    The lines matched ``grammar.BULK`` already, so their shape is known and their
    fields are read from the chunk's bytes by position, with numpy. The first ``-- ``
    (column ``dash``) is followed by a hex task id, except in the one other bulk line
    with a ``-- `` (``-- Demo+Test scoring: ...``); then come `` - <index> `` and one of
    four endings, told apart by two bytes: ``start --`` (``t`` four bytes from the
    end), ``scored --`` (``d`` there), ``--`` (a digit there) and ``done - <n>
    candidates scored`` (``d`` last).
    """
    data = lines.data
    index = rows.get_column("index").to_numpy()
    end = lines.starts[index + 1] - 1  # the newline
    tid = lines.starts[index] + rows.get_column("dash").to_numpy().astype(np.int64) + 3
    task_form = _HEX_DIGIT[data[tid]]
    last = data[end - 1]
    done = task_form & (last == ord("d"))
    keep = done | (task_form & (last == ord("-")) & (data[end - 4] == ord("t")))
    done, tid, end = done[keep], tid[keep], end[keep]
    task_index, after = _numbers(data, tid + len("01234567 - "), end)
    count, _ = _numbers(data, after + len(" done - "), end)
    return rows.filter(pl.Series(keep)).select(
        "line",
        "prog",
        done=pl.Series(done),
        task=_strings(data, tid, 8),
        task_index=task_index,
        count=count.set(pl.Series(~done), None),
    )


#: Lowercase hex digits, as a lookup table over bytes.
_HEX_DIGIT = np.zeros(256, bool)
_HEX_DIGIT[np.frombuffer(b"0123456789abcdef", np.uint8)] = True
#: The most digits a number of an Int32 column can have (longer ones are null, as a
#: failed cast of their text would be).
_MAX_DIGITS = 10


def _numbers(data: np.ndarray, at: np.ndarray, end: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """The decimal numbers starting at each position (before ``end``), as Int32 (null when
    there is none or it does not fit), and where each number ends."""
    value = np.zeros(len(at), np.int64)
    digits = np.zeros(len(at), np.int64)
    going = at < end
    for _ in range(_MAX_DIGITS + 1):
        position = np.minimum(at + digits, end)
        digit = data[position].astype(np.int64) - ord("0")
        going &= (position < end) & (digit >= 0) & (digit <= 9)
        if not going.any():
            break
        value = np.where(going, value * 10 + digit, value)
        digits += going
    valid = (digits > 0) & (digits <= _MAX_DIGITS) & (value <= np.iinfo(np.int32).max)
    numbers = pl.Series(np.where(valid, value, 0).astype(np.int32)).set(pl.Series(~valid), None)
    return numbers, at + digits


def _strings(data: np.ndarray, at: np.ndarray, size: int) -> pl.Series:
    """The ``size`` bytes at each position, as strings (ASCII by the caller's check)."""
    chosen = data[at[:, None] + np.arange(size)]
    offsets = np.arange(0, (len(at) + 1) * size, size, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        len(at), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chosen))
    )
    strings = pl.from_arrow(array)
    assert isinstance(strings, pl.Series)
    return strings


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
