"""Decompressing gzip, bzip2 and xz incrementally, keeping everything before damage.

The file-object decompressors of the standard library raise on a cut or corrupt
stream and lose the block they were decoding: a rotated log with one bad byte near
its end would give nothing. Here a stream cut short gives all it decoded, and at a
corrupt byte the stream is decoded again up to just before it (when the input can be
read again), so that what is kept is what ``zcat`` or ``xzcat`` prints before they
stop.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import BinaryIO, Protocol, cast

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
#: Compressed bytes read at a time.
STEP = 1 << 20
#: Compressed bytes fed at a time while the bytes before a corrupt one are looked for.
_PROBE = 4096
_ERRORS = (zlib.error, OSError, EOFError, lzma.LZMAError)


class _Engine(Protocol):
    """What zlib, bz2 and lzma decompressor objects have in common."""

    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes) -> bytes:
        """Decompress a block."""
        ...


def compression(head: bytes) -> str | None:
    """The compression a file's first bytes announce, if any."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return None


class Inflater:
    """Decompresses one input; ``truncated`` and ``damage`` say how it ended early."""

    def __init__(self, name: str, raw: BinaryIO) -> None:
        self._name = name
        self._raw = raw
        self._engine = self._new()
        self._offset = 0
        """Compressed bytes read so far."""
        self._stream_start = 0
        """Where the current gzip member or xz/bzip2 stream starts in the input."""
        self._stopped = False
        self.truncated = False
        self.damage: str | None = None
        """The decoder's error at a corrupt byte (decoding stops there)."""

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
        while got < size and not self._stopped:
            block = self._raw.read(STEP)
            if not block:
                self.truncated = not self._engine.eof
                self._stopped = True
                break
            piece = self._feed(block)
            out.append(piece)
            got += len(piece)
        return b"".join(out)

    def _feed(self, block: bytes) -> bytes:
        """Decompress one compressed block, starting new members where one ends."""
        pieces: list[bytes] = []
        start = self._offset
        self._offset += len(block)
        while block:
            try:
                pieces.append(self._engine.decompress(block))
            except _ERRORS as err:
                self.damage = _message(err)
                self._stopped = True
                pieces.append(self._before_damage(start, block))
                break
            block = self._engine.unused_data if self._engine.eof else b""
            if block:
                start = self._offset - len(block)
                self._stream_start = start
                self._engine = self._new()
        return b"".join(pieces)

    def _before_damage(self, start: int, block: bytes) -> bytes:
        """What ``block`` (compressed bytes from ``start``) gives before its corrupt byte.

        A decoder that raises loses what it decoded in that call, and cannot go back:
        the stream is decoded again to the block's start, then the block a few bytes,
        and at last one byte, at a time. Only possible when the input can be read again.
        """
        if not self._raw.seekable():
            return b""
        out: list[bytes] = []
        for step in (_PROBE, 1):
            engine = self._replayed(start)
            good, decoded = _feed_until_error(engine, block, step)
            out.append(decoded)
            start, block = start + good, block[good : good + step]
        return b"".join(out)

    def _replayed(self, until: int) -> _Engine:
        """A decoder fed the current stream's bytes up to ``until`` (their output dropped)."""
        engine = self._new()
        self._raw.seek(self._stream_start)
        left = until - self._stream_start
        while left > 0:
            block = self._raw.read(min(STEP, left))
            engine.decompress(block)
            left -= len(block)
        return engine


def _feed_until_error(engine: _Engine, block: bytes, step: int) -> tuple[int, bytes]:
    """Feed ``block`` ``step`` bytes at a time until the decoder raises: how many bytes
    went in before the piece that failed, and what they gave."""
    out: list[bytes] = []
    for at in range(0, len(block), step):
        try:
            out.append(engine.decompress(block[at : at + step]))
        except _ERRORS:
            return at, b"".join(out)
        if engine.eof:
            break
    return len(block), b"".join(out)


def _message(err: Exception) -> str:
    """A decoder's error without zlib's ``Error -3 while decompressing data:`` prefix."""
    return str(err).rsplit(": ", 1)[-1] or type(err).__name__
