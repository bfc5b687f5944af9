"""What the user's paths stand for: files, directories (walked), globs and ``-``.

Directories and globs give their regular files; a FIFO, socket, device or dangling
link found there is listed as skipped, with what it is, and never opened (a FIFO that
nothing writes to would block its reader forever). Given directly, a FIFO or a pipe
(``<(zcat x.gz)``) is an input like any other, read to its end. A name is kept as the
operating system gives it (undecodable bytes as surrogates, so the file opens by its
own bytes) and shown escaped (``Source.label``) in tables and messages.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from poolwatch.errors import shown
from poolwatch.ingest.hosts import NO_HOST, HostPattern, hosts_below
from poolwatch.ingest.remote import expand, is_url

STDIN = "-"
STDIN_LABEL = "<stdin>"

#: How a source was reached: named by the user, found walking a directory, or by a glob.
Found = Literal["given", "directory", "glob"]

_GLOB = re.compile(r"[*?\[]")
_FOUND_IN = {"directory": "found in a directory", "glob": "matched by a glob"}
DEVICE = "a character device (such as /dev/null or a terminal), not a file: not read"
_KINDS = {
    stat.S_IFCHR: DEVICE,
    stat.S_IFBLK: "a block device, not a file: not read",
    stat.S_IFSOCK: "a socket, not a file: not read",
    stat.S_IFDIR: "a symbolic link to a directory: not followed",
}


@dataclass(frozen=True)
class Source:
    """One input to read: a file on disk, a FIFO or pipe given directly, or standard input."""

    name: str
    path: Path | None = None
    found: Found = "given"
    stream: bool = False
    """A FIFO or a pipe: read to its end, and only once."""
    url: str | None = None
    """An object in a store (``s3://bucket/key``), read through fsspec (``remote``)."""
    size: int | None = None
    """Its size in bytes when listed (an object's), for sharing work out."""
    host: str = NO_HOST
    """The host its path names (``ingest.hosts``; ``""``: none)."""

    @property
    def is_stdin(self) -> bool:
        """Whether this source is standard input."""
        return self.path is None and self.url is None

    @property
    def label(self) -> str:
        """How tables and messages name this source: its name, control characters and
        undecodable bytes escaped (``\\n``, ``\\x1b``, ``\\xff``)."""
        return STDIN_LABEL if self.is_stdin else shown(self.name)

    @property
    def rereadable(self) -> Path | str | None:
        """Where the source can be read again (for excerpts): a path, an object's URL, or
        None for pipes and stdin."""
        return None if self.stream else (self.url or self.path)


@dataclass(frozen=True)
class Skipped:
    """An input that was not read, and why."""

    path: str
    reason: str
    host: str = NO_HOST


@dataclass(frozen=True)
class SameFile:
    """A file on disk reached a second time (overlapping globs), and its first path."""

    path: str
    first: str
    host: str = NO_HOST


@dataclass
class Discovery:
    """What the user's paths expanded to."""

    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    same_file: list[SameFile] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    """A path found, with what ``stat`` says of it (or why it cannot say)."""

    path: Path
    info: os.stat_result | OSError
    found: Found


def discover(paths: Sequence[str], host_from: HostPattern | None = None) -> Discovery:
    """Expand files, directories (recursively), globs and ``-`` into sources, in order,
    each with its host (``ingest.hosts``: by default, or from ``host_from``; a file
    that pattern does not match is skipped)."""
    found = Discovery()
    seen: dict[tuple[int, int], str] = {}
    for given in paths:
        if given == STDIN:
            if host_from is None:
                found.sources.append(Source(STDIN))
            else:
                found.skipped.append(Skipped(STDIN_LABEL, host_from.outside))
            continue
        if is_url(given):
            _add_objects(found, given, host_from)
            continue
        expanded = _expand(given)
        if expanded is None:
            found.skipped.append(Skipped(given, "no such file, directory or glob match"))
            continue
        entries, base = expanded
        below = [] if base is None else [e.path.relative_to(base).parts for e in entries]
        hosts = _hosts([str(entry.path) for entry in entries], below, host_from)
        for entry, host in zip(entries, hosts, strict=True):
            _add(found, seen, entry, host, host_from)
    return found


def _hosts(
    names: list[str], below: list[tuple[str, ...]], host_from: HostPattern | None
) -> list[str | None]:
    """The host of each file one input expands to (None: outside ``host_from``).
    ``below``: each file's path under the input's directory (empty: files named
    directly, which have no host by default)."""
    if host_from is not None:
        return [host_from.host_of(name) for name in names]
    return list(hosts_below(below)) if below else [NO_HOST] * len(names)


def _add_objects(found: Discovery, given: str, host_from: HostPattern | None) -> None:
    """Record the objects a URL names (``remote.expand``), or that it names none."""
    objects = expand(given)
    if objects is None:
        found.skipped.append(Skipped(given, "no such object, prefix or glob match"))
        return
    base = _base(given) if _GLOB.search(given) else given.rstrip("/")
    below = [] if objects[0].direct else [_below(obj.url, base) for obj in objects]
    hosts = _hosts([obj.url for obj in objects], below, host_from)
    for obj, host in zip(objects, hosts, strict=True):
        if host is None:
            assert host_from is not None
            found.skipped.append(Skipped(obj.url, host_from.outside))
            continue
        how: Found = "given" if obj.direct else "glob" if _GLOB.search(given) else "directory"
        found.sources.append(Source(obj.url, None, how, url=obj.url, size=obj.size, host=host))


def _base(pattern: str) -> str:
    """The directory of a glob before its first wildcard (``logs/*/x.log``: ``logs``)."""
    parts = pattern.split("/")
    fixed = next(at for at, part in enumerate(parts) if _GLOB.search(part))
    return "/".join(parts[:fixed])


def _below(name: str, base: str) -> tuple[str, ...]:
    """A listed object's key below a prefix or a glob's directory, as path parts."""
    rest = name[len(base) :] if name.startswith(base) else name.rsplit("/", 1)[-1]
    return tuple(part for part in rest.split("/") if part)


def _expand(given: str) -> tuple[list[_Entry], Path | None] | None:
    """What one user path stands for, and the directory its files' hosts are told under
    (None: a file named directly); None when it names nothing."""
    path = Path(given)
    info = _stat(path)
    if isinstance(info, os.stat_result):
        if stat.S_ISDIR(info.st_mode):
            return _walk(path), path
        return [_Entry(path, info, "given")], None
    matches = sorted(glob.glob(given, recursive=True))  # noqa: PTH207 (absolute patterns)
    if not matches:
        return None
    out: list[_Entry] = []
    for match in map(Path, matches):
        info = _stat(match)
        direct = match == path  # no wildcard: a dangling link, or one stat cannot reach
        if isinstance(info, os.stat_result) and stat.S_ISDIR(info.st_mode):
            out.extend(_walk(match))
        else:
            out.append(_Entry(match, info, "given" if direct else "glob"))
    return out, Path(_base(given) or ".") if _GLOB.search(given) else None


def _stat(path: Path) -> os.stat_result | OSError:
    """``stat`` of a path (through links), or the error it raised."""
    try:
        return path.stat()
    except OSError as err:
        return err


def _walk(root: Path) -> list[_Entry]:
    """Every entry under a directory but its subdirectories, in path order.

    Links to directories are listed, not followed (no loops); a directory that cannot
    be listed is listed itself, with its error.
    """
    out: list[_Entry] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as err:
            out.append(_Entry(folder, err, "directory"))
            continue
        for entry in entries:
            path = folder / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(path)
                    continue
                info: os.stat_result | OSError = entry.stat()
            except OSError as err:
                info = err
            out.append(_Entry(path, info, "directory"))
    return sorted(out, key=lambda entry: entry.path)


def _add(
    found: Discovery,
    seen: dict[tuple[int, int], str],
    entry: _Entry,
    host: str | None,
    host_from: HostPattern | None,
) -> None:
    """Record one entry: a source (once per inode), or skipped with why (``host`` None:
    outside the ``host_from`` pattern)."""
    name, info = str(entry.path), entry.info
    if host is None:
        assert host_from is not None
        found.skipped.append(Skipped(name, host_from.outside))
        return
    if isinstance(info, OSError):
        found.skipped.append(Skipped(name, _missing_reason(entry.path, info), host))
        return
    reason = kind_reason(info.st_mode, entry.found)
    if reason is not None:
        found.skipped.append(Skipped(name, reason, host))
        return
    key = (info.st_dev, info.st_ino)
    if key in seen:
        found.same_file.append(SameFile(name, seen[key], host))
        return
    seen[key] = name
    fifo = stat.S_ISFIFO(info.st_mode)
    found.sources.append(Source(name, entry.path, entry.found, fifo, host=host))


def kind_reason(mode: int, found: Found) -> str | None:
    """Why a file of this kind is not read (None: it is read).

    Regular files are read; a FIFO only when the user named it (one found in a
    directory or by a glob may have no writer, and would block its reader).
    """
    if stat.S_ISREG(mode) or (stat.S_ISFIFO(mode) and found == "given"):
        return None
    if stat.S_ISFIFO(mode):
        return f"a FIFO {_FOUND_IN[found]}: not read"
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file: not read")


def _missing_reason(path: Path, err: OSError) -> str:
    """Why a path found cannot be used: a dangling link, or the system's reason."""
    if isinstance(err, FileNotFoundError) and path.is_symlink():
        return "a symbolic link to nothing (its target is gone)"
    return os_reason(err)


def os_reason(err: OSError) -> str:
    """A short reason for an operating-system error, without the path."""
    return (err.strerror or type(err).__name__).lower()
