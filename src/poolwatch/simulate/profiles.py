"""The scenarios as profiles: which runs each instance makes, at which versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from poolwatch.simulate.numbers import (
    DEADLOCK_RUN_DECK,
    DEGRADED_SAMPLE_TIMEOUT,
    HEALTHY_MIX,
    HEALTHY_OVERLOAD_THREADS,
    LATER_OVERLOAD_ABOVE,
    LATER_SECONDS_PER_SAMPLE,
    LATER_SECONDS_PER_TASK,
    MEMORY_PRESSURE_RUN_DECK,
    OVERLOAD_ABOVE,
    OVERLOADED_TASK_SHARE,
    OVERLOADED_THREADS,
    OVERLOADED_TP_INSTANCE_SHARE,
    PROCESS_SECONDS_PER_SAMPLE,
    RUN_TIMEOUT_SECONDS,
    SEQUENTIAL_EXCESSIVE_RUN_DECK,
    SEQUENTIAL_EXCESSIVE_THREADS,
    TIMEOUTS_OVERLOAD_THREADS,
    TIMEOUTS_RUN_DECK,
)
from poolwatch.simulate.phrases import D_OVERLOAD, D_PARALLEL, D_PPSEQ, D_THREAD, D_TPFAIL

# --- Scenario profiles -----------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How a kind of run spreads executor decisions over its tasks."""

    forced: tuple[tuple[int, int, int], ...] = ()  # (decision, fewest, most) on random tasks
    background: tuple[tuple[int, float], ...] = ()  # (decision, chance) for every task


@dataclass(frozen=True)
class Profile:
    """Everything that distinguishes one scenario from another."""

    deck: tuple[tuple[str, int], ...]  # run kinds per 20 runs, dealt from shuffled decks
    recipes: Mapping[str, Recipe]
    overload_threads: tuple[int, int]
    sample_timeout: float = 0.0
    sample_failure: float = 0.0
    special_failure: str = ""  # "failed due to <this>" sample lines
    special_failure_share: float = 0.0
    retry: float = 0.0  # chance per sample of a recovered thread-creation failure
    noise: float = 0.0  # chance per run of a stray traceback on stderr
    noise_kind: str = "teardown"  # which: a thread's teardown, or "memory" running out
    semlock: float = 0.0  # chance that a run with ProcessPool failures leaks semlocks
    host_threads: int = 12  # ps -eLf threads per running instance
    unavailable: float = 0.005  # chance that a monitor value reads N/A
    monitor_lag: tuple[float, float] = (0.1, 0.6)  # seconds one monitor pass takes
    mix: tuple[tuple[str, int], ...] = ()  # (kind, percent) the whole fleet holds, if no deck


