"""Sent messages lose their content after their service's window; a compact delivery record stays."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot import commands, pruning
from storage import alerts, deliveries
from storage.deliveries import Delivery
from storage.keys import load_keys
from tests.conftest import World
from tests.forensics import recoverable
from tests.integration.conftest import PHONE, case_row, queue_neutral, rows, scalar

PLANTED = "Quillon-7781 was here"  # a parameter of one message: in no other table


async def sent_with_planted_words(world: World) -> int:
    """Onboarded, then a message carrying PLANTED queued and sent; returns the case id."""
    await world.onboard(PHONE)
    case_id = int((await case_row(world, (await rows(world.app, "SELECT ref FROM cases"))[0]["ref"]))["id"])
    await queue_neutral(world, case_id, PHONE, {"note": PLANTED})
    await world.deliver()
    return case_id


async def timeline(world: World, case_id: int) -> list[Delivery]:
    async with world.app.db.reading() as tx:
        return await deliveries.for_case(tx, case_id)


async def test_sent_messages_keep_their_content_for_the_window_then_only_their_delivery_record(world: World) -> None:
    case_id = await sent_with_planted_words(world)
    await world.say(PHONE, "blue kettle")  # an alert to practitioners too: its rows belong to the case
    await world.deliver()
    before = await timeline(world, case_id)
    assert {(d.recipient, d.status) for d in before} == {("survivor", "sent"), ("practitioner", "sent")}

    world.clock.advance(timedelta(days=7) - timedelta(minutes=1))
    assert await pruning.prune(world.app.db, world.clock) == 0  # inside the default week: all kept

    world.clock.advance(timedelta(minutes=2))
    assert await pruning.prune(world.app.db, world.clock) == len(before)
    assert await scalar(world.app, "SELECT count(*) FROM outbox") == 0
    # The record keeps who, which channel, how it ended and when: to the second, as stored.
    assert await timeline(world, case_id) == [
        replace(d, sent_at=d.sent_at and d.sent_at.replace(microsecond=0)) for d in before
    ]


async def test_pruned_content_is_nowhere_in_the_database_or_its_wal(world: World) -> None:
    await sent_with_planted_words(world)
    keys = load_keys({}, world.settings.key_file)
    assert recoverable(world.settings.db_path, keys, [PLANTED]) == [repr(PLANTED)]  # the scan does find it

    world.clock.advance(timedelta(days=8))
    assert await pruning.prune(world.app.db, world.clock, chunk=3) > 3  # several chunks, each its own unit

    assert recoverable(world.settings.db_path, keys, [PLANTED]) == []


async def test_the_window_is_the_services_own(world: World) -> None:
    await sent_with_planted_words(world)
    assert await commands.configure_service(world.app, world.service_id, sent_content_days=2) == (
        "updated sent_content_days"
    )
    world.clock.advance(timedelta(days=1))
    assert await pruning.prune(world.app.db, world.clock) == 0
    world.clock.advance(timedelta(days=1, minutes=1))
    assert await pruning.prune(world.app.db, world.clock) > 0
    assert await scalar(world.app, "SELECT count(*) FROM outbox WHERE message LIKE ?", (f"%{PLANTED}%",)) == 0


async def test_an_alert_left_open_past_the_window_can_still_be_acknowledged_by_whoever_it_reached(
    world: World,
) -> None:
    case_id = await sent_with_planted_words(world)
    await world.say(PHONE, "blue kettle")
    await world.deliver()
    world.clock.advance(timedelta(days=8))
    assert await pruning.prune(world.app.db, world.clock) > 0
    async with world.app.db.reading() as tx:
        reached = await alerts.open_sent_to(tx, case_id, world.idva, world.clock.now())
        not_reached = await alerts.open_sent_to(tx, case_id, world.manager, world.clock.now())
    assert [a.reason for a in reached] == ["codeword"]
    assert not_reached == []


async def test_pending_messages_are_never_pruned(world: World) -> None:
    case_id = await sent_with_planted_words(world)
    pending = await queue_neutral(world, case_id, PHONE)
    world.clock.advance(timedelta(days=30))
    await pruning.prune(world.app.db, world.clock)
    assert await rows(world.app, "SELECT id, status FROM outbox") == [{"id": pending, "status": "pending"}]


async def test_the_serve_loop_prunes_until_stopped(world: World) -> None:
    await sent_with_planted_words(world)
    world.clock.advance(timedelta(days=8))
    stop = asyncio.Event()
    running = asyncio.create_task(pruning.run_forever(world.app.db, world.clock, stop, every=0.01))
    try:
        async with asyncio.timeout(5):
            while await scalar(world.app, "SELECT count(*) FROM outbox"):
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)
    assert await scalar(world.app, "SELECT count(*) FROM deliveries") > 0


async def test_after_the_newest_message_is_pruned_the_next_gets_an_id_of_its_own(world: World) -> None:
    """A delivery record keeps its message's id: a new message must never take it (the next pass failed)."""
    case_id = await sent_with_planted_words(world)
    world.clock.advance(timedelta(days=8))
    assert await pruning.prune(world.app.db, world.clock) > 0
    assert await scalar(world.app, "SELECT count(*) FROM outbox") == 0  # the newest row went too
    await queue_neutral(world, case_id, PHONE, {"note": "again"})
    await world.deliver()
    newest = await scalar(world.app, "SELECT max(id) FROM outbox")
    assert newest > await scalar(world.app, "SELECT max(id) FROM deliveries")
    world.clock.advance(timedelta(days=8))
    assert await pruning.prune(world.app.db, world.clock) == 1
