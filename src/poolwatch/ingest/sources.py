"""Opening and reading inputs: files, FIFOs and pipes given directly, standard input.

Compression is recognised by its magic bytes (not the file name). A plain file is
read only up to the size it had when opened (so a file that grows while it is read
gives a consistent prefix); one that shrinks (``tee`` truncating it for a new run) is
read up to where the shrinking was seen, and flagged. A FIFO or pipe has no size: it
is read to its end (a FIFO that nothing writes to is given up on after a short wait).
Leading NUL bytes, which ``copytruncate`` rotation leaves, are passed over. Every
input is fingerprinted on its decompressed content so that the same log given twice,
compressed or renamed, counts once.
"""

from __future__ import annotations

import io
import os
import select
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

import xxhash

from poolwatch.errors import PoolwatchError
from poolwatch.ingest.discover import Source, kind_reason, os_reason
from poolwatch.ingest.inflate import Inflater, compression
from poolwatch.ingest.remote import open_object

#: A chunk of input: whole lines (a file's chunks are read in place, into a bytearray).
Chunk = bytes | bytearray
#: Bytes read at a time; chunks handed to the parser end at a line boundary.
CHUNK_BYTES = 16 << 20
#: How much of a file is looked at, at least, to tell its family and whether it is text.
SNIFF_BYTES = 64 << 10
#: Lines the family is told from, at least: the look goes past SNIFF_BYTES to see them
#: (a first line that is a 100 KB progress bar), up to SNIFF_MAX_BYTES.
SNIFF_LINES = 100
SNIFF_MAX_BYTES = 1 << 20
#: How far back from a chunk's end its last newline is looked for before it is read.
LINE_PROBE = 64 << 10
#: Share of control bytes (other than tab, CR, LF, ESC, FF, BS) above which a file is binary.
BINARY_CONTROL_SHARE = 0.10
#: Seconds a FIFO given directly is waited on for a process to write to it.
FIFO_WAIT_SECONDS = 2.0
_PIPE_READ = 1 << 16

_TEXT_CONTROLS = frozenset(b"\t\n\r\x1b\x0c\x08")
#: The control bytes that are not text (counted by deleting them, at C speed).
_CONTROLS = bytes(byte for byte in range(32) if byte not in _TEXT_CONTROLS)


class InputError(PoolwatchError):
    """An input the user gave cannot be used; the message names it and says why."""


@dataclass
class Reading:
    """Facts gathered while one source is read."""

    bytes_read: int = 0
    compressed: str | None = None
    truncated_stream: bool = False
    damage: str | None = None
    """The decoder's error where a compressed stream is corrupt (read up to there)."""
    leading_nuls: int = 0
    grew: bool = False
    shrank: bool = False
    last_line_cut: bool = False
    mtime: float | None = None
    digest: str = ""

    def notes(self) -> list[str]:
        """What went wrong while a file was read, or what was passed over, in words."""
        notes: list[str] = []
        if self.leading_nuls:
            notes.append(
                f"began with {self.leading_nuls:,} NUL bytes (what copytruncate leaves): "
                "passed over"
            )
        if self.damage is not None:
            notes.append(
                f"{self.compressed} data damaged ({self.damage}): "
                f"read the {self.bytes_read:,} bytes before the damage"
            )
        elif self.truncated_stream:
            notes.append(
                f"{self.compressed} stream cut short: read its first {self.bytes_read:,} bytes"
            )
        if self.shrank:
            notes.append(
                "shrank while it was read (truncated for a new run?): "
                f"read its first {self.bytes_read:,} bytes"
            )
        return notes

    def nothing_read(self) -> str:
        """Why a file gave no line at all."""
        if self.damage is not None:
            return (
                f"{self.compressed} data damaged ({self.damage}): "
                "nothing before the damage could be decompressed"
            )
        if self.truncated_stream:
            return (
                f"{self.compressed} stream cut short: nothing before the cut could be decompressed"
            )
        if self.leading_nuls:
            return f"only NUL bytes ({self.leading_nuls:,}; a log truncated while written?)"
        return "empty file"


