"""Excerpts read again from the inputs: the wanted lines and their context, exactly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from poolwatch.ingest.excerpts import LINE_CHARS, Lines, excerpts


def _expected(text: bytes, numbers: list[int], context: int) -> dict[tuple[str, int], Lines]:
    """What a reader with the file open would copy out: split by hand."""
    lines = text.split(b"\n")
    if text.endswith(b"\n"):
        lines.pop()
    shown = [line.decode().rstrip("\r") for line in lines]
    out = {}
    for n in numbers:
        if n <= len(shown):
            low = max(1, n - context)
            out[("log", n)] = Lines(low, tuple(shown[low - 1 : min(n + context, len(shown))]))
    return out


def test_first_middle_and_last_line_without_newline(tmp_path: Path) -> None:
    text = b"".join(b"line %d\n" % k for k in range(1, 50)) + b"line 50"
    path = tmp_path / "run_card_1.log"
    path.write_bytes(text)
    found = excerpts({"log": [1, 25, 50, 51]}, {"log": path}, 2)
    assert found == {
        ("log", 1): Lines(1, ("line 1", "line 2", "line 3")),
        ("log", 25): Lines(23, ("line 23", "line 24", "line 25", "line 26", "line 27")),
        ("log", 50): Lines(48, ("line 48", "line 49", "line 50")),
    }


def test_carriage_returns_and_long_lines(tmp_path: Path) -> None:
    long = b"x" * (LINE_CHARS + 10)
    path = tmp_path / "run_card_1.log"
    path.write_bytes(b"one\r\n" + long + b"\r\nthree\n")
    found = excerpts({"log": [2]}, {"log": path}, 1)
    assert found[("log", 2)] == Lines(1, ("one", "x" * LINE_CHARS + "…", "three"))


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1000, 1 << 20])
def test_lines_across_chunks_equal_the_file_split_by_hand(tmp_path: Path, chunk_bytes: int) -> None:
    rng = random.Random(chunk_bytes)
    lines = [b"l%d " % k + b"y" * rng.randrange(0, 40) for k in range(1, 400)]
    text = b"\n".join(lines) + rng.choice([b"", b"\n"])
    path = tmp_path / "run_card_1.log"
    path.write_bytes(text)
    numbers = sorted(rng.sample(range(1, 420), 25))
    found = excerpts({"log": numbers}, {"log": path}, 3, chunk_bytes=chunk_bytes)
    assert found == _expected(text, numbers, 3)
