"""The compiled loop of ``linescan`` (``_linescan.pyx``)."""

import numpy as np

def scan(
    data: bytes | bytearray,
) -> tuple[
    int,
    int,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]: ...
