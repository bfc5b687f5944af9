"""One pass over a chunk's bytes that tells the routine lines of run output from the rest.

The routine lines are the bulk of every log: per-sample progress lines and the task
bookkeeping lines, exactly the lines ``grammar.BULK`` matches. Matching them with a
regex, line by line, was the largest cost of parsing (two lazy-DFA passes and a
literal search per line, about 100 ms per 16 MiB chunk). A compiled loop
(``_linescan.pyx``, built with Cython) recognises the same lines in one pass over
the bytes and reads the task start and done fields on the way: it is the grammar's
``BULK`` pattern written out as code, and the tests check that the two agree on
arbitrary lines.

The bytes must be newline-terminated UTF-8 without carriage returns or colour codes
(``scan.scan_chunk`` cleans a chunk that is not). Every class the pattern uses is
ASCII, so a byte-wise match means the same as the regex's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from poolwatch.ingest import _linescan


class Scanned(NamedTuple):
    """A chunk's lines sorted out: counts, its rare lines, its task start and done lines.

    Lines are numbered from 1; ``*_prog`` is how many progress lines precede a line.
    Rare line ``i`` is ``rare_text[rare_ends[i - 1]:rare_ends[i]]`` (from 0 for the
    first), without its newline. Task numbers are -1 where null (too long for Int32).
    """

    lines: int
    progress: int
    rare_line: np.ndarray
    rare_prog: np.ndarray
    rare_text: np.ndarray
    rare_ends: np.ndarray
    task_line: np.ndarray
    task_prog: np.ndarray
    task_done: np.ndarray
    task_id: np.ndarray
    """Each task's 8-byte id, one row of uint8 per task."""
    task_index: np.ndarray
    task_count: np.ndarray


def scan(data: bytes | bytearray) -> Scanned:
    """Sort out the lines of newline-terminated bytes: see ``Scanned``."""
    return Scanned(*_linescan.scan(data))
