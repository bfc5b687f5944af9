"""The static pieces of a run's output: ARC tasks, dates, tracebacks, noise, timing."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from poolwatch.simulate.numbers import ARC_TASKS, MANY_SAMPLES_SHARE
from poolwatch.simulate.phrases import APP, DAYS, MONTHS, P428, P476, P840, P845, P850, PYLIB

# --- Static pieces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArcTask:
    """One ARC task with its fixed demo and test samples, and its precomputed line prefixes."""

    tid: str
    head: str  # "-- <tid> - "
    progress: tuple[str, ...]  # "run_batt.py:428: demo[0] - <tid> - ", one per sample
    kinds: tuple[str, ...]  # "demo[0]", one per sample
    samples: int
    cache: dict[int, tuple[str, str, str, str]] = field(default_factory=dict, compare=False)

    def fixed(self, i: int) -> tuple[str, str, str, str]:
        """Its start, header and scored lines and its done-line prefix at run index ``i``."""
        found = self.cache.get(i)
        if found is None:
            h = self.head
            found = (
                f"{P840}{h}{i} start --\n",
                f"{P476}{h}{i} --\n",
                f"{P845}{h}{i} scored --\n",
                f"{P850}{h}{i} done - ",
            )
            self.cache[i] = found
        return found


def arc_tasks(rng: random.Random) -> tuple[ArcTask, ...]:
    """The fixed ARC training set the fleet samples from, with 8-hex-digit task ids."""
    seen: set[str] = set()
    tasks: list[ArcTask] = []
    while len(tasks) < ARC_TASKS:
        tid = f"{rng.getrandbits(32):08x}"
        if tid in seen:
            continue
        seen.add(tid)
        if rng.random() < MANY_SAMPLES_SHARE:
            demo, test = rng.randint(6, 10), rng.randint(2, 3)
        else:
            demo, test = rng.randint(3, 5), 1 if rng.random() < 0.7 else 2
        kinds = (*(f"demo[{k}]" for k in range(demo)), *(f"test[{k}]" for k in range(test)))
        progress = tuple(f"{P428}{kind} - {tid} - " for kind in kinds)
        tasks.append(ArcTask(tid, f"-- {tid} - ", progress, kinds, demo + test))
    return tuple(tasks)


def pick(rng: random.Random, options: tuple[str, ...]) -> str:
    """One of the options, uniformly."""
    return options[int(rng.random() * len(options))]


def uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    """A uniform draw between the two bounds."""
    return bounds[0] + (bounds[1] - bounds[0]) * rng.random()


def date_line(epoch: float) -> str:
    """What `date` prints in UTC (``%a %b %e %H:%M:%S %Z %Y``), newline included."""
    d = datetime.fromtimestamp(epoch // 1, UTC)
    return f"{DAYS[d.weekday()]} {MONTHS[d.month - 1]} {d.day:>2} {d:%H:%M:%S} UTC {d.year}\n"


def traceback(kind: int) -> str:
    """A Python traceback the fleet prints when it runs out of threads."""
    if kind == 0:
        return (
            "Traceback (most recent call last):\n"
            f'  File "{APP}/utils.py", line 326, in call_with_timeout\n'
            "    thread.start()\n"
            f'  File "{PYLIB}/threading.py", line 964, in start\n'
            "    _start_new_thread(self._bootstrap, ())\n"
            "RuntimeError: can't start new thread\n"
        )
    return (
        "Traceback (most recent call last):\n"
        f'  File "{APP}/run_batt.py", line 605, in check_batt\n'
        "    future = executor.submit(score_sample, args)\n"
        f'  File "{PYLIB}/concurrent/futures/thread.py", line 176, in submit\n'
        "    self._adjust_thread_count()\n"
        f'  File "{PYLIB}/concurrent/futures/thread.py", line 199, in _adjust_thread_count\n'
        "    t.start()\n"
        f'  File "{PYLIB}/threading.py", line 964, in start\n'
        "    _start_new_thread(self._bootstrap, ())\n"
        "RuntimeError: can't start new thread\n"
    )


def _teardown_noise(ident: int, number: int) -> str:
    """The traceback a worker thread leaves when the interpreter loses track of it."""
    return (
        "Exception ignored in thread started by: <bound method Thread._bootstrap of "
        f"<Thread(Thread-{number} (worker), stopped daemon {ident})>>\n"
        "Traceback (most recent call last):\n"
        f'  File "{PYLIB}/threading.py", line 1002, in _bootstrap\n'
        "    self._bootstrap_inner()\n"
        f'  File "{PYLIB}/threading.py", line 1049, in _bootstrap_inner\n'
        "    self._delete()\n"
        f'  File "{PYLIB}/threading.py", line 1081, in _delete\n'
        "    del _active[get_ident()]\n"
        "        ~~~~~~~^^^^^^^^^^^^^\n"
        f"KeyError: {ident}\n"
    )


def _memory_traceback() -> str:
    """The traceback the ProcessPool's manager thread leaves when memory runs out."""
    return (
        "Exception in thread ExecutorManagerThread:\n"
        "Traceback (most recent call last):\n"
        f'  File "{PYLIB}/threading.py", line 1045, in _bootstrap_inner\n'
        "    self.run()\n"
        f'  File "{PYLIB}/concurrent/futures/process.py", line 342, in run\n'
        "    self.add_call_item_to_queue()\n"
        f'  File "{PYLIB}/multiprocessing/queues.py", line 94, in put\n'
        "    self._start_thread()\n"
        "MemoryError\n"
    )


def noise(rng: random.Random, kind: str) -> str:
    """A stray stderr traceback of the given kind ("teardown" or "memory")."""
    if kind == "memory":
        return _memory_traceback()
    return _teardown_noise(rng.getrandbits(47), rng.randint(200, 4000))


def semlock_leak(count: int) -> str:
    """The resource tracker's warning at shutdown after ProcessPool trouble."""
    return (
        f"{PYLIB}/multiprocessing/resource_tracker.py:254: UserWarning: resource_tracker: "
        f"There appear to be {count} leaked semlock objects to clean up at shutdown\n"
        "  warnings.warn('resource_tracker: There appear to be %d '\n"
    )


def timing_block(rng: random.Random, seconds: float) -> str:
    """run_batt.py's ``--timing`` report, whose main.run_batt row is the run's seconds."""
    check = seconds * uniform(rng, (0.8, 0.95))
    rows = {
        "main.run_batt": seconds,
        "run_batt.check_batt": check,
        "batt.demo.run_with_timeout": check * uniform(rng, (0.55, 0.75)),
        "batt.test.run_with_timeout": check * uniform(rng, (0.1, 0.2)),
        "utils.inline_variables": seconds * uniform(rng, (0.005, 0.02)),
    }
    ordered = sorted(rows.items(), key=lambda kv: kv[1], reverse=True)
    return "\nTiming summary (seconds):\n" + "".join(f"  {k:32s} {v:8.3f}\n" for k, v in ordered)