class Reader:
    """Reads one source as line-aligned byte chunks, fingerprinting as it goes."""

    def __init__(self, source: Source, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.source = source
        self.chunk_bytes = chunk_bytes
        self.facts = Reading()
        self._hash = xxhash.xxh3_128()
        self._owned: BinaryIO | None = None
        """The file opened (closed on exit; standard input is not ours to close)."""
        self._raw: BinaryIO | None = None
        self._stream: BinaryIO | None = None
        self._inflater: Inflater | None = None
        self._limit: int | None = None
        """The size of a plain file when opened: it is read no further."""
        self._raw_file: io.BufferedReader | None = None
        """A regular file (seekable, with a size)."""
        self._size = 0
        self._leading = True

    def __enter__(self) -> Reader:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()

    def _open(self) -> None:
        """Open the file (or stdin) and wrap it in a decompressor if its magic says so."""
        if self.source.url is not None:
            self._raw = self._open_url(self.source.url)
        elif self.source.path is None:
            self._raw = sys.stdin.buffer
        else:
            self._raw = self._open_path()
        head = self._peek(8)
        self.facts.compressed = compression(head)
        if self.facts.compressed is not None:
            self._limit = None
            self._inflater = Inflater(self.facts.compressed, self._raw)
            return
        self._stream = self._raw

    def _open_path(self) -> BinaryIO:
        """Open a file without blocking, and check it is still a kind that is read."""
        assert self.source.path is not None
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        try:
            fd = os.open(self.source.path, flags)
        except OSError as err:
            raise InputError(os_reason(err)) from err
        try:
            info = os.fstat(fd)
            reason = kind_reason(info.st_mode, self.source.found)
            if reason is not None:
                raise InputError(reason)
            if stat.S_ISFIFO(info.st_mode):
                return self._open_pipe(fd)
        except BaseException:
            os.close(fd)
            raise
        self._owned = self._raw_file = os.fdopen(fd, "rb")
        self._limit = self._size = info.st_size
        self.facts.mtime = info.st_mtime
        return self._raw_file

    def _open_url(self, url: str) -> BinaryIO:
        """Open an object in a store, read up to the size it had when opened."""
        try:
            opened = open_object(url)
        except OSError as err:
            raise InputError(str(err) if err.strerror is None else os_reason(err)) from err
        self._owned = opened.file
        self._limit = opened.size
        self.facts.mtime = opened.mtime
        return opened.file

    def _open_pipe(self, fd: int) -> BinaryIO:
        """A FIFO or pipe, once something writes to it, read with blocking reads."""
        first = _first_bytes(fd)
        if first is None:
            raise InputError(
                f"a FIFO that nothing writes to (waited {FIFO_WAIT_SECONDS:g} s): not read"
            )
        os.set_blocking(fd, True)
        self._owned = os.fdopen(fd, "rb")
        return cast(BinaryIO, _Prepend(self._owned, first))

    def _peek(self, size: int) -> bytes:
        """The first bytes of the raw input, without consuming them."""
        assert self._raw is not None
        if self._raw.seekable():
            head = self._raw.read(size)
            self._raw.seek(0)
            return head
        buffered = self._raw if isinstance(self._raw, _Prepend) else _Prepend(self._raw)
        self._raw = cast(BinaryIO, buffered)
        return buffered.peek(size)

    def _read(self, size: int) -> bytes:
        """Read up to ``size`` decompressed bytes, stopping at the size seen at open or
        where the file was seen to shrink, and passing over leading NUL bytes."""
        while True:
            if self._limit is not None:
                size = min(size, self._limit - self.facts.bytes_read)
                if size <= 0:
                    return b""
            data = self._read_plain(size) if self._inflater is None else self._inflate(size)
            if data and self._shrunk():
                return b""  # possibly bytes of what replaced the file: not kept
            self.facts.bytes_read += len(data)
            self._hash.update(data)
            if not self._leading or not data:
                return data
            kept = data.lstrip(b"\x00")
            self.facts.leading_nuls += len(data) - len(kept)
            if kept:
                self._leading = False
                return kept

    def _shrunk(self) -> bool:
        """Whether the file is now shorter than when opened (then reading stops)."""
        if self._raw_file is None or self.facts.shrank:
            return self.facts.shrank
        try:
            self.facts.shrank = os.fstat(self._raw_file.fileno()).st_size < self._size
        except OSError:
            self.facts.shrank = True
        return self.facts.shrank

    def _read_plain(self, size: int) -> bytes:
        """Read from an uncompressed input."""
        assert self._stream is not None
        try:
            return self._stream.read(size)
        except OSError as err:
            raise InputError(os_reason(err)) from err

    def _inflate(self, size: int) -> bytes:
        """Decompress about ``size`` bytes, keeping what precedes a corrupt or cut end."""
        assert self._inflater is not None
        try:
            data = self._inflater.read(size)
        except OSError as err:
            raise InputError(os_reason(err)) from err
        self.facts.truncated_stream = self._inflater.truncated
        self.facts.damage = self._inflater.damage
        return data

    def chunks(self) -> Iterator[Chunk]:
        """Yield the content as chunks that each end with a newline (but maybe the last)."""
        if self._inflater is None and self._stream is self._raw_file:
            yield from self._chunks_in_place()
            return
        carry = b""
        while True:
            data = self._read(self.chunk_bytes)
            if not data:
                break
            data = carry + data if carry else data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut]
        self.facts.last_line_cut = bool(carry)
        if carry:
            yield carry
        self._finish()

    def _chunks_in_place(self) -> Iterator[Chunk]:
        """``chunks`` of a file on disk, each read whole into bytes of its own.

        Where a chunk's last newline falls is found first, by reading its last bytes,
        so that the chunk is read to exactly there: the cut line is not carried over
        and copied in front of the next chunk, and no buffer is zeroed beforehand (a
        16 MiB buffer takes thousands of page faults while the interpreter is locked,
        which stalls the scanning threads; ``read`` takes them with it unlocked).
        """
        assert self._raw_file is not None and self._limit is not None
        carry = b""
        while True:
            size = min(self.chunk_bytes, self._limit - self.facts.bytes_read)
            if size <= 0:
                break
            if size < self._limit - self.facts.bytes_read:
                size = self._to_last_newline(size)
            data = self._read(size)
            if not data:
                break
            if carry:
                data, carry = carry + data, b""
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            if cut < len(data):  # no newline near the end: a very long line
                data, carry = data[:cut], data[cut:]
            yield data
        self.facts.last_line_cut = bool(carry)
        if carry:
            yield carry
        self._finish()

    def _to_last_newline(self, size: int) -> int:
        """How much to read for the next chunk to end with the last newline of its
        ``size`` bytes (``size`` when its last ``LINE_PROBE`` bytes have none)."""
        assert self._raw_file is not None
        start = self._raw_file.tell()
        probe = min(LINE_PROBE, size)
        try:
            self._raw_file.seek(start + size - probe)
            tail = self._raw_file.read(probe)
            self._raw_file.seek(start)
        except OSError as err:
            raise InputError(os_reason(err)) from err
        found = tail.rfind(b"\n")
        return size if found < 0 else size - len(tail) + found + 1

    def _finish(self) -> None:
        """Record the fingerprint and whether the file grew or shrank while it was read."""
        self.facts.digest = self._hash.hexdigest()
        if self._raw_file is not None and self._limit is not None:
            try:
                size = os.fstat(self._raw_file.fileno()).st_size
            except OSError:
                return
            self.facts.grew = size > self._limit and not self.facts.shrank
            self.facts.shrank = self.facts.shrank or size < self._limit


