"""One delivering process per database: an advisory lock on a file next to it, held for the process's life.

Two dispatchers on one outbox would both send the same due rows, and two timer loops would fire
the same check-in twice. `serve`, `tick` and a forced `simulate` therefore take this lock. The
kernel drops it when the process ends in any way, kill -9 included, so a stale lock cannot
keep the service down; the file itself stays (removing it would race with the next taker).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class AlreadyRunning(Exception):
    """Another process holds the database's lock (one line: which, and what to do)."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def hold(db_path: Path, what: str) -> Iterator[None]:
    """Hold the database's lock while the block runs; AlreadyRunning at once if another process has it."""
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AlreadyRunning(f"cannot create the lock file {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another safecheck process"
            raise AlreadyRunning(
                f"{db_path} is in use by {holder}: only one process may deliver messages; stop it first, "
                "or wait for it to finish"
            ) from None
        # Who holds it, for the next one's message: our own pid and command, nothing personal.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"safecheck {what} (pid {os.getpid()})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
