"""Log lines with the lines around them, read again from the inputs for the evidence.

Reading stops after the last line wanted, so excerpts from the start of a huge file
cost little. Standard input cannot be read twice: its excerpts are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poolwatch.ingest import grammar
from poolwatch.ingest.discover import Source
from poolwatch.ingest.sources import InputError, Reader

_ANSI = re.compile(grammar.ANSI)
_NEWLINE = ord("\n")
#: Bytes read at a time: the lines findings cite are mostly near a file's start (its
#: first overload, its first runs), so little more than them is read.
EXCERPT_CHUNK_BYTES = 1 << 20
#: Characters kept of one line (a 3 MB line must not become a 3 MB report).
LINE_CHARS = 300


@dataclass(frozen=True)
class Lines:
    """Lines ``first``... of a file: the wanted line and its context."""

    first: int
    lines: tuple[str, ...]


def excerpts(
    wanted: Mapping[str, Iterable[int]],
    paths: Mapping[str, Path | str | None],
    context: int,
    chunk_bytes: int = EXCERPT_CHUNK_BYTES,
) -> dict[tuple[str, int], Lines]:
    """For each (file, line) wanted, the line and up to ``context`` lines each side.

    ``paths`` maps each file's label to where it is on disk or in a store (its URL), or
    None (standard input).
    A file that cannot be read again (gone, or changed into a binary) gives nothing.
    """
    found: dict[tuple[str, int], Lines] = {}
    for name, numbers in wanted.items():
        path = paths.get(name)
        if path is None:
            continue
        try:
            found.update(_from_file(name, path, sorted(set(numbers)), context, chunk_bytes))
        except (OSError, InputError):
            continue
    return found


def _from_file(
    name: str, path: Path | str, numbers: list[int], context: int, chunk_bytes: int
) -> dict[tuple[str, int], Lines]:
    """The excerpts of one file, read up to the last line they need."""
    spans = [(max(1, n - context), n + context) for n in numbers]
    need = {k for low, high in spans for k in range(low, high + 1)}
    lines: dict[int, str] = {}
    seen = 0
    source = Source(name, url=path) if isinstance(path, str) else Source(name, path)
    with Reader(source, chunk_bytes) as reader:
        for chunk in reader.chunks():
            ends = np.flatnonzero(np.frombuffer(chunk, np.uint8) == _NEWLINE)
            if not chunk.endswith(b"\n"):  # the file's last line, without its newline
                ends = np.append(ends, len(chunk))
            count = len(ends)
            for k in (k for k in need if seen < k <= seen + count):
                at = k - seen - 1
                start = int(ends[at - 1]) + 1 if at else 0
                lines[k] = _text(bytes(chunk[start : int(ends[at])]))
            seen += count
            if seen >= spans[-1][1]:
                break
    return {
        (name, n): Lines(low, tuple(lines[k] for k in range(low, high + 1) if k in lines))
        for n, (low, high) in zip(numbers, spans, strict=True)
        if n in lines
    }


def _text(raw: bytes) -> str:
    """A line as the tables show it: decoded, colour codes and CR removed, cut short."""
    text = _ANSI.sub("", raw.decode("utf-8", "replace").rstrip("\r")).replace("\r", " ")
    return text if len(text) <= LINE_CHARS else text[:LINE_CHARS] + "…"
