"""Every line pattern poolwatch recognises, in one table, named by event kind.

Patterns use the Rust regex dialect of polars (no look-around). Event patterns
are unanchored where an operator would ``grep`` for a phrase, so that a
``file.py:<line>:`` prefix, a timestamp or a progress bar in front of the
message changes nothing, and so that counts equal ``grep -c`` of the phrase.
Named groups are the event fields they fill (see ``ingest.tables``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The helper prefix run_batt.py puts in front of most lines (``run_batt.py:428: ``).
#: Its line number changes with every version of the code, so it is never matched on.
PREFIX = r"(?:[A-Za-z0-9_.-]+\.py:[0-9]+: )?"
TID = r"[0-9a-f]{8}"
NUM = r"\d+(?:\.\d+)?"

#: The routine bulk of every log: per-sample progress (``demo[0] - <tid> - 32``,
#: counted, never stored) and the per-task bookkeeping lines (``-- <tid> - <i> start
#: --``, ``--``, ``scored --``, ``done - <n> candidates scored``, ``-- Demo+Test
#: scoring: ...``). Progress lines are the ones without ``-- ``. Parsing recognises these
#: lines with a compiled loop (``linescan``) that is this pattern written out as code; a
#: property test keeps the two in step. Family detection matches the pattern itself.
BULK = (
    rf"^{PREFIX}(?:(?:demo|test)\[[0-9]+\] - {TID} - [0-9]+$"
    rf"|-- {TID} - [0-9]+ (?:start --|--|scored --|done - [0-9]+ candidates scored)$"
    r"|-- Demo\+Test scoring: )"
)

#: ANSI colour and cursor sequences, removed before anything else is matched.
ANSI = r"\x1b\[[0-9;?]*[A-Za-z]"

#: Kinds poolwatch publishes, in this order (the ``kind`` categorical's categories).
KINDS: tuple[str, ...] = (
    "run_start",
    "run_end",
    "task_start",
    "task_done",
    "overload",
    "processpool_failed",
    "threadpool_failed",
    "parallel_failed",
    "sample_timeout",
    "sample_failed",
    "thread_retry",
    "critical_memory",
    "exception",
    "leaked_semaphores",
    "timeout_kill",
    "timing_total",
    "monitor_sample",
    "monitor_alert",
    "thread_snapshot",
)

#: The executor-fallback kinds whose counts must equal ``grep -c <phrase>``.
FALLBACK_KINDS: tuple[str, ...] = (
    "overload",
    "processpool_failed",
    "threadpool_failed",
    "parallel_failed",
)


@dataclass(frozen=True)
class Rule:
    """One event kind: when a line is one, and which fields it carries."""

    kind: str
    match: str
    fields: str | None = None
    unless: str | None = None
    grep: str | None = None
    """The fixed string an operator greps for, where the count must agree with ``grep -c``."""


_ALERT_OVERLOAD = r"ALERT: System overloaded detected"
_ALERT_THREADPOOL = r"ALERT: ThreadPool failures"

#: The older wording of a ProcessPool failure that skips the ThreadPool entirely.
PROCESSPOOL_TO_SEQUENTIAL = "falling back to sequential"

#: Kinds of the lines a run writes to standard error: ``tee`` never copies them into the
#: run log, so a run log's run is its console copy without them (log-formats.md).
STDERR_KINDS: tuple[str, ...] = ("exception", "leaked_semaphores", "timeout_kill")

#: Rules for the rare lines of run_batt output and run_card consoles. Each is tested on
#: its own, so a line that quotes two phrases yields an event for each (as grep counts it).
RUN_RULES: tuple[Rule, ...] = (
    Rule(
        "run_start",
        r"^Running: ",
        r"^Running: (?P<message>.*)$",
    ),
    Rule(
        "run_end",
        r"^(\d+) tasks - (\d+) timeouts\s*$",
        r"^(?P<count>\d+) tasks - (?P<timeouts>\d+) timeouts",
    ),
    Rule(
        "overload",
        r"System overloaded",
        r"System overloaded \((?P<threads>\d+) threads\)",
        unless=_ALERT_OVERLOAD,
        grep="System overloaded",
    ),
    Rule(
        "processpool_failed",
        r"ProcessPoolExecutor failed",
        r"ProcessPoolExecutor failed \((?:(?P<error_type>[A-Za-z_]\w*): )?(?P<message>.*)\)",
        grep="ProcessPoolExecutor failed",
    ),
    Rule(
        "threadpool_failed",
        r"ThreadPoolExecutor also failed",
        r"ThreadPoolExecutor also failed \((?:(?P<error_type>[A-Za-z_]\w*): )?(?P<message>.*)\)",
        grep="ThreadPoolExecutor also failed",
    ),
    Rule(
        "parallel_failed",
        r"Parallel execution failed",
        r"Parallel execution failed \((?:(?P<error_type>[A-Za-z_]\w*): )?(?P<message>.*)\)",
        grep="Parallel execution failed",
    ),
    Rule(
        "sample_timeout",
        r"\] (?:result collection )?timed out",
        rf"(?:(?P<task>{TID}) - )?(?P<sample_kind>demo|test)\[(?P<sample_index>\d+)\] "
        r"(?:result collection )?timed out(?: after (?P<seconds>\d+(?:\.\d+)?)s)?",
    ),
    Rule(
        "sample_failed",
        r"\] failed(?::| due to)",
        rf"(?:(?P<task>{TID}) - )?(?P<sample_kind>demo|test)\[(?P<sample_index>\d+)\] "
        r"failed(?:: | due to )(?P<message>.*)$",
    ),
    Rule(
        "thread_retry",
        r"thread creation failed",
        rf"(?:(?P<task>{TID}) - )?(?:(?P<sample_kind>demo|test)\[(?P<sample_index>\d+)\] )?"
        r"thread creation failed(?P<message>.*)$",
    ),
    Rule(
        "critical_memory",
        r"CRITICAL: MemoryError|System critically low on memory",
        r"(?P<message>(?:CRITICAL: MemoryError|System critically low on memory).*)$",
    ),
    Rule(
        "exception",
        r"^(?:Traceback \(most recent call last\):|Exception in thread|Exception ignored in"
        r"|[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt): |[A-Za-z_][\w.]*Error:?\s*$)",
        r"^(?P<error_type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))"
        r"(?::(?: (?P<message>.*))?)?\s*$",
    ),
    Rule(
        "leaked_semaphores",
        r"resource_tracker: There appear to be \d+ leaked",
        r"There appear to be (?P<count>\d+) leaked (?P<message>\w+) objects",
    ),
    Rule(
        "timeout_kill",
        r"^timeout: sending signal|timeout after \d+s",
        r"(?:sending signal (?P<message>\w+)|timeout after (?P<seconds>\d+)s)",
    ),
    Rule(
        "timing_total",
        rf"^\s*main\.run_batt\s+{NUM}\s*$",
        rf"^\s*main\.run_batt\s+(?P<seconds>{NUM})",
    ),
    Rule(
        "thread_snapshot",
        r"^Active threads: \d+\s*$",
        r"^Active threads: (?P<threads>\d+)",
    ),
)

#: A ``date`` line: the only wall-clock time run_card.sh prints (locale and zone vary).
_WEEKDAY = r"[\p{L}]{2,}\.?,?"
_TIME = r"\d{1,2}:\d{2}:\d{2}"
#: After the time: AM/PM, a zone by name (``CEST``), by offset (``+0200``, ``(UTC+0200)``).
_AFTER_TIME = (
    r"(?:,? +(?:[\p{L}][\p{L}\d+:-]*|[+-]\d{2}(?::?\d{2})?|\((?:UTC|GMT)?[+-]\d{2}:?\d{2}\)))"
    r"{0,2},?"
)
DATE_LINE = (
    # The year last, as the C locale and many others print it: Tue Oct 14 09:36:08 CEST 2025,
    # Di 14. Okt 09:36:08 CEST 2025, Tue Oct 14 09:36:08 AM EDT 2025.
    rf"^{_WEEKDAY} +[\p{{L}}\d., ]*?{_TIME}{_AFTER_TIME} +\d{{4}}\s*$"
    # The year before the time: mar. 14 oct. 2025 09:36:08 CEST, mar 14 ott 2025, 09:36:08,
    # CEST, Tue, 14 Oct 2025 09:36:08 +0200 (date -R).
    rf"|^{_WEEKDAY} +\d{{1,2}}\.? +[\p{{L}}]{{2,}}\.? +\d{{4}},? +{_TIME}{_AFTER_TIME}\s*$"
    # Year, month and day by number, then a weekday: 2025年 10月 14日 火曜日 09:36:08 JST,
    # 2025. 10. 14. (화) 09:36:08 KST, 2025年10月14日 星期二 09时36分08秒 CST.
    r"|^\d{4}(?:年 *\d{1,2}月 *\d{1,2}日|\. *\d{1,2}\. *\d{1,2}\.) +(?:\S+ +)?"
    r"\d{1,2}(?::\d{2}:\d{2}|[时時]\d{2}分\d{2}秒)(?: +[\p{L}]{2,5})?\s*$"
    # ISO 8601 (date '+%F %T', date -Iseconds): 2025-10-14 09:36:08, 2025-10-14T09:36:08+02:00.
    r"|^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
    r"(?: ?(?:Z|[+-]\d{2}(?::?\d{2})?|[A-Z]{2,5}))?\s*$"
)

#: The banner run_card.sh prints after the ``date`` of every iteration.
BANNER = r"^=== .*MODE ===\s*$"

#: Lines that are understood but carry no event: run_card chatter, task bookkeeping,
#: timing rows, traceback frames and the shell noise of a failing monitor script.
ROUTINE = (
    r"^\s*$"
    rf"|^{PREFIX}GPU Support: "
    r"|^=== .* ===$"
    r"|^Card\.py: "
    r"|^Timeout: "
    r"|^Generating batt: "
    r"|^Timing summary \(seconds\):"
    rf"|^\s+[\w.]+\s+{NUM}\s*$"
    r"|^\s+File \""
    r"|^ {4}\S"
    r"|^\s+[~^]+\s*$"
    r"|^Warning: loky not available"
    r"|^During handling of the above exception"
    r"|^The above exception was the direct cause"
    r"|integer expression expected"
    r"|^tail: "
)

#: First line of a run_batt run when no ``Running:`` line was seen (a bare run log).
GPU_LINE = rf"^{PREFIX}GPU Support: "

#: Where a console ``Running:`` line names its instance and its limits.
RUNNING_INSTANCE = r"-b +(?:\S*/)?(?P<instance>tmp_batt_\w+?)(?:_run)?(?:\s|$)"
RUNNING_COUNT = r"-c +(?P<count>-?\d+)"
RUNNING_TIMEOUT = r"timeout +(?:-\S+ +\S+ +)*?(?P<seconds>\d+)s?\b"
GENERATING_INSTANCE = r"^Generating batt: .*-f +(?:\S*/)?(?P<message>tmp_batt_\w+?)_run\.py"

#: The instance name in a run log's file name (``tmp_batt_Xa3k9Q_run.log``, rotated or not).
RUN_LOG_NAME = r"(?P<instance>tmp_batt_[A-Za-z0-9]+?)_run\.log"

# --- the monitor log (monitor_week6b.sh) ---------------------------------------------

#: A monitor record's first physical line.
MONITOR_RECORD = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \| Threads: "
#: Continuation lines left by ``grep -c ... || echo "0"`` printing ``0`` twice.
MONITOR_CONTINUATION = r"^0(?: Thread=\S+| Overload=\S+)?\s*$"
#: A whole (reassembled) record; a doubled ``0 0`` value reads as 0.
MONITOR_FIELDS = (
    r"^(?P<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \| Threads: "
    r"Python=(?P<python_threads>N/A|\d+) System=(?P<system_threads>N/A|\d+)"
    r"(?: \| Fails: Process=(?P<process_fails>N/A|\d+)(?: \d+)?"
    r"(?: Thread=(?P<thread_fails>N/A|\d+)(?: \d+)?)?"
    r"(?: Overload=(?P<overload>N/A|\d+)(?: \d+)?)?)?"
)
MONITOR_ALERT = rf"{_ALERT_OVERLOAD}|{_ALERT_THREADPOOL}"
MONITOR_ALERT_FIELDS = (
    r"ALERT: (?P<alert>System overloaded|ThreadPool failures)(?: detected)? (?P<count>\d+) times"
)
MONITOR_HEADER = r"Monitoring Started ==="

# --- poolwatch monitor -------------------------------------------------------------------
#: A record of ``poolwatch monitor``'s ``--log`` (JSON Lines, schema version 1): its
#: writer puts these keys first, in this order, with no spaces.
MONITOR_RECORDS = r'^\{"schema":1,"record":"'
#: A line of the same monitor's human log (``poolwatch-monitor.log``): its banners, and
#: samples that end with the runs, instances and zone the guide's script never wrote.
MONITOR_HUMAN = (
    r"^=== poolwatch monitor: Monitoring (?:Started|Stopped)"
    r"|^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \| Threads: .* \| Runs: \d+ \| "
    r"(?:Instances: .* \| )?Zone: "
)
#: The fields of a sample of that human log (``Python=`` is the highest run's threads).
MONITOR_HUMAN_FIELDS = (
    r"^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \| Threads: Python=(?:N/A|\d+) "
    r"System=(?P<system>\d+) \| Fails: Process=(?P<processpool_failed>\d+) "
    r"Thread=(?P<threadpool_failed>\d+) Overload=(?P<overload>\d+) \| Runs: (?P<runs>\d+) \| "
    r"(?:Instances: (?P<instances>.*) \| )?Zone: (?P<zone>\S+) (?P<offset>[+-]\d{4})\s*$"
)
#: One instance of such a sample (``threads=N/A``: none of its runs is going).
MONITOR_HUMAN_INSTANCE = r"^(?P<instance>\S+) threads=(?P<threads>N/A|\d+) "

# --- thread snapshots --------------------------------------------------------------
# Pasted as operators type them: shell prompts and comments, ``date`` lines, and the
# output of ``ps -eLf | wc -l`` (a bare count, host-wide), ``ps -o nlwp <PID>`` (``NLWP``
# then a count per process), ``ps -o pid,nlwp -p <PID>`` (``PID NLWP`` then rows of both)
# and ``python -c "... Active threads: ..."``.

#: A shell prompt (``$ ``, ``# ``, ``user@host:~$ ``, ``[user@host dir]$ ``, a ``> ``
#: continuation, a ``(venv)`` in front) or a comment: the line names a command or context.
SNAPSHOT_PROMPT = (
    r"^\s*(?:\([^)]*\)\s*)?(?:[\w.-]+@[\w.-]+(?::\S*?)?\s*|\[[^\]]*\]\s*|[\w.-]+)?[$#%>](?:\s|$)"
)
#: The header ``ps -o nlwp`` or ``ps -o pid,nlwp`` prints above its rows.
SNAPSHOT_HEADER = r"^\s*(?P<header>(?:PID\s+)?NLWP)\s*$"
SNAPSHOT_ACTIVE = r"^\s*Active threads: (?P<threads>\d+)\s*$"
#: A row of counts: one (``NLWP`` rows, ``wc -l``) or a PID and its count (``PID NLWP`` rows).
SNAPSHOT_ROW = r"^\s*(?:(?P<pid>\d+)\s+)?(?P<number>\d+)\s*$"
#: The instance a file name or a prompt names (``threads_tmp_batt_Xa3k9Q.txt``,
#: ``$(pgrep -f tmp_batt_Xa3k9Q)``, ``# tmp_batt_Xa3k9Q``).
SNAPSHOT_INSTANCE = r"tmp_batt_[A-Za-z0-9]+"
#: A ``ps`` command in a prompt, up to a pipe or the next command ...
SNAPSHOT_PS = r"\bps\s+[^|;&]*"
#: ... and its arguments that are PIDs (``ps -o nlwp 48213``, ``ps -o pid,nlwp -p 48213``).
SNAPSHOT_PS_PID = r"^(?:-p)?(?P<pid>\d+)$"
#: A prompt that runs a thread-count command (``ps ...``, ``threading.active_count()``).
SNAPSHOT_COMMAND = r"\bps\s|active_count\(\)"
#: A PID in a snapshot file's name (``nlwp_pid48213.txt``, ``threads-pid-48213.txt``).
SNAPSHOT_NAME_PID = r"(?i)(?:^|[^a-z])pid[_-]?(\d+)"

# --- family detection ----------------------------------------------------------------

#: run_batt.py's helper prefix at the start of a line: its own output, whatever follows
#: (a line cut short by a kill, a message of a version not seen yet).
HELPER_LINE = r"^[A-Za-z0-9_.-]+\.py:[0-9]+: "

#: Any line the grammar explains in a run log, a console or a monitor log.
LOG_LINE = "|".join(
    f"(?:{pattern})"
    for pattern in (
        HELPER_LINE,
        BULK,
        *(rule.match for rule in RUN_RULES),
        DATE_LINE,
        ROUTINE,
        MONITOR_RECORD,
        MONITOR_CONTINUATION,
        MONITOR_ALERT,
        MONITOR_HEADER,
    )
)
#: A run_card.sh console's ``Running:`` line (with a ``date`` line or run_batt output).
RUNNING_RUN_BATT = r"^Running: .*run_batt"
#: run_batt.py's own lines: prefixed ones, task and progress lines, its messages, the
#: closing line. A phrase elsewhere on a line is quoted, not printed.
RUN_OUTPUT = (
    rf"{HELPER_LINE}|{BULK}|{GPU_LINE}|^\d+ tasks - \d+ timeouts"
    rf"|^{PREFIX}-- (?:System overloaded|ProcessPoolExecutor failed"
    r"|ThreadPoolExecutor also failed|Parallel execution failed)"
)
#: A monitor log's records, or the header its script starts with.
MONITOR_STRUCTURE = rf"{MONITOR_RECORD}|^=== .*{MONITOR_HEADER}"
