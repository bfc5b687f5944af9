"""Human sizes such as ``100MB`` or ``1GB`` for command-line options."""

from __future__ import annotations

import re

_UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "KI": 1024, "MI": 1024**2, "GI": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]I?)?B?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes for ``500``, ``100MB``, ``1GB``, ``1GiB`` (decimal units unless ``i``)."""
    found = _SIZE.match(text)
    if found is None:
        raise ValueError(f"not a size: {text!r} (expected e.g. 100MB, 1GB, 1GiB)")
    unit = (found.group(2) or "").upper()
    return int(float(found.group(1)) * _UNITS[unit])
