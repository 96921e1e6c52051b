"""`safecheck keys rotate`: a new encryption key (and optionally a new lookup key), every value moved to it.

The database moves first, in one transaction, while the new keys wait beside the key file; only once
that has committed does the key file change. A rotation that fails changes neither.
"""

from __future__ import annotations

import argparse
import os
import sqlite3

from bot.bootstrap import adopt_keys, make_clock
from bot.commands import UserError, operator
from bot.config import Settings
from storage import audit, keyring
from storage.crypto import Crypto
from storage.db import Database, StorageError
from storage.keys import (
    ENV_VAR,
    install_staged_key_file,
    load_keys,
    rotate,
    stage_key_file,
    staging_path,
    without_old_keys,
)
from storage.rekey import reencrypt_all, rehash_lookups


async def run(settings: Settings, args: argparse.Namespace) -> None:
    if ENV_VAR in os.environ:
        raise UserError(f"the keys come from {ENV_VAR}: rotate them with storage.keys.rotate in your secret store")
    if not settings.db_path.exists():
        raise UserError(f"no database at {settings.db_path}: run `safecheck init` first (or set SAFECHECK_DB)")
    old = load_keys(os.environ, settings.key_file)
    clock = make_clock(settings, moving=False)
    db = await Database.open(settings.db_path)
    try:
        await adopt_keys(db, old, settings, clock)  # never rotate a database with keys that are not its own
        staging_path(settings.key_file).unlink(missing_ok=True)  # the keys are right: any staged file is stale
        working = rotate(old, new_lookup=args.new_lookup_key)  # old keys still decrypt while values move
        new = without_old_keys(working) if args.retire_old else working
        stage_key_file(settings.key_file, new)
        try:
            async with db.transaction() as tx:
                count = await reencrypt_all(tx, Crypto(working))
                lost = await rehash_lookups(tx, Crypto(working)) if args.new_lookup_key else []
                await keyring.record_rotation(tx, old, new, clock.now())
                detail = f"current={new.current} values={count} retired={len(old.encryption) if args.retire_old else 0}"
                await audit.log(tx, clock.now(), operator(), "keys_rotated", None, detail)
                await tx.commit()
        except BaseException as exc:
            staging_path(settings.key_file).unlink(missing_ok=True)
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"the key rotation failed ({exc}): nothing was changed") from None
            raise
        install_staged_key_file(settings.key_file)
    finally:
        await db.close()
    print(f"new current key {new.current}; {count} value(s) re-encrypted; back up {settings.key_file} again")
    if args.retire_old:
        print(f"retired {', '.join(sorted(old.encryption))}: the key file holds only {new.current} now")
    if args.new_lookup_key:
        print("new lookup key: every stored address was indexed again")
        if lost:
            print(f"activation links that no longer work (enrol again): {', '.join(lost)}")
