"""The numbers the simulated fleets follow: the guide's, log-formats.md's and
run_batt.py's, and the timing of one run_card.sh iteration."""

from __future__ import annotations

from datetime import UTC, datetime

SCENARIOS = (
    "healthy",
    "overloaded",
    "memory-pressure",
    "timeouts",
    "sequential-excessive",
    "deadlock",
    "degraded",
)
MONITOR_STYLES = ("emoji", "mojibake", "plain")
# Which run_batt.py the instances run: all the first version, all a later one, or half each.
VERSIONS = ("first", "later", "mixed")
# Pasted thread snapshots: none, every instance steady, or one instance leaking threads.
SNAPSHOTS = ("none", "steady", "leak")
DEFAULT_START = datetime(2025, 10, 14, 9, 36, 8, tzinfo=UTC)
MONITOR_LOG = "week6b_monitoring.log"
RECORDS_LOG = "poolwatch-monitor.jsonl"
#: The host poolwatch monitor's records name when the corpus is one host's.
HOSTNAME = "batch-host"
#: A corpus of several hosts (``--hosts N``): their scenarios, host by host, repeated from
#: the first past the fifth (``--hosts 5``: three healthy, one overloaded, one out of memory).
HOST_SCENARIOS = ("healthy", "overloaded", "healthy", "memory-pressure", "healthy")
#: Host k's fleet is simulated from the seed plus (k - 1) times this: host1's is the
#: one-host corpus of the same seed.
HOST_SEED_STRIDE = 1000

# --- Numbers taken from the guide (monitoring-guide.md) -------------------------------------

# "Expected Production Patterns", Healthy Production: 75 % ProcessPool, 15 % ThreadPool,
# 10 % Sequential, in percent of runs; the first kind takes what the others leave.
HEALTHY_MIX = (("process", 75), ("thread", 15), ("sequential", 10))
# Healthy runs beyond the fixed rounds (--size, --live): chance that a degraded kind the
# mix owes one run is dealt now rather than later (it is dealt at once when owed two).
CATCH_UP_CHANCE = 0.5
# "Expected Production Patterns", Healthy Production: thread count 40-60; a task reports
# overload only above its version's threshold (51-60 for the first version's 50).
HEALTHY_OVERLOAD_THREADS = (40, 60)
# "Expected Production Patterns", Overloaded Production: thread count > 80, constant.
OVERLOADED_THREADS = (81, 95)
# Share of tasks that print "System overloaded" on an overloaded instance ("most tasks").
OVERLOADED_TASK_SHARE = 0.92
# The degraded fleet's chance per sample of "timed out": about 1.5 % of its lines.
DEGRADED_SAMPLE_TIMEOUT = 0.03
# Overloaded Production, Instance 3 ("ThreadPoolExecutor fails, sequential"): share of its
# tasks that report overload; its other tasks lose both pools.
OVERLOADED_TP_INSTANCE_SHARE = 0.6
# "Quick Diagnostics", Scenario 2: ProcessPool fallback in > 30 % of runs is critical;
# here 11 of 20 runs show a ProcessPool failure, and one of 20 exits out of memory.
MEMORY_PRESSURE_RUN_DECK = (("process", 8), ("thread", 8), ("sequential", 3), ("exit", 1))
# "Quick Diagnostics", Scenario 3: script timeouts; 4 of 20 runs of an ordinary instance hang.
TIMEOUTS_RUN_DECK = (("process", 12), ("thread", 2), ("sequential", 2), ("hang", 4))
# Thread counts reported by the overloaded tasks of the timeouts scenario (Warning band).
TIMEOUTS_OVERLOAD_THREADS = (51, 70)
# "Quick Diagnostics", Scenario 4: "ThreadPoolExecutor also failed" in > 30 % of runs;
# here 10 of 20 runs.
SEQUENTIAL_EXCESSIVE_RUN_DECK = (("process", 2), ("thread", 3), ("overload", 5), ("tpfail", 10))
# "Health Check Thresholds", Thread count Warning band 50-80 (reported only above 50).
SEQUENTIAL_EXCESSIVE_THREADS = (51, 80)
# "Quick Diagnostics", Scenario 3 when the hang is silent: 3 of 20 runs of an otherwise
# healthy fleet deadlock without a word and are killed at the timeout.
DEADLOCK_RUN_DECK = (("process", 12), ("thread", 3), ("sequential", 2), ("deadlock", 3))
# "Performance Expectations", Normal Load: 6-8 samples on ProcessPool take ~2-4 s.
PROCESS_SECONDS_PER_SAMPLE = (0.3, 0.5)
# "Performance Expectations", High Load: ThreadPool 1.5-2x normal, Sequential 2-3x normal.
THREAD_SLOWDOWN = (1.5, 2.0)
SEQUENTIAL_SLOWDOWN = (2.0, 3.0)
# "Script Timeout": run_card.sh kills a run after 600 s; the overload check fires above 50.
RUN_TIMEOUT_SECONDS = 600
OVERLOAD_ABOVE = 50
# "Health Check Thresholds", Active threads per instance: < 15 healthy, > 25 "Resource
# leak?".  Snapshots of a steady instance stay under 12; a leaking one climbs 11 -> 34.
SNAPSHOT_STEADY_THREADS = (7, 11)
SNAPSHOT_LEAK_THREADS = (11, 34)
# poolwatch monitor's samples: a run's own thread count is the steady one of a snapshot,
# unless most of its tasks print "System overloaded" (then the count they report); a run
# on the ProcessPool ("3 workers", Normal Operation) has its workers beside it.
SAMPLED_STEADY_THREADS = SNAPSHOT_STEADY_THREADS
SAMPLED_WORKERS = 3
SAMPLED_RSS = (150_000_000, 420_000_000)  # bytes a run's process holds
# Monitoring script: CHECK_INTERVAL=60, alerts when Overload > 5 and Thread > 3, tail -100.
MONITOR_INTERVAL_SECONDS = 60
OVERLOAD_ALERT_ABOVE = 5
THREADPOOL_ALERT_ABOVE = 3
MONITOR_TAIL_LINES = 100