_HEALTHY_RECIPES = {
    "process": Recipe(),
    "thread": Recipe(forced=((D_THREAD, 1, 2),)),
    "sequential": Recipe(forced=((D_OVERLOAD, 2, 4),)),
}
_OVERLOADED_RECIPE = Recipe(
    background=((D_OVERLOAD, OVERLOADED_TASK_SHARE), (D_THREAD, 1 - OVERLOADED_TASK_SHARE))
)
PROFILES: dict[str, Profile] = {
    "healthy": Profile(
        deck=(),
        recipes=_HEALTHY_RECIPES,
        overload_threads=HEALTHY_OVERLOAD_THREADS,
        sample_failure=0.003,
        mix=HEALTHY_MIX,
    ),
    "overloaded": Profile(
        deck=(),
        recipes={
            "overloaded": _OVERLOADED_RECIPE,
            "overloaded-tp": Recipe(
                forced=((D_TPFAIL, 2, 4),),
                background=(
                    (D_OVERLOAD, OVERLOADED_TP_INSTANCE_SHARE),
                    (D_TPFAIL, 1 - OVERLOADED_TP_INSTANCE_SHARE),
                ),
            ),
            "hang": _OVERLOADED_RECIPE,
        },
        overload_threads=OVERLOADED_THREADS,
        sample_timeout=0.02,
        sample_failure=0.003,
        special_failure="nested thread exhaustion (in call_with_timeout)",
        special_failure_share=0.01,
        retry=0.01,
        noise=0.1,
        host_threads=45,
        unavailable=0.03,
        monitor_lag=(0.3, 2.0),
    ),
    "memory-pressure": Profile(
        deck=MEMORY_PRESSURE_RUN_DECK,
        recipes={
            "process": Recipe(),
            "thread": Recipe(forced=((D_THREAD, 2, 8),)),
            "sequential": Recipe(
                forced=((D_THREAD, 1, 4), (D_PPSEQ, 1, 2)),
                background=((D_TPFAIL, 0.03), (D_PARALLEL, 0.02)),
            ),
            "exit": Recipe(forced=((D_THREAD, 1, 3),)),
        },
        overload_threads=HEALTHY_OVERLOAD_THREADS,
        sample_timeout=0.01,
        sample_failure=0.003,
        special_failure="MemoryError",
        special_failure_share=0.02,
        noise=0.15,
        noise_kind="memory",
        semlock=0.5,
        host_threads=14,
    ),
    "timeouts": Profile(
        deck=TIMEOUTS_RUN_DECK,
        recipes={
            **_HEALTHY_RECIPES,
            "hang": Recipe(background=((D_OVERLOAD, 0.25),)),
            "long": Recipe(background=((D_THREAD, 0.01),)),
        },
        overload_threads=TIMEOUTS_OVERLOAD_THREADS,
        sample_timeout=0.03,
        sample_failure=0.003,
        retry=0.005,
        host_threads=15,
    ),
    "sequential-excessive": Profile(
        deck=SEQUENTIAL_EXCESSIVE_RUN_DECK,
        recipes={
            "process": Recipe(),
            "thread": Recipe(forced=((D_THREAD, 1, 3),)),
            "overload": Recipe(forced=((D_OVERLOAD, 4, 16),), background=((D_THREAD, 0.05),)),
            "tpfail": Recipe(
                forced=((D_TPFAIL, 2, 6),),
                background=((D_OVERLOAD, 0.3), (D_THREAD, 0.05)),
            ),
        },
        overload_threads=SEQUENTIAL_EXCESSIVE_THREADS,
        sample_timeout=0.02,
        sample_failure=0.003,
        special_failure="nested thread exhaustion (in call_with_timeout)",
        special_failure_share=0.01,
        retry=0.01,
        noise=0.05,
        host_threads=30,
        unavailable=0.01,
    ),
    "deadlock": Profile(
        deck=DEADLOCK_RUN_DECK,
        recipes={**_HEALTHY_RECIPES, "deadlock": Recipe()},
        overload_threads=HEALTHY_OVERLOAD_THREADS,
        sample_failure=0.003,
        host_threads=13,
    ),
    # The logs that need a report are dense (log-formats.md, "Degraded runs are dense"):
    # the guide's mix, but a ThreadPool run fell back on every task and a sequential run
    # was overloaded on every task, next to sample timeouts.
    "degraded": Profile(
        deck=(),
        recipes={
            "process": Recipe(),
            "thread": Recipe(background=((D_THREAD, 1.0),)),
            "sequential": Recipe(background=((D_OVERLOAD, 1.0),)),
        },
        overload_threads=TIMEOUTS_OVERLOAD_THREADS,
        sample_timeout=DEGRADED_SAMPLE_TIMEOUT,
        sample_failure=0.003,
        host_threads=20,
        mix=HEALTHY_MIX,
    ),
}


@dataclass(frozen=True)
class Version:
    """The limits one version of run_card.sh and run_batt.py works under, and its speed."""

    name: str
    overload_above: int  # "System overloaded" is printed above this many threads
    seconds_per_task: int  # the timeout per task of -c; 0: RUN_TIMEOUT_SECONDS, whatever -c
    sample_seconds: tuple[float, float]  # seconds one sample takes on the ProcessPool

    def timeout(self, count: int) -> int:
        """The timeout's limit for ``-c count``, in seconds (0: none, as GNU timeout reads it)."""
        return self.seconds_per_task * abs(count) if self.seconds_per_task else RUN_TIMEOUT_SECONDS


FIRST = Version("first", OVERLOAD_ABOVE, 0, PROCESS_SECONDS_PER_SAMPLE)
LATER = Version("later", LATER_OVERLOAD_ABOVE, LATER_SECONDS_PER_TASK, LATER_SECONDS_PER_SAMPLE)


def roles(scenario: str, instances: int) -> list[str]:
    """Run kind fixed per instance ("deck": drawn per run), after the guide's instance tables."""
    roles = ["deck"] * instances
    if scenario == "overloaded":
        roles = ["overloaded"] * instances
        if instances >= 2:  # "Instance 6: Timeout after 10 minutes"
            roles[5 if instances > 5 else instances - 1] = "hang"
        if instances >= 3:  # "Instance 3: ThreadPoolExecutor fails, sequential"
            roles[2 if instances > 3 else instances - 2] = "overloaded-tp"
    elif scenario == "timeouts" and instances >= 2:
        roles[5 if instances > 5 else instances - 1] = "long"
    return roles
