"""Rows of the published tables, taken without concatenating their Arrow chunks.

The large tables keep an Arrow chunk per file (``ingest.tables``). pandas takes rows
of an Arrow-backed column through pyarrow's ``take``, which first joins a chunked
column into one array: a copy of the whole column for each selection (measured on the
overloaded 1 GB fleet: 0.09-0.34 s for the notable events' messages, against 0.03 s
taken chunk by chunk). Here each chunk gives its own rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa


def take_rows(frame: pd.DataFrame, positions: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    """``frame.iloc[positions]`` in these columns (``positions`` rising): the same
    values, dtypes and index."""
    data = {name: take_values(frame[name].array, positions) for name in columns}
    return pd.DataFrame(data, index=frame.index[positions], copy=False)


def split_rows(
    frame: pd.DataFrame, codes: np.ndarray, columns: Sequence[str]
) -> dict[int, pd.DataFrame]:
    """The rows of each code (a code per row, -1 for none), in their order: ``take_rows``
    once per code."""
    valid = np.flatnonzero(codes >= 0)
    order = valid[np.argsort(codes[valid], kind="stable")]
    counts = np.bincount(codes[valid])
    ends = np.cumsum(counts)
    return {
        int(code): take_rows(frame, order[ends[code] - counts[code] : ends[code]], columns)
        for code in np.flatnonzero(counts)
    }


def take_values(array: object, positions: np.ndarray) -> object:
    """Values of one column's array at ``positions`` (rising): an Arrow-backed one
    chunk by chunk."""
    if not isinstance(array, pd.arrays.ArrowExtensionArray | pd.arrays.ArrowStringArray):
        return array.take(positions)  # type: ignore[attr-defined]
    chunked: pa.ChunkedArray = array.__arrow_array__()
    lengths = np.fromiter((len(chunk) for chunk in chunked.chunks), np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    cuts = np.searchsorted(positions, starts)
    parts = [
        chunk.take(pa.array(positions[cuts[k] : cuts[k + 1]] - starts[k]))
        for k, chunk in enumerate(chunked.chunks)
        if cuts[k + 1] > cuts[k]
    ]
    return type(array)(pa.chunked_array(parts, type=chunked.type))
