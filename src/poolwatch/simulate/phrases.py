"""What run_batt.py, run_card.sh and Python print: executor decisions, tracebacks,
noise, each line as the real programs write it."""

from __future__ import annotations

import random

# --- Executor decisions ----------------------------------------------------------------------

PATHS = ("process", "thread", "sequential")
PROCESS, THREAD, _SEQUENTIAL = 0, 1, 2
# Decision codes of one task, in run_batt.py's order of checks.
D_PROCESS = 0  # ProcessPool, silent
D_THREAD = 1  # ProcessPool failed, trying ThreadPool (which works)
D_OVERLOAD = 2  # "System overloaded": skipped to sequential
D_TPFAIL = 3  # ProcessPool failed, ThreadPool also failed: sequential
D_PPSEQ = 4  # older wording: ProcessPool failed, falling back to sequential
D_PARALLEL = 5  # any other exception: parallel execution failed, sequential
D_RANK = (PROCESS, THREAD, _SEQUENTIAL, _SEQUENTIAL, _SEQUENTIAL, _SEQUENTIAL)
DECISION_PHRASES = (
    "System overloaded",
    "ProcessPoolExecutor failed",
    "ThreadPoolExecutor also failed",
    "Parallel execution failed",
)

_P72, P476, P840 = "run_batt.py:72: ", "run_batt.py:476: ", "run_batt.py:840: "
P402, P419, P428 = "run_batt.py:402: ", "run_batt.py:419: ", "run_batt.py:428: "
P517, P523, P539 = "run_batt.py:517: ", "run_batt.py:523: ", "run_batt.py:539: "
P591, P625, P647 = "run_batt.py:591: ", "run_batt.py:625: ", "run_batt.py:647: "
P682, P845, P850 = "run_batt.py:682: ", "run_batt.py:845: ", "run_batt.py:850: "

GPU_LINE = f"{_P72}GPU Support: Disabled (CuPy not available)\n"
LOKY_LINE = (
    "Warning: loky not available, using standard ProcessPoolExecutor (may fail on closures)\n"
)
# The three ways run_batt.py gives up for want of memory (log-formats.md).
_EXIT_PROCESSPOOL = (
    "CRITICAL: MemoryError in CPU ProcessPoolExecutor. System out of memory. Exiting.\n"
)
EXIT_THREADPOOL = (
    "CRITICAL: MemoryError in ThreadPoolExecutor fallback. System out of memory. Exiting.\n"
)
EXIT_LOW_MEMORY = "System critically low on memory. Cannot create workers. Exiting.\n"
EXIT_LINES = (_EXIT_PROCESSPOOL, EXIT_THREADPOOL, EXIT_LOW_MEMORY)
TERM_LINE = "timeout: sending signal TERM to command 'python'\n"
PYLIB = "/usr/lib/python3.11"
APP = "/home/ubuntu/dsl/tokpidjin"

# Error texts, repeated to weight them; picked uniformly.
PP_ERRORS = (
    *("OSError: [Errno 12] Cannot allocate memory",) * 6,
    *("MemoryError: ",) * 2,
    "RuntimeError: can't start new thread",
    "BrokenProcessPool: A process in the process pool was terminated abruptly while the "
    "future was running or pending.",
)
TP_ERRORS = (*("can't start new thread",) * 5, "cannot schedule new futures after shutdown")
PARALLEL_ERRORS = (
    "A process in the process pool was terminated abruptly while the future was running "
    "or pending.",
    "Can't pickle local object 'check_batt.<locals>.score_sample'",
    "cannot pickle '_thread.RLock' object",
)
SAMPLE_ERRORS = (
    "IndexError: tuple index out of range",
    "ValueError: max() arg is an empty sequence",
    "TypeError: 'NoneType' object is not iterable",
    "ZeroDivisionError: division by zero",
)
# Candidate outputs per sample (mostly a few dozen, sometimes none, sometimes many), drawn
# once into a long fixed sequence; a task takes a slice at a random offset.
_OUTPUT_WEIGHTS = (*range(4, 64), *range(4, 64), *range(4, 64), *range(64, 181), 0, 1, 2, 3)
OUTPUTS = tuple(random.Random(20251014).choices(_OUTPUT_WEIGHTS, k=1 << 16))
OUTPUT_LINES = tuple(f"{k}\n" for k in OUTPUTS)
OUTPUT_SPAN = len(OUTPUTS) - 32
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WARN = "\u26a0\ufe0f"  # warning sign emoji as the monitoring script holds it
CROSS = "\u274c"  # cross mark emoji
