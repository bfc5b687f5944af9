"""Inputs in an object store, read through fsspec: ``s3://bucket/logs/`` (a prefix, walked
like a directory), ``s3://bucket/logs/*.log.gz`` (a glob) or one object.

The store is reached as fsspec is configured (for S3: the usual ``AWS_*`` variables,
``AWS_ENDPOINT_URL`` for a store other than AWS, or fsspec's config files). fsspec and
the filesystem's package (s3fs) are imported only when a URL is given. An object's
modification time is the one a copy tool kept in its metadata (``mtime``, as rclone
writes it), else the time it was stored: copy logs with their times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from poolwatch.errors import PoolwatchError, shown

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

#: A URL with a scheme (``s3://``, ``gs://``, ``file://``): read through fsspec.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB = re.compile(r"[*?\[]")
#: Seconds to wait for the store to accept a connection (a wrong endpoint fails fast).
CONNECT_SECONDS = 10


class RemoteError(PoolwatchError):
    """An object store cannot be used as given (no such bucket, no credentials, no
    endpoint answering, its fsspec package missing); the message names it."""


def is_url(text: str) -> bool:
    """Whether an input names an object in a store rather than a local path."""
    return bool(_URL.match(text))


@dataclass(frozen=True)
class Found:
    """One object a URL stands for."""

    url: str
    size: int
    direct: bool
    """Named by the URL itself (not found under a prefix or by a glob)."""


def expand(url: str) -> list[Found] | None:
    """The objects a URL names (an object, every object under a prefix, or a glob's
    matches), in name order; None when it names nothing in an existing bucket."""
    with _translated(url):
        fs, root = _filesystem(url)
        protocol = url.split("://", 1)[0]
        if _GLOB.search(root):
            matches = cast(dict[str, dict[str, Any]], fs.glob(root, detail=True))
            found = [_found(protocol, info, direct=False) for info in matches.values()]
        else:
            try:
                info = cast(dict[str, Any], fs.info(root))
            except FileNotFoundError:
                _check_bucket(fs, root, url)
                return None
            if info.get("type") == "file":
                return [Found(url, int(info.get("size") or 0), direct=True)]
            below = cast(dict[str, dict[str, Any]], fs.find(root, detail=True))
            found = [_found(protocol, info, direct=False) for info in below.values()]
        files = sorted((f for f in found if f is not None), key=lambda f: f.url)
        if not files:
            _check_bucket(fs, root, url)
        return files or None


def _found(protocol: str, info: dict[str, Any], *, direct: bool) -> Found | None:
    """An object of a listing (None for a folder marker)."""
    if info.get("type") != "file" or str(info["name"]).endswith("/"):
        return None
    return Found(f"{protocol}://{info['name']}", int(info.get("size") or 0), direct)


def _check_bucket(fs: AbstractFileSystem, root: str, url: str) -> None:
    """Fail when the bucket (the URL's first part) does not exist."""
    bucket = root.split("/", 1)[0]
    if bucket and not fs.exists(bucket):
        raise RemoteError(f"{shown(url)}: no such bucket {shown(bucket)!r}")


@dataclass
class Opened:
    """An object opened for reading, with what the store says of it."""

    file: BinaryIO
    size: int
    mtime: float | None


def open_object(url: str) -> Opened:
    """Open one object for reading (raises ``OSError`` when it cannot be read)."""
    with _translated(url, as_oserror=True):
        fs, path = _filesystem(url)
        info = cast(dict[str, Any], fs.info(path))
        size = int(info.get("size") or 0)
        # s3fs takes the size known, rather than asking the store for it again.
        known = {"size": size} if url.startswith(("s3://", "s3a://")) else {}
        file = cast(BinaryIO, fs.open(path, "rb", **known))
        return Opened(file, size, _mtime(fs, path, info))


def _mtime(fs: AbstractFileSystem, path: str, info: dict[str, Any]) -> float | None:
    """The time a copy tool kept in the object's metadata, else when it was stored."""
    try:
        kept = cast(dict[str, str], fs.metadata(path)).get("mtime")
        if kept is not None:
            return float(kept)
    except (AttributeError, NotImplementedError, ValueError):
        pass
    stored = info.get("LastModified") or info.get("mtime") or info.get("updated")
    if isinstance(stored, datetime):
        return stored.timestamp()
    return float(stored) if isinstance(stored, int | float) else None


def _filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem of a URL (its package imported now) and the path in it."""
    try:
        import fsspec.core
    except ImportError as err:
        raise RemoteError(
            f"{shown(url)}: reading URLs needs fsspec (pip install 'poolwatch[dask]')"
        ) from err
    protocol = url.split("://", 1)[0]
    options: dict[str, Any] = {}
    if protocol in ("s3", "s3a"):
        options["config_kwargs"] = {"connect_timeout": CONNECT_SECONDS}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as err:
        package = "s3fs" if protocol in ("s3", "s3a") else f"the fsspec package for {protocol}://"
        raise RemoteError(
            f"{shown(url)}: reading {protocol}:// needs {package} (pip install 'poolwatch[dask]')"
        ) from err
    except ValueError as err:
        raise RemoteError(f"{shown(url)}: {err}") from err
    return fs, cast(str, path)


@contextmanager
def _translated(url: str, *, as_oserror: bool = False) -> Iterator[None]:
    """The store's own errors as one line naming the URL and what is wrong (an
    ``OSError`` for one object that cannot be read, so that it is skipped with why)."""
    try:
        yield
    except RemoteError:
        raise
    except Exception as err:
        reason = _reason(err)
        if reason is None:
            raise
        if as_oserror:
            raise OSError(reason) from err
        raise RemoteError(f"{shown(url)}: {reason}") from err


def _reason(err: Exception) -> str | None:
    """What a store's error means, in words (None: not the user's to fix)."""
    name = type(err).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return (
            "no credentials for the store (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE)"
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError"):
        return f"the store does not answer ({err}; see AWS_ENDPOINT_URL)"
    if isinstance(err, PermissionError):
        return f"access denied ({err})"
    if isinstance(err, FileNotFoundError):
        return f"not found ({err})"
    if isinstance(err, OSError):
        return str(err) or name
    return None