# --- Numbers taken from log-formats.md and run_batt.py ---------------------------------------

RUN_TASKS = 32  # -c -32: 32 randomly sampled ARC tasks per run
ARC_TASKS = 400  # -c 0: every ARC training task, in a fixed order
SAMPLE_TIMEOUT_SECONDS = 10.0  # -t 10.0
HOST_BASE_THREADS = 90  # ps -eLf | wc -l on a quiet small host
MANY_SAMPLES_SHARE = 0.12  # ARC tasks with many more demo/test samples than usual
TERM_MESSAGE_SHARE = 0.5  # killed runs whose console shows timeout --verbose's message
LATER_FORM_SHARE = 0.375  # instances echoing "Running: timeout -k 5s 600s python ..."
TIMING_SHARE = 0.25  # instances running with --timing
LOKY_WARNING_SHARE = 0.25  # instances whose run_batt.py warns that loky is missing
# "Each run states its own limits": a later version runs under `timeout -k 5s <2 x |count|>s`
# (64 s for -c -32; 0s, which GNU timeout reads as no limit, for -c 0) and reports overload
# above 40 threads.  Its 2 s a task only make sense if tasks take about half that: its
# samples score faster than the guide's 0.3-0.5 s (the --timing example ran in 5.4 s).
LATER_SECONDS_PER_TASK = 2
LATER_OVERLOAD_ABOVE = 40
LATER_SECONDS_PER_SAMPLE = (0.1, 0.25)
LATER_VERSION_SHARE = 0.5  # instances of a "mixed" fleet that run the later version
EXIT_AFTER_TASKS = (0, 2)  # tasks an out-of-memory run finishes before it gives up
EXIT_SECONDS = (0.3, 1.5)  # from its CRITICAL line to the process's end
EXIT_SEMLOCK_SHARE = 0.5  # exits after a pool existed that leak semlocks at shutdown
DEADLOCK_IN_SAMPLES_SHARE = 0.3  # deadlocks after some samples (else right after `-- <tid> -`)
SNAPSHOT_STYLES = ("active", "nlwp")  # `Active threads: <n>` loop, or `ps -o nlwp <PID>` blocks
SNAPSHOT_SLEEP_SECONDS = 30  # the operator's loop sleeps this long between snapshots
SNAPSHOT_MOST = 40  # snapshots per file at most: a longer window spaces them out
SNAPSHOT_FEWEST = 4  # snapshots per file at least: a short window packs them closer
SNAPSHOT_LOOP_LAG = (0.05, 0.3)  # seconds one loop iteration adds (python -c starting)
SNAPSHOT_TYPING = (0.5, 1.5)  # an operator typing ps by hand: the interval times this
PID_FIRST = (2000, 40000)  # PID of an instance's first python
PIDS_PER_ITERATION = 5  # processes one run_card.sh iteration forks (date, card.py, ...)

# --- Timing of one run_card.sh iteration (seconds) -------------------------------------------

CARD_SECONDS = (1.0, 3.0)  # card.py writes the solver module between `date` and python
STARTUP_SECONDS = (2.0, 4.5)  # run_batt.py imports and loads the ARC data
SHUTDOWN_SECONDS = (0.2, 0.8)  # after the last task, before the process exits
LOOP_GAP_SECONDS = (1.0, 4.0)  # from a run's end to the next `date`
KILLED_GAP_SECONDS = (0.1, 0.6)  # from the timeout's kill to the next `date`
HANG_AFTER_SECONDS = (20.0, 200.0)  # when a hanging run stops making progress
INSTANCE_STAGGER_SECONDS = (10.0, 240.0)  # start of each instance after the first
LIVE_AFTER = (30.0, 90.0)  # a live snapshot is taken this long after the latest run began
LIVE_MARGIN_SECONDS = 5.0  # a run ending this close to the snapshot is still the live one
