"""The right key, or nothing: values bound to their rows, and keys checked against the database."""

from __future__ import annotations

import pytest

from bot.bootstrap import open_app
from bot.pipeline import Outcome
from storage import cases, keyring, practitioners
from storage.crypto import Crypto
from storage.keys import KeyConfigError, create_key_file, load_keys, rotate
from storage.rekey import ENCRYPTED, rehash_lookups
from tests.conftest import World
from tests.integration.conftest import PHONE, alerts, case_row, restarted, rows

OTHER_PHONE = "+447700900456"


async def test_a_number_copied_into_another_case_is_never_written_to(world: World) -> None:
    await world.onboard(PHONE)
    victim = await world.onboard(OTHER_PHONE)
    [mine] = await rows(world.app, "SELECT address_enc FROM cases WHERE ref != ?", (victim,))
    # Someone with the database file but not the key swaps the first survivor's number into the second case.
    async with world.app.db.transaction() as tx:
        await tx.execute("UPDATE cases SET address_enc = ? WHERE ref = ?", (mine["address_enc"], victim))
        await tx.commit()

    handled = await world.say(OTHER_PHONE, "HELP")

    assert handled.outcome is Outcome.FAILED  # kept, flagged and the IDVA told: loud, not silent
    assert await world.deliver() == []  # and nothing went to the first survivor's phone
    assert ("high", "processing_failed") in [(a["severity"], a["reason"]) for a in await alerts(world)]


async def test_values_written_before_row_binding_are_bound_at_the_first_start(world: World) -> None:
    ref = await world.onboard(PHONE, name="Jane Legacy")
    case = await case_row(world, ref)
    crypto = world.app.crypto
    async with world.app.db.transaction() as tx:  # the database as version 6 left it
        await tx.execute(
            "UPDATE cases SET address_enc = ?, name_enc = ? WHERE id = ?",
            (
                crypto.encrypt(PHONE, cases.ADDRESS.legacy),
                crypto.encrypt("Jane Legacy", cases.NAME.legacy),
                case["id"],
            ),
        )
        await tx.execute("UPDATE meta SET value = '0' WHERE name = ?", (keyring.BOUND,))
        await tx.commit()

    async with restarted(world) as app:
        async with app.db.reading() as tx:
            fresh = await cases.get(tx, case["id"])
            bound = await tx.scalar("SELECT value FROM meta WHERE name = ?", (keyring.BOUND,))
        assert (cases.address_of(app.crypto, fresh), cases.name_of(app.crypto, fresh)) == (PHONE, "Jane Legacy")
        assert bound == "1"
        for field in ENCRYPTED:  # every stored value now decrypts only where it is
            keys = ", ".join(field.key)
            async with app.db.reading() as tx:
                found = await tx.all(f"SELECT {keys}, {field.column} AS v FROM {field.table} WHERE v NOT NULL")
            for row in found:
                app.crypto.decrypt(row["v"], field.at(*(row[k] for k in field.key)))


async def test_a_wrong_key_is_refused_on_a_database_from_before_key_checks(world: World) -> None:
    await world.onboard(PHONE)
    async with world.app.db.transaction() as tx:  # version 6 recorded no keys
        await tx.execute("DELETE FROM key_checks")
        await tx.commit()
    await world.app.db.close()
    world.settings.key_file.unlink()
    create_key_file(world.settings.key_file)  # keys of another installation

    with pytest.raises(KeyConfigError, match=r"does not belong to the database.*cannot decrypt"):
        async with open_app(world.settings, clock=world.clock, simulator=world.sim):
            pass


async def test_a_new_lookup_key_finds_practitioners_by_their_address_too(world: World) -> None:
    async with world.app.db.transaction() as tx:
        await practitioners.set_address(tx, world.app.crypto, world.idva, "sms", "+447700900001")
        await tx.commit()
    rotated = Crypto(rotate(load_keys({}, world.settings.key_file), new_lookup=True))
    async with world.app.db.transaction() as tx:
        await rehash_lookups(tx, rotated)
        found = await practitioners.by_address(tx, rotated, "sms", "+447700900001")
        gone = await practitioners.by_address(tx, world.app.crypto, "sms", "+447700900001")
    assert found is not None and found.id == world.idva
    assert gone is None  # the old lookup key finds nothing any more
