"""The compiled line scanner agrees with the grammar's ``BULK`` pattern on any line.

The scanner is ``grammar.BULK`` written out as code. These properties build lines from
the pieces of the real ones, each piece right or slightly wrong, and check that every
line is sorted out as the pattern (run by polars, as parsing used to) sorts it: a
progress line, a task start or done line with the same fields, a routine task line,
or a rare line kept with its text, its number and the progress lines before it.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from poolwatch.ingest import linescan
from poolwatch.ingest.grammar import BULK, PREFIX, TID

PROGRESS = rf"^{PREFIX}(?:demo|test)\[[0-9]+\] - {TID} - [0-9]+$"
TASK = (
    rf"^{PREFIX}-- (?P<task>{TID}) - (?P<index>[0-9]+) "
    r"(?:(?P<start>start --)|done - (?P<count>[0-9]+) candidates scored)$"
)
INT32_MAX = 2**31 - 1

#: Any character a cleaned line can hold (no newline, carriage return, escape, surrogate).
TEXT = st.characters(exclude_characters="\n\r\x1b", exclude_categories=["Cs"])
#: Each piece of a routine line: its right forms, then wrong ones (a line gets at most one).
PIECES: dict[str, tuple[list[str], list[str]]] = {
    "prefix": (["", "run_batt.py:428: ", "a-b.c_d.py:0: "],
               ["x.py:: ", ".py:1: ", "run_batt.py:12:", "run batt.py:1: ", "é.py:1: ",
                "p.py:1:  ", "a.py:1: a.py:2: ", "demo.py:3: ", "run_batt.pyc:1: "]),
    "kind": (["demo", "test"], ["Demo", "dem", "tests", "", "démo"]),
    "close": (["] - "], ["]- ", "] -", " ] - ", "]  - ", "]"]),
    "sep": ([" - "], ["- ", " -", "  - ", " \u2013 ", " "]),  # an en dash among them
    "mark": (["-- "], ["--", "- ", "-- -- ", " -- ", "—— "]),
    "ending": (["start --", "--", "scored --", "done - {n} candidates scored"],
               ["start -", "scored", "done - {n} candidates", "done -  candidates scored",
                "start -- ", "--x", "done - {n} candidates scored ",
                "Done - {n} candidates scored"]),
}  # fmt: skip
#: Right task ids, and ids with one character wrong or one too few or many.
_HEX = st.text("0123456789abcdef", min_size=8, max_size=8)
TIDS = (
    _HEX,
    st.one_of(
        st.tuples(_HEX, st.integers(0, 7), st.sampled_from("ABCDEFgG-: é")).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
        ),
        _HEX.map(lambda tid: tid[:7]),
        _HEX.map(lambda tid: tid + "0"),
    ),
)
#: Numbers: right (long ones, leading zeros and the Int32 limits included), then wrong.
NUMBERS = (
    st.text("0123456789", min_size=1, max_size=12)
    | st.sampled_from(["0", "2147483647", "2147483648", "00000000012", "000000000007",
                       "0000000001", "9999999999"]),
    st.sampled_from(["", "x", "1x", "١٢", " 1", "-1"]),
)  # fmt: skip


@st.composite
def routine_like(draw: st.DrawFn) -> str:
    """A progress or task line, right or with one piece wrong."""
    shape = draw(st.sampled_from(["progress", "task", "scoring"]))
    names = {
        "progress": ["prefix", "kind", "[", "number", "close", "tid", "sep", "number"],
        "task": ["prefix", "mark", "tid", "sep", "number", " ", "ending"],
        "scoring": ["prefix", "mark", "Demo+Test scoring: ", "text"],
    }[shape]
    wrong = draw(st.none() | st.integers(0, len(names) - 1))
    parts = []
    for at, name in enumerate(names):
        bad = at == wrong
        if name in PIECES:
            part = draw(st.sampled_from(PIECES[name][bad]))
        elif name == "tid":
            part = draw(TIDS[bad])
        elif name == "number":
            part = draw(NUMBERS[bad])
        elif name == "text":
            part = draw(st.text(TEXT, max_size=20))
        else:
            part = draw(st.sampled_from(["", "(", "] "])) if bad else name
        parts.append(part.replace("{n}", draw(NUMBERS[0])))
    return "".join(parts)


lines = st.one_of(
    routine_like(),
    routine_like(),
    st.text(TEXT, max_size=40),
)


def _number(text: str | None) -> int | None:
    """What the scanner reads from a field's digits: null when over ten or too big."""
    if text is None or len(text) > 10 or int(text) > INT32_MAX:
        return None
    return int(text)


@settings(max_examples=1000, deadline=None)
@given(st.lists(lines, max_size=30))
def test_the_scanner_sorts_lines_as_the_grammar_does(chunk: list[str]) -> None:
    texts = pl.Series(chunk, dtype=pl.String)
    progress = texts.str.contains(PROGRESS).to_list()
    bulk = texts.str.contains("(?-u)" + BULK).to_list()
    fields = texts.str.extract_groups(TASK).struct.unnest()
    found = linescan.scan("".join(f"{line}\n" for line in chunk).encode())

    assert found.lines == len(chunk)
    assert found.progress == sum(progress)
    seen = 0
    rare: list[tuple[int, int, str]] = []
    tasks: list[tuple[int, int, bool, str, int | None, int | None]] = []
    for number, (line, is_progress, is_bulk) in enumerate(
        zip(chunk, progress, bulk, strict=True), 1
    ):
        if is_progress:
            seen += 1
        elif not is_bulk:
            rare.append((number, seen, line))
        elif fields["task"][number - 1] is not None:
            done = fields["start"][number - 1] is None
            tasks.append((number, seen, done, fields["task"][number - 1],
                          _number(fields["index"][number - 1]),
                          _number(fields["count"][number - 1]) if done else None))  # fmt: skip
    ends = [0, *found.rare_ends.tolist()]
    assert [
        (int(n), int(p), bytes(found.rare_text[ends[i] : ends[i + 1]]).decode())
        for i, (n, p) in enumerate(zip(found.rare_line, found.rare_prog, strict=True))
    ] == rare
    assert [
        (int(n), int(p), bool(d), bytes(t).decode(), None if i < 0 else int(i),
         None if c < 0 else int(c))
        for n, p, d, t, i, c in zip(found.task_line, found.task_prog, found.task_done,
                                    found.task_id, found.task_index, found.task_count, strict=True)
    ] == tasks  # fmt: skip


def test_an_empty_chunk_has_no_lines() -> None:
    found = linescan.scan(b"")
    assert (found.lines, found.progress, len(found.rare_line), len(found.task_line)) == (0, 0, 0, 0)
