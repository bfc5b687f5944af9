# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled loop of ``linescan``: see that module for what it recognises and why.

Each function below is one piece of ``grammar.BULK``, in the same order. Positions are
byte offsets into the chunk; every check stops at the chunk's end (``size``), and a
line's newline matches none of the characters looked for, so a piece never runs past
the end of its line.
"""

from libc.string cimport memchr

import numpy as np

# ``[A-Za-z0-9_.-]``: the characters of the helper prefix's file name; ``[0-9a-f]``.
cdef bint NAME[256]
cdef bint HEX[256]


cdef void mark(bint* table, const unsigned char[:] members):
    """Set each byte of ``members`` in ``table``."""
    cdef Py_ssize_t k
    for k in range(members.shape[0]):
        table[members[k]] = True


mark(NAME, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
mark(HEX, b"0123456789abcdef")

# What follows a task line's index: a routine line, a start, a done line (0: none).
cdef enum:
    ROUTINE = 1
    START = 2
    DONE = 3
    # The most digits an Int32 field is read from; longer numbers are null.
    MAX_DIGITS = 10

cdef long long INT32_MAX = 2147483647


cdef inline bint is_at(const unsigned char* d, Py_ssize_t at, Py_ssize_t size,
                       const char* literal, Py_ssize_t length) noexcept nogil:
    """Whether ``literal`` is at ``at``, wholly before ``size``."""
    cdef Py_ssize_t k
    if at + length > size:
        return False
    for k in range(length):  # unrolled where inlined: the lengths are constants
        if d[at + k] != <unsigned char>literal[k]:
            return False
    return True


cdef inline bint ends_at(const unsigned char* d, Py_ssize_t at, Py_ssize_t size) noexcept nogil:
    """Whether the line ends (its newline) at ``at``."""
    return at < size and d[at] == 10


cdef inline Py_ssize_t digits(const unsigned char* d, Py_ssize_t at,
                              Py_ssize_t size) noexcept nogil:
    """Where the run of ASCII digits starting at ``at`` ends."""
    while at < size and 48 <= d[at] <= 57:
        at += 1
    return at


cdef inline int number(const unsigned char* d, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """The digits in ``[start, stop)`` as a non-negative Int32; -1 when too long or big."""
    cdef long long value = 0
    cdef Py_ssize_t at
    if stop - start > MAX_DIGITS:
        return -1
    for at in range(start, stop):
        value = value * 10 + (d[at] - 48)
    return <int>value if value <= INT32_MAX else -1


cdef inline bint task_id(const unsigned char* d, Py_ssize_t at, Py_ssize_t size) noexcept nogil:
    """Whether eight lowercase hex digits are at ``at``."""
    cdef Py_ssize_t k
    if at + 8 > size:
        return False
    for k in range(8):
        if not HEX[d[at + k]]:
            return False
    return True


cdef inline Py_ssize_t body(const unsigned char* d, Py_ssize_t start,
                            Py_ssize_t size) noexcept nogil:
    """Where a line's message starts: after its ``file.py:<line>: `` prefix when it has
    one (``PREFIX``), else at its start.

    The name's characters exclude ``:`` and the space, so a prefix ends at the first
    ``: `` after the name's first ``:``; and no message looked for can start at the
    start of a line that has a prefix.
    """
    cdef Py_ssize_t at = start, stop
    while at < size and NAME[d[at]]:
        at += 1
    if at - start < 4 or at >= size or d[at] != 58 or not is_at(d, at - 3, size, b".py", 3):
        return start
    stop = digits(d, at + 1, size)
    if stop == at + 1 or not is_at(d, stop, size, b": ", 2):
        return start
    return stop + 2


cdef inline Py_ssize_t progress_end(const unsigned char* d, Py_ssize_t at,
                                    Py_ssize_t size) noexcept nogil:
    """The line's newline when ``(?:demo|test)\\[[0-9]+\\] - <tid> - [0-9]+`` runs from
    ``at`` to it; -1 otherwise."""
    cdef Py_ssize_t index, count
    if not (is_at(d, at, size, b"demo[", 5) or is_at(d, at, size, b"test[", 5)):
        return -1
    index = digits(d, at + 5, size)
    if index == at + 5 or not is_at(d, index, size, b"] - ", 4):
        return -1
    if not task_id(d, index + 4, size) or not is_at(d, index + 12, size, b" - ", 3):
        return -1
    count = digits(d, index + 15, size)
    if count == index + 15 or not ends_at(d, count, size):
        return -1
    return count


cdef struct Task:
    int kind        # 0 (not a task line), ROUTINE, START or DONE
    Py_ssize_t first, stop  # the index's digits
    Py_ssize_t count        # where a done line's count starts
    Py_ssize_t end          # the line's newline; -1 when not known yet


cdef inline Task task_line(const unsigned char* d, Py_ssize_t at, Py_ssize_t size) noexcept nogil:
    """``-- <tid> - [0-9]+ (?:start --|--|scored --|done - [0-9]+ candidates scored)$``
    or ``-- Demo\\+Test scoring: `` from ``at``."""
    cdef Task found
    cdef Py_ssize_t rest, count
    found.kind = 0
    found.end = -1
    if not is_at(d, at, size, b"-- ", 3):
        return found
    if is_at(d, at + 3, size, b"Demo+Test scoring: ", 19):
        found.kind = ROUTINE
        return found
    if not task_id(d, at + 3, size) or not is_at(d, at + 11, size, b" - ", 3):
        return found
    found.first = at + 14
    found.stop = digits(d, found.first, size)
    if found.stop == found.first or not is_at(d, found.stop, size, b" ", 1):
        return found
    rest = found.stop + 1
    if is_at(d, rest, size, b"start --", 8) and ends_at(d, rest + 8, size):
        found.kind, found.end = START, rest + 8
    elif is_at(d, rest, size, b"--", 2) and ends_at(d, rest + 2, size):
        found.kind, found.end = ROUTINE, rest + 2
    elif is_at(d, rest, size, b"scored --", 9) and ends_at(d, rest + 9, size):
        found.kind, found.end = ROUTINE, rest + 9
    elif is_at(d, rest, size, b"done - ", 7):
        count = digits(d, rest + 7, size)
        if (count > rest + 7 and is_at(d, count, size, b" candidates scored", 18)
                and ends_at(d, count + 18, size)):
            found.kind, found.end, found.count = DONE, count + 18, rest + 7
    return found


cdef Py_ssize_t count_lines(const unsigned char* d, Py_ssize_t size) noexcept nogil:
    """How many newlines there are (a loop the compiler vectorises)."""
    cdef Py_ssize_t lines = 0, at
    for at in range(size):
        lines += d[at] == 10
    return lines


def scan(const unsigned char[::1] data not None):
    """Sort out the lines of newline-terminated bytes: see ``linescan.Scanned``."""
    cdef Py_ssize_t size = data.shape[0]
    cdef Py_ssize_t lines = count_lines(&data[0], size) if size else 0
    rare_line = np.empty(lines, np.uint32)
    rare_prog = np.empty(lines, np.uint32)
    rare_ends = np.empty(lines, np.int64)
    rare_text = np.empty(size, np.uint8)
    task_line_ = np.empty(lines, np.uint32)
    task_prog = np.empty(lines, np.uint32)
    task_done = np.empty(lines, np.bool_)
    task_ids = np.empty((lines, 8), np.uint8)
    task_index = np.empty(lines, np.int32)
    task_count = np.empty(lines, np.int32)
    cdef unsigned int[::1] r_line = rare_line, r_prog = rare_prog, t_line = task_line_
    cdef unsigned int[::1] t_prog = task_prog
    cdef long long[::1] r_ends = rare_ends
    cdef unsigned char[::1] r_text = rare_text
    cdef unsigned char[:, ::1] t_ids = task_ids
    cdef int[::1] t_index = task_index, t_count = task_count
    cdef unsigned char[::1] t_done = task_done.view(np.uint8)
    cdef Py_ssize_t rare = 0, tasks = 0, used = 0, start = 0, end, message, k
    cdef unsigned int line = 0, progress = 0
    cdef const unsigned char* d = &data[0] if size else NULL
    cdef Task found
    with nogil:
        while start < size:
            line += 1
            message = body(d, start, size)
            end = progress_end(d, message, size)
            if end >= 0:
                progress += 1
                start = end + 1
                continue
            found = task_line(d, message, size)
            end = found.end
            if end < 0:
                end = <Py_ssize_t>(<const unsigned char*>memchr(d + message, 10, size - message) - d)
            if found.kind == 0:
                r_line[rare] = line
                r_prog[rare] = progress
                for k in range(start, end):
                    r_text[used] = d[k]
                    used += 1
                r_ends[rare] = used
                rare += 1
            elif found.kind != ROUTINE:
                t_line[tasks] = line
                t_prog[tasks] = progress
                t_done[tasks] = found.kind == DONE
                for k in range(8):
                    t_ids[tasks, k] = d[message + 3 + k]
                t_index[tasks] = number(d, found.first, found.stop)
                t_count[tasks] = number(d, found.count, end - 18) if found.kind == DONE else -1
                tasks += 1
            start = end + 1
    return (
        int(line),
        int(progress),
        rare_line[:rare].copy(),
        rare_prog[:rare].copy(),
        rare_text[:used].copy(),
        rare_ends[:rare].copy(),
        task_line_[:tasks].copy(),
        task_prog[:tasks].copy(),
        task_done[:tasks].copy(),
        task_ids[:tasks].copy(),
        task_index[:tasks].copy(),
        task_count[:tasks].copy(),
    )
