"""Discovering and opening inputs: paths, directories, globs and standard input.

Compression is recognised by its magic bytes (not the file name), a plain file is
read only up to the size it had when opened (so a file that grows while it is read
gives a consistent prefix), and every file is fingerprinted on its decompressed
content so that the same log given twice, compressed or renamed, counts once.
"""

from __future__ import annotations

import bz2
import glob
import io
import lzma
import os
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, cast

import xxhash

from poolwatch.errors import PoolwatchError

#: A chunk of input: whole lines (a file's chunks are read in place, into a bytearray).
Chunk = bytes | bytearray
#: Bytes read at a time; chunks handed to the parser end at a line boundary.
CHUNK_BYTES = 16 << 20
#: How much of a file is looked at to tell its family and whether it is text.
SNIFF_BYTES = 64 << 10
#: How far back from a chunk's end its last newline is looked for before it is read.
LINE_PROBE = 64 << 10
#: Share of control bytes (other than tab, CR, LF, ESC, FF, BS) above which a file is binary.
BINARY_CONTROL_SHARE = 0.10
STDIN = "-"
_INFLATE_STEP = 1 << 20

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\x1b\x0c\x08")
#: The control bytes that are not text (counted by deleting them, at C speed).
_CONTROLS = bytes(byte for byte in range(32) if byte not in _TEXT_CONTROLS)


class InputError(PoolwatchError):
    """An input the user gave cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Source:
    """One input to read: a file on disk or standard input."""

    name: str
    path: Path | None = None

    @property
    def is_stdin(self) -> bool:
        """Whether this source is standard input."""
        return self.path is None

    @property
    def label(self) -> str:
        """How tables and messages name this source."""
        return "<stdin>" if self.is_stdin else self.name


@dataclass(frozen=True)
class Skipped:
    """An input that was not read, and why."""

    path: str
    reason: str


@dataclass
class Discovery:
    """What the user's paths expanded to."""

    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    same_file: list[tuple[str, str]] = field(default_factory=list)
    """Pairs (path, first path) of one file on disk reached twice (overlapping globs)."""


def discover(paths: Sequence[str]) -> Discovery:
    """Expand files, directories (recursively), globs and ``-`` into sources, in order."""
    found = Discovery()
    seen: dict[tuple[int, int], str] = {}
    for given in paths:
        if given == STDIN:
            found.sources.append(Source(STDIN))
            continue
        files = _expand(given)
        if files is None:
            found.skipped.append(Skipped(given, "no such file, directory or glob match"))
        for path in files or ():
            _add_file(found, seen, path)
    return found


def _expand(given: str) -> list[Path] | None:
    """Files one user path stands for, or None when it names nothing."""
    path = Path(given)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.exists():
        return [path]
    matches = sorted(glob.glob(given, recursive=True))  # noqa: PTH207 (absolute patterns)
    if not matches:
        return None
    out: list[Path] = []
    for match in map(Path, matches):
        out.extend(_expand(str(match)) or [] if match.is_dir() else [match])
    return out


def _add_file(found: Discovery, seen: dict[tuple[int, int], str], path: Path) -> None:
    """Record one file, once per inode."""
    try:
        info = path.stat()
    except OSError as err:
        found.skipped.append(Skipped(str(path), _os_reason(err)))
        return
    key = (info.st_dev, info.st_ino)
    if key in seen:
        found.same_file.append((str(path), seen[key]))
        return
    seen[key] = str(path)
    found.sources.append(Source(str(path), path))


def _os_reason(err: OSError) -> str:
    """A short reason for an operating-system error, without the path."""
    return (err.strerror or type(err).__name__).lower()


@dataclass
class Reading:
    """Facts gathered while one source is read."""

    bytes_read: int = 0
    compressed: str | None = None
    truncated_stream: bool = False
    grew: bool = False
    last_line_cut: bool = False
    mtime: float | None = None
    digest: str = ""


