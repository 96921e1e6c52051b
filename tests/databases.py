"""Fresh databases for tests, copied from one made at the latest schema.

Running the 29 migrations costs a fifth of a second; over a thousand tests start from an empty database,
so each copies a template made once per process instead. What migrations do is tested on its own
(test_storage, test_database_open, test_audit_migration): those still run them.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storage.db import Database


def fresh_database(path: Path) -> None:
    """An empty database at the latest schema at `path`, private to its owner as `safecheck init` makes it,
    unless one is there already (a test restarting on the same file keeps it, as `create=True` would)."""
    if path.exists():
        return
    shutil.copyfile(_template(), path)
    path.chmod(0o600)


@functools.cache
def _template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="safecheck-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "safecheck.db"

    async def make() -> None:
        db = await Database.open(path, create=True)
        await db.close()  # a clean close checkpoints the WAL: the file alone is the whole database

    # In a thread of its own: the caller may already be inside an event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, make()).result()
    return path