def _first_bytes(fd: int) -> bytes | None:
    """The first bytes of a FIFO or pipe opened without blocking: b"" when a writer is
    there but has written nothing yet, None when no process writes to it in
    ``FIFO_WAIT_SECONDS``."""
    deadline = time.monotonic() + FIFO_WAIT_SECONDS
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    woken = False
    while True:
        try:
            data = os.read(fd, _PIPE_READ)
        except BlockingIOError:
            return b""  # a writer holds it open
        if data or woken:
            return data  # b"" once woken: a writer came and left without writing
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        # Until a writer writes, or leaves, or the time is up.
        woken = bool(poller.poll(left * 1000))


class _Prepend:
    """A non-seekable stream with a peek that does not consume (stdin, pipes)."""

    def __init__(self, raw: BinaryIO, head: bytes = b"") -> None:
        self._raw = raw
        self._head = head

    def peek(self, size: int) -> bytes:
        """Look at up to ``size`` first bytes."""
        while len(self._head) < size:
            more = self._raw.read(size - len(self._head))
            if not more:
                break
            self._head += more
        return self._head

    def read(self, size: int = -1) -> bytes:
        """Read, serving peeked bytes first."""
        if self._head:
            head, self._head = self._head[:size], self._head[size:]
            if size < 0 or len(head) == size:
                return head + (self._raw.read() if size < 0 else b"")
            return head + self._raw.read(size - len(head))
        return self._raw.read(size)

    def seekable(self) -> bool:
        """Never seekable."""
        return False


def sniffed_enough(head: list[Chunk]) -> bool:
    """Whether a file's first chunks hold what its family is told from (``sniff``)."""
    size = sum(map(len, head))
    if size < SNIFF_BYTES:
        return False
    return size >= SNIFF_MAX_BYTES or _prefix(head, SNIFF_MAX_BYTES).count(b"\n") >= SNIFF_LINES


def sniff(head: list[Chunk]) -> bytes:
    """The bytes a file's family is told from: its first ``SNIFF_BYTES``, or more, to the
    end of its ``SNIFF_LINES``-th line, when those are longer (at most ``SNIFF_MAX_BYTES``)."""
    data = _prefix(head, SNIFF_MAX_BYTES)
    end = -1
    for _ in range(SNIFF_LINES):
        end = data.find(b"\n", end + 1)
        if end < 0:
            end = len(data)
            break
    return data[: max(SNIFF_BYTES, end + 1)]


def _prefix(chunks: list[Chunk], size: int) -> bytes:
    """The first ``size`` bytes of some chunks."""
    out: list[bytes] = []
    left = size
    for chunk in chunks:
        out.append(bytes(chunk[:left]))
        left -= len(out[-1])
        if left <= 0:
            break
    return b"".join(out)


def binary_reason(head: Chunk) -> str | None:
    """Why a file's first bytes are not a text log, or None when they look like text."""
    sample = head[:SNIFF_BYTES]
    if b"\x00" in sample[:8192]:
        return "binary data (NUL bytes near the start)"
    controls = len(sample) - len(bytes(sample).translate(None, _CONTROLS))
    if sample and controls / len(sample) > BINARY_CONTROL_SHARE:
        return f"binary data ({controls / len(sample):.0%} control bytes near the start)"
    return None
