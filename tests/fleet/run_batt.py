"""A stand-in for run_batt.py: its command line, real threads, its output lines.

Started as ``python tests/fleet/run_batt.py -t 10 -c -32 -b tmp_batt_<id>_run`` with its
standard output piped through ``tee`` as run_card.sh does. It prints run_batt.py's first
lines (the GPU banner, the first task's header with a random task id), then obeys one
command per line of standard input, acknowledging each on standard error with
``ok <bytes written to stdout so far>`` once its output is flushed:

- ``threads N``: hold N threads besides the main one (starting or ending some);
- ``overload K``, ``processpool K``, ``threadpool K``: K fallback lines of that kind, in
  run_batt.py's shape;
- ``tasks K``: K ordinary tasks (header, start, progress lines, done);
- ``fork``: fork a worker (same command line) that lives as long as this process;
- ``end``: print the closing ``<N> tasks - <M> timeouts`` line and exit.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time

_held: list[tuple[threading.Thread, threading.Event]] = []
#: Bytes written to stdout, and tasks run, so far.
_done = {"written": 0, "tasks": 0}


def _print(line: str) -> None:
    data = (line + "\n").encode()
    sys.stdout.buffer.write(data)
    _done["written"] += len(data)


def _tid() -> str:
    return secrets.token_hex(4)


def _threads(wanted: int) -> None:
    while len(_held) < wanted:
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait, daemon=True)
        thread.start()
        _held.append((thread, stop))
    while len(_held) > wanted:
        thread, stop = _held.pop()
        stop.set()
        thread.join()


def _fallbacks(kind: str, count: int) -> None:
    for _ in range(count):
        if kind == "overload":
            _print(f"run_batt.py:539: -- System overloaded ({threading.active_count()} threads),"
                   " using sequential processing")  # fmt: skip
        elif kind == "processpool":
            _print("run_batt.py:591: -- ProcessPoolExecutor failed (OSError: [Errno 12] Cannot "
                   "allocate memory), trying ThreadPoolExecutor")  # fmt: skip
        else:
            _print("run_batt.py:625: -- ThreadPoolExecutor also failed (can't start new "
                   "thread), using sequential processing")  # fmt: skip


def _run_tasks(count: int) -> None:
    for _ in range(count):
        tid, index = _tid(), _done["tasks"]
        _print(f"run_batt.py:476: -- {tid} - {index} --")
        _print(f"run_batt.py:840: -- {tid} - {index} start --")
        for sample in range(3):
            _print(f"run_batt.py:428: demo[{sample}] - {tid} - 32")
        _print(f"run_batt.py:850: -- {tid} - {index} done - 12 candidates scored")
        _done["tasks"] += 1


def _fork() -> None:
    parent = os.getpid()
    if os.fork() == 0:  # the worker: gone once its parent is
        while os.getppid() == parent:
            time.sleep(0.05)
        os._exit(0)


def _obey(line: str) -> bool:
    """Carry out one command; False for ``end``."""
    word, _, rest = line.partition(" ")
    if word == "threads":
        _threads(int(rest))
    elif word in ("overload", "processpool", "threadpool"):
        _fallbacks(word, int(rest))
    elif word == "tasks":
        _run_tasks(int(rest))
    elif word == "fork":
        _fork()
    elif word == "end":
        _print(f"{_done['tasks']} tasks - 0 timeouts")
        return False
    else:
        raise SystemExit(f"unknown command: {line!r}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-t", type=float)
    parser.add_argument("-c", type=int)
    parser.add_argument("-b", required=True)
    parser.parse_args()
    _print("run_batt.py:72: GPU Support: Disabled (CuPy not available)")
    _print(f"run_batt.py:476: -- {_tid()} - 0 --")
    sys.stdout.flush()
    going = True
    while going:
        line = sys.stdin.readline()
        if not line:
            break
        going = _obey(line.strip())
        sys.stdout.flush()
        sys.stderr.write(f"ok {_done['written']}\n")
        sys.stderr.flush()


if __name__ == "__main__":
    main()
