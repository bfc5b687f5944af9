"""Rows of Arrow-backed tables taken chunk by chunk equal pandas' own selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from poolwatch.analyze.rows import split_rows, take_rows


def _frame() -> pd.DataFrame:
    """A table as ingest publishes its large ones: Arrow columns of several chunks."""
    lines = pa.chunked_array([[1, 2, 3], [4, 5], [], [6, 7, 8, 9]], pa.uint32())
    text = pa.chunked_array([["a", None, "c"], ["d", "e"], [], [None, "g", "h", "i"]],
                            pa.large_string())  # fmt: skip
    kind = pd.Categorical(["x", "y", "x", "z", "y", "x", "z", "z", "y"])
    return pd.DataFrame(
        {
            "line": pd.arrays.ArrowExtensionArray(lines),
            "text": pd.array(text, dtype=pd.StringDtype("pyarrow")),
            "kind": kind,
            "when": pd.date_range("2025-10-14", periods=9, freq="h", tz="UTC"),
        },
        index=pd.RangeIndex(10, 19),
    )


@pytest.mark.parametrize(
    "positions", [[], [0], [8], [0, 2, 3, 4, 8], [3, 4], list(range(9)), [5, 6, 7]]
)
def test_take_equals_iloc(positions: list[int]) -> None:
    frame = _frame()
    at = np.array(positions, np.int64)
    taken = take_rows(frame, at, ["text", "line", "kind", "when"])
    pd.testing.assert_frame_equal(taken, frame.iloc[at][["text", "line", "kind", "when"]])


def test_split_gives_each_code_its_rows_in_order() -> None:
    frame = _frame()
    codes = frame["kind"].cat.codes.to_numpy().copy()
    codes[codes == 1] = -1  # "y": left out
    parts = split_rows(frame, codes, ["line", "text"])
    assert sorted(parts) == [0, 2]
    for code, part in parts.items():
        expected = frame[(frame["kind"].cat.codes == code).to_numpy()][["line", "text"]]
        pd.testing.assert_frame_equal(part, expected)
