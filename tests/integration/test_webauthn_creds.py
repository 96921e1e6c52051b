"""Passkey storage on a real SQLite file: one person's credentials are never another's."""

from __future__ import annotations

from datetime import timedelta

from storage import webauthn_creds
from storage.db import Tx
from tests.conftest import World


async def test_a_passkey_is_kept_found_only_by_its_owner_renamed_and_removed(world: World) -> None:
    now = world.clock.now()

    async def setup(tx: Tx) -> tuple[int | None, int | None]:
        first = await webauthn_creds.add(tx, world.idva, b"cred-1", b"key-1", 0, "Work phone", now)
        again = await webauthn_creds.add(tx, world.duty, b"cred-1", b"key-x", 0, "Stolen id", now)
        await tx.commit()
        return first, again

    first, again = await world.app.db.run(setup)
    assert first is not None and again is None  # a credential belongs to one person only
    async with world.app.db.reading() as tx:
        assert await webauthn_creds.find(tx, world.duty, b"cred-1") is None
        found = await webauthn_creds.find(tx, world.idva, b"cred-1")
        assert found is not None and (found.public_key, found.sign_count) == (b"key-1", 0)
        assert await webauthn_creds.credential_ids(tx, world.idva) == [b"cred-1"]
        [listed] = await webauthn_creds.list_for(tx, world.idva)
        assert (listed.name, listed.last_used_at) == ("Work phone", None)

    async def others_try(tx: Tx) -> tuple[bool, bool]:
        renamed = await webauthn_creds.rename(tx, world.duty, first, "x")
        removed = await webauthn_creds.remove(tx, world.duty, first)
        await tx.commit()
        return renamed, removed

    assert await world.app.db.run(others_try) == (False, False)

    async def owner(tx: Tx) -> tuple[bool, bool]:
        renamed = await webauthn_creds.rename(tx, world.idva, first, "Y" * 100)
        [listed] = await webauthn_creds.list_for(tx, world.idva)
        assert listed.name == "Y" * webauthn_creds.NAME_LIMIT
        removed = await webauthn_creds.remove(tx, world.idva, first)
        await tx.commit()
        return renamed, removed

    assert await world.app.db.run(owner) == (True, True)
    async with world.app.db.reading() as tx:
        assert await webauthn_creds.list_for(tx, world.idva) == []


async def test_a_sign_count_is_stored_only_over_the_count_that_was_read(world: World) -> None:
    now = world.clock.now()

    async def setup(tx: Tx) -> int | None:
        await tx.commit()
        return await webauthn_creds.add(tx, world.idva, b"cred-1", b"key-1", 3, "Key", now)

    key_id = await world.app.db.run(setup)
    assert key_id is not None
    later = now + timedelta(minutes=1)

    async def use(tx: Tx) -> tuple[bool, bool]:
        # Two logins that both read count 3: only the first may store its count.
        await tx.commit()
        return (
            await webauthn_creds.record_use(tx, key_id, 3, 4, later),
            await webauthn_creds.record_use(tx, key_id, 3, 5, later),
        )

    assert await world.app.db.run(use) == (True, False)
    async with world.app.db.reading() as tx:
        found = await webauthn_creds.find(tx, world.idva, b"cred-1")
        [listed] = await webauthn_creds.list_for(tx, world.idva)
    assert found is not None and found.sign_count == 4 and listed.last_used_at == later
