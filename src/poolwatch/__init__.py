"""poolwatch: turns the logs of a run_card.sh / run_batt.py fleet into incident reports."""

import os

# polars allocates with jemalloc, which by default keeps freed memory for seconds:
# return it within a fraction of a second, so that peak memory follows what is live
# (set before polars loads). Returning it at once (0 ms) costs a page fault each time
# memory is reused: measured 25 % slower on 1 GB, for 12 % less peak memory.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:300,muzzy_decay_ms:0")


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata when first asked for (reading
    it takes 40-50 ms, measured, which parsing logs does not need)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("poolwatch")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