class Reader:
    """Reads one source as line-aligned byte chunks, fingerprinting as it goes."""

    def __init__(self, source: Source, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.source = source
        self.chunk_bytes = chunk_bytes
        self.facts = Reading()
        self._hash = xxhash.xxh3_128()
        self._raw: BinaryIO | None = None
        self._stream: BinaryIO | None = None
        self._inflater: _Inflater | None = None
        self._limit: int | None = None
        self._raw_file: io.BufferedReader | None = None

    def __enter__(self) -> Reader:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._raw is not None and self._raw is not sys.stdin.buffer:
            self._raw.close()

    def _open(self) -> None:
        """Open the file (or stdin) and wrap it in a decompressor if its magic says so."""
        if self.source.path is None:
            self._raw = sys.stdin.buffer
        else:
            try:
                self._raw = self._raw_file = self.source.path.open("rb")
                info = os.fstat(self._raw.fileno())
            except OSError as err:
                raise InputError(_os_reason(err)) from err
            self._limit = info.st_size
            self.facts.mtime = info.st_mtime
        head = self._peek(8)
        for magic, name in _MAGIC:
            if head.startswith(magic):
                self.facts.compressed = name
                self._limit = None
                self._inflater = _Inflater(name, self._raw)
                return
        self._stream = self._raw

    def _peek(self, size: int) -> bytes:
        """The first bytes of the raw input, without consuming them."""
        assert self._raw is not None
        if self._raw.seekable():
            head = self._raw.read(size)
            self._raw.seek(0)
            return head
        buffered = _Prepend(self._raw)
        self._raw = cast(BinaryIO, buffered)
        return buffered.peek(size)

    def _read(self, size: int) -> bytes:
        """Read up to ``size`` decompressed bytes, stopping at the size seen at open."""
        if self._limit is not None:
            size = min(size, self._limit - self.facts.bytes_read)
            if size <= 0:
                return b""
        data = self._read_plain(size) if self.facts.compressed is None else self._inflate(size)
        self.facts.bytes_read += len(data)
        self._hash.update(data)
        return data

    def _read_plain(self, size: int) -> bytes:
        """Read from an uncompressed input."""
        assert self._stream is not None
        try:
            return self._stream.read(size)
        except OSError as err:
            raise InputError(_os_reason(err)) from err

    def _inflate(self, size: int) -> bytes:
        """Decompress about ``size`` bytes, keeping what precedes a corrupt or cut end."""
        assert self._inflater is not None
        data = self._inflater.read(size)
        self.facts.truncated_stream = self._inflater.truncated
        return data

    def chunks(self) -> Iterator[Chunk]:
        """Yield the content as chunks that each end with a newline (but maybe the last)."""
        if self.facts.compressed is None and self._stream is self._raw_file:
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
            raise InputError(_os_reason(err)) from err
        found = tail.rfind(b"\n")
        return size if found < 0 else size - len(tail) + found + 1

    def _finish(self) -> None:
        """Record the fingerprint and whether the file grew while it was read."""
        self.facts.digest = self._hash.hexdigest()
        if self.source.path is not None and self._limit is not None:
            try:
                self.facts.grew = self.source.path.stat().st_size > self._limit
            except OSError:
                self.facts.grew = False


class _Inflater:
    """Incremental decompression that keeps every byte before a cut or corrupt end.

    The file-object decompressors of the standard library raise on a truncated
    stream and lose the block they were decoding; a rotated log cut short by a crash
    should still give its readable part.
    """

    def __init__(self, name: str, raw: BinaryIO) -> None:
        self._name = name
        self._raw = raw
        self._engine = self._new()
        self.truncated = False

    def _new(self) -> _Engine:
        """A fresh decompressor (one per gzip member or xz/bzip2 stream)."""
        if self._name == "gzip":
            return cast(_Engine, zlib.decompressobj(wbits=zlib.MAX_WBITS | 16))
        if self._name == "bzip2":
            return cast(_Engine, bz2.BZ2Decompressor())
        return cast(_Engine, lzma.LZMADecompressor())

    def read(self, size: int) -> bytes:
        """At least some decompressed bytes (about ``size``), or b"" at the end."""
        out: list[bytes] = []
        got = 0
        while got < size:
            block = self._raw.read(_INFLATE_STEP)
            if not block:
                self.truncated = not self._engine.eof
                break
            piece = self._feed(block)
            out.append(piece)
            got += len(piece)
        return b"".join(out)

    def _feed(self, block: bytes) -> bytes:
        """Decompress one raw block, starting new members where one ends."""
        pieces: list[bytes] = []
        while block:
            try:
                pieces.append(self._engine.decompress(block))
            except (zlib.error, OSError, EOFError, lzma.LZMAError):
                self.truncated = True
                self._raw = io.BytesIO()
                break
            block = self._engine.unused_data if self._engine.eof else b""
            if block:
                self._engine = self._new()
        return b"".join(pieces)


class _Engine(Protocol):
    """What zlib, bz2 and lzma decompressor objects have in common."""

    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes) -> bytes:
        """Decompress a block."""
        ...


class _Prepend:
    """A non-seekable stream with a peek that does not consume (for stdin)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._head = b""

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

    def close(self) -> None:
        """Standard input is not ours to close."""


def binary_reason(head: Chunk) -> str | None:
    """Why a file's first bytes are not a text log, or None when they look like text."""
    sample = head[:SNIFF_BYTES]
    if b"\x00" in sample[:8192]:
        return "binary data (NUL bytes near the start)"
    controls = len(sample) - len(bytes(sample).translate(None, _CONTROLS))
    if sample and controls / len(sample) > BINARY_CONTROL_SHARE:
        return f"binary data ({controls / len(sample):.0%} control bytes near the start)"
    return None
