"""Exclusive locks on output folders, held by one writer at a time (``fcntl.flock``).

A lock is a small file beside the folder it guards (``.NAME.lock``) holding the holder's pid,
host and start time as JSON. The kernel releases a ``flock`` when its holder dies, even by
``kill -9``, so a lock file left behind by a crashed run is free for the next one. The holder
removes the file while it still holds the lock; a writer that opened the old file meanwhile sees
that the path no longer names the file it locked and tries again.

``flock`` is advisory and local: two processes on one machine exclude each other; on a network
file system shared by several hosts it may not (the recorded host tells which one writes).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from contextlib import contextmanager
from pathlib import Path

from twin.core.errors import InputError


def lock_path(folder: Path) -> Path:
    """The lock file that guards ``folder``: ``.NAME.lock`` beside it."""
    return folder.with_name(f".{folder.name}.lock")


def _holder_of(path: Path) -> str:
    """The holder recorded in a lock file, in words."""
    try:
        with open(path, "rb") as f:
            record = json.loads(f.read(4096).decode("utf-8") or "{}")
        return f"pid {record['pid']} on {record['host']} (since {record['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _try_lock(path: Path) -> int | None:
    """Open and lock ``path`` without waiting; the descriptor, or None when another holds it.

    Raises
    ------
    OSError
        When the lock file cannot be opened (permissions, read-only disk).
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            return fd
        os.close(fd)  # the previous holder removed the file between our open and lock: again


def _release(fd: int, path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)


@contextmanager
def exclusive_lock(folder: Path):
    """Hold the lock of ``folder`` while the block runs; refuse at once if another holds it.

    Parameters
    ----------
    folder : Path
        The folder to guard (its parent must exist).

    Raises
    ------
    InputError
        When another process holds the lock ("… is being written by pid N on HOST"), or the
        lock file cannot be created (read-only or missing parent folder).
    """
    path = lock_path(folder)
    try:
        fd = _try_lock(path)
        if fd is None:
            raise InputError(f"is being written by {_holder_of(path)}; wait for that writer to finish",
                             file=folder)
    except OSError as exc:
        raise InputError(f"cannot create the lock file {path.name} beside the folder: {exc.strerror}",
                         file=folder) from None
    from twin.io.provenance import utc_now

    os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now()}).encode())
    try:
        yield
    finally:
        _release(fd, path)


@contextmanager
def lock_if_free(folder: Path):
    """Yield True while holding the lock of ``folder`` if nobody else holds it, else yield False.

    Used to tell a crashed writer's leftovers (lock free) from a live writer's (lock held).
    """
    path = lock_path(folder)
    try:
        fd = _try_lock(path)
    except OSError:
        fd = None
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        _release(fd, path)
