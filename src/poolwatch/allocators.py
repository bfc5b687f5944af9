"""Large blocks handed back to the system as soon as they are freed.

Reading a fleet makes and lets go of a few hundred MB of Arrow buffers and numpy
arrays. glibc raises its mmap threshold each time such a block is freed, so later
blocks come from its heap and stay there once freed; Arrow's own allocator keeps
what it frees as well. Either way the memory freed by reading is not the memory
publishing the tables takes next, and both count in the peak. With the threshold
fixed and Arrow allocating from the same heap, a freed large block goes back at
once (measured on the overloaded 1 GB fleet: peak RSS about 1,180 → 1,015 MiB, the
time unchanged within the machine's noise).

These settings are the process's, so the command line makes them, before anything
is read (``settle``); a program that imports poolwatch keeps its own.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: glibc's ``M_MMAP_THRESHOLD`` (malloc.h), and the value it starts with: fixing it
#: stops glibc from raising it (and its trim threshold) as blocks are freed.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 128 << 10


def settle() -> None:
    """Fix glibc's mmap threshold and have Arrow allocate from the system's heap, unless
    the environment already chose (``MALLOC_MMAP_THRESHOLD_``,
    ``ARROW_DEFAULT_MEMORY_POOL``). Elsewhere than glibc, the threshold is left alone."""
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        if "pyarrow" in sys.modules:  # the pool is chosen when pyarrow is imported
            import pyarrow as pa  # noqa: PLC0415 - only when already loaded

            pa.set_memory_pool(pa.system_memory_pool())
        else:
            os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        fix_mmap_threshold()


def fix_mmap_threshold() -> bool:
    """``mallopt(M_MMAP_THRESHOLD, 128 KiB)`` where the C library is glibc: whether it
    was set."""
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: its C library's among them
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: musl has mallopt as a stub
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES))
