"""Erasure means erasure: after a withdrawal or a purge nothing personal can be read back, with the key,
from the database file, its WAL or its free pages; and a secret typed at the wrong moment is never kept."""

from __future__ import annotations

from datetime import timedelta

from bot import commands
from bot.scheduler import TimerRunner
from storage.keys import load_keys
from tests.conftest import World
from tests.forensics import recoverable
from tests.integration.conftest import CALM_ANSWERS, PHONE, answer_all, case_row, later, rows

NAME = "Jane Erasable"
WORDS = "Zebedee came round on Sunday"
WINDOWS = "07:13-08:47"  # stored as minutes: [[433, 527]]
PIN, DURESS = "2468", "1357"


async def planted(world: World, ref: str) -> list[str | bytes]:
    """Her values as the database held them: in plain text, encrypted, or as keyed hashes."""
    case = await case_row(world, ref)
    hasher = world.app.crypto.secret_hasher(case["salt"])
    return [
        NAME,
        PHONE,
        WORDS,
        "[[433, 527]]",
        world.app.crypto.lookup_hash("simulator", PHONE),
        hasher("pasta"),
        hasher("blue kettle"),
    ]


async def onboarded_with_words(world: World) -> str:
    """Onboarded, with a check-in answered in her own words, at a time inside her safe window."""
    world.clock.set(world.clock.now().replace(hour=7, minute=0))
    ref = await world.onboard(PHONE, name=NAME, windows=WINDOWS)
    await commands.set_schedule(world.app, world.service_id, ref, "daily@07:30")
    await later(world, timedelta(minutes=31))
    await answer_all(world, [*CALM_ANSWERS[:-1], WORDS])  # her words as the last, free-text answer
    return ref


async def test_after_withdrawal_nothing_personal_can_be_read_back_from_the_files_with_the_key(world: World) -> None:
    ref = await onboarded_with_words(world)
    keys = load_keys({}, world.settings.key_file)
    values = await planted(world, ref)
    assert len(recoverable(world.settings.db_path, keys, values)) == len(values)  # the scan does find them

    await world.say(PHONE, "STOP")
    await world.deliver()

    assert recoverable(world.settings.db_path, keys, values) == []


async def test_a_retention_purge_leaves_the_purged_words_nowhere_in_the_files(world: World) -> None:
    await onboarded_with_words(world)
    keys = load_keys({}, world.settings.key_file)
    assert recoverable(world.settings.db_path, keys, [WORDS]) == [repr(WORDS)]
    assert len(await rows(world.app, "SELECT 1 FROM answers WHERE text_enc IS NOT NULL")) == 1  # kept as her answer

    await TimerRunner(world.app).prepare()  # the daily round, as serve schedules it
    await later(world, timedelta(days=91))  # past the 90 days, the daily round purges free text

    assert await rows(world.app, "SELECT 1 FROM answers WHERE text_enc IS NOT NULL") == []

    assert recoverable(world.settings.db_path, keys, [WORDS]) == []


async def test_a_pin_typed_where_none_was_asked_is_never_kept_as_a_raw_message(world: World) -> None:
    await world.onboard(PHONE, pin=PIN, duress=DURESS)
    for n, text in enumerate([PIN, f" {DURESS} ", "just saying hello"]):
        await world.say(PHONE, text, provider_id=f"unasked-{n}")
    kept = await rows(world.app, "SELECT provider_id FROM inbound_messages WHERE provider_id LIKE 'unasked-%' "
                                 "AND body_enc IS NOT NULL")
    assert [r["provider_id"] for r in kept] == ["unasked-2"]  # only the message that holds no secret

