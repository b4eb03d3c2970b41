"""One writer at a time per index folder, across processes: an exclusive ``flock`` on ``<index>/.lock``.

The app, the command line and the Python API all write an index through ``index.sync``, which
holds this lock from reading the saved index to switching the manifest: a second writer waits,
then finds the first one's index and embeds nothing it saved. Within one process the bot's own
thread locks already serialise writes; this is for two processes (two ``qa-bot index`` runs, or
the app and a command line) on one folder.

The lock file is never deleted: a writer that unlinked it could leave the next two writers
locking two different files. A folder where the lock file cannot be created or locked (read-only,
or a file system without locks) is written, if at all, unlocked, and then nothing in it is swept.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexBusyError

log = logging.getLogger(__name__)
LOCK_NAME = ".lock"
_POLL = 0.05  # seconds between tries while another process holds the lock
_held = threading.local()  # the folders this thread holds, with how deep: the lock is re-entrant


@contextmanager
def hold(index_dir: Path | None, timeout: float) -> Iterator[bool]:
    """Hold the write lock of ``index_dir`` for the ``with`` block.

    Args:
        index_dir: the index folder (created if missing); None holds nothing.
        timeout: seconds to wait for another process's lock before giving up.

    Yields:
        True when the lock is held; False when the folder cannot be locked (a read-only folder,
        a file system without locks), so that the caller writes nothing it need not.

    Raises:
        IndexBusyError: another process held the lock for all of ``timeout``; the message names
            the folder, that process and the setting that waits longer.
    """
    if index_dir is None:
        yield False
        return
    key = os.path.realpath(index_dir)
    depths: dict[str, int] = _held.__dict__.setdefault("depths", {})
    if depths.get(key):  # this thread holds it already (an upload's refresh inside add_transcript)
        depths[key] += 1
        try:
            yield True
        finally:
            depths[key] -= 1
        return
    fd = _acquire(Path(index_dir), timeout)
    if fd is None:
        yield False
        return
    depths[key] = 1
    try:
        yield True
    finally:
        del depths[key]
        _release(fd)


def _acquire(index_dir: Path, timeout: float) -> int | None:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:  # read-only: nobody writes through here, and reads need no lock
        log.info("no write lock in %s (%s): it will be read, and written only if it can be", index_dir, exc)
        return None
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)  # ENOLCK and the like: a file system that cannot lock
                log.warning("cannot lock %s (%s): writing it unlocked, sweeping nothing", index_dir, exc)
                return None
        holder = _holder(fd)
        if time.monotonic() >= deadline:
            os.close(fd)
            raise IndexBusyError(
                f"another qa-bot is writing the index in {index_dir} ({holder}); waited {timeout:g} s. "
                "Try again when it is done, or wait longer with QA_BOT_LOCK_TIMEOUT (seconds)")
        if not waiting:
            log.warning("another qa-bot is writing the index in %s (%s); waiting up to %g s for it",
                        index_dir, holder, timeout)
            waiting = True
        time.sleep(min(_POLL, max(0.0, deadline - time.monotonic())))
    try:  # who holds it, for the message of a process that gives up waiting
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass
    return fd


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"


def _release(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)  # no stale pid for the next waiter to name
    except OSError:
        pass
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


__all__ = ["LOCK_NAME", "hold"]
