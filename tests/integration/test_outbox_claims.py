"""The dispatcher keeps pace with a backlog: it claims a page in index order, without busy recipients' rows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.channels.base import Capabilities, Outgoing
from bot.channels.simulator import SimulatorChannel
from bot.dispatcher import Dispatcher
from storage import outbox
from storage.db import Tx
from storage.outbox import Busy
from tests.conftest import World
from tests.integration.conftest import PHONE, inbox, queue_neutral, rows

OTHER = "+447700900456"


class HeldFor:
    """Holds every send to one address until released; the others go through at once."""

    capabilities = Capabilities()

    def __init__(self, inner: SimulatorChannel, held: str) -> None:
        self.name = inner.name
        self.inner = inner
        self.held = held
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, address: str, message: Outgoing) -> str:
        if address == self.held:
            self.entered.set()
            await self.release.wait()
        return await self.inner.send(address, message)

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        await self.inner.delete(address, provider_ids)


async def plan(tx: Tx, sql: str, params: tuple[object, ...]) -> list[str]:
    return [r["detail"] for r in await tx.all(f"EXPLAIN QUERY PLAN {sql}", params)]


async def queue(world: World, case_id: int, address: str, n: int) -> None:
    for _ in range(n):
        await queue_neutral(world, case_id, address)


async def case_id(world: World, ref: str) -> int:
    [row] = await rows(world.app, "SELECT id FROM cases WHERE ref = ?", (ref,))
    return int(row["id"])


async def test_each_lane_is_claimed_in_index_order_without_a_sort_and_busy_recipients_left_out_in_sql(
    world: World,
) -> None:
    busy = Busy(cases=frozenset({1, 2}), channels=frozenset({"sms"}), items=frozenset({7}))
    async with world.app.db.reading() as tx:
        for lane in outbox.LANES:
            for case in (None, 3):
                sql, params = outbox.claim_query(lane, world.clock.now(), busy, after=5, case_id=case)
                steps = await plan(tx, sql, params)
                assert any(
                    s.startswith("SEARCH outbox USING INDEX outbox_due (recipient=? AND next_attempt_at<?)")
                    for s in steps
                ), steps
                assert not any("TEMP B-TREE" in s for s in steps), steps
                assert "json_each" in sql  # the busy recipients are left out by the statement itself


async def test_delivered_since_reads_its_index_not_the_whole_outbox(world: World) -> None:
    sql, params = outbox.delivered_since_query(1, world.clock.now())
    async with world.app.db.reading() as tx:
        steps = await plan(tx, sql, params)
    assert steps == ["SEARCH outbox USING INDEX outbox_sent_to_case (case_id=? AND created_at>?)"], steps


async def test_a_survivor_with_a_long_queue_being_served_does_not_hold_up_another_survivors_message(
    world: World,
) -> None:
    first, second = await world.onboard(PHONE), await world.onboard(OTHER, codeword="red ladder")
    await queue(world, await case_id(world, first), PHONE, outbox.PAGE + 50)  # more than a page, and older
    world.clock.advance(timedelta(seconds=1))
    await queue(world, await case_id(world, second), OTHER, 1)
    held = HeldFor(world.sim, PHONE)
    world.app.survivor_channels["simulator"] = held
    dispatcher = Dispatcher(world.app)
    await dispatcher.start_round()  # the first page is all hers: her first message is held by the provider
    async with asyncio.timeout(5):
        await held.entered.wait()
    assert await dispatcher.start_round() == 1  # the next round skips her queue in the claim, and finds his
    async with asyncio.timeout(5):
        while not world.sim.take(OTHER):
            await asyncio.sleep(0.01)
    held.release.set()
    await dispatcher.wait_idle()
    await dispatcher.drain()
    assert await rows(world.app, "SELECT DISTINCT status FROM outbox") == [{"status": "sent"}]
    assert [
        r["id"]
        for r in await rows(
            world.app,
            "SELECT id FROM outbox WHERE recipient = 'survivor' AND case_id = ? ORDER BY sent_at, id",
            (await case_id(world, first),),
        )
    ] == [
        r["id"]
        for r in await rows(
            world.app, "SELECT id FROM outbox WHERE case_id = ? ORDER BY id", (await case_id(world, first),)
        )
    ]


async def test_a_row_that_cannot_be_read_holds_up_no_one_else(world: World) -> None:
    first, second = await world.onboard(PHONE), await world.onboard(OTHER, codeword="red ladder")
    await queue(world, await case_id(world, first), PHONE, 1)
    async with world.app.db.transaction() as tx:  # a bug wrote a message nobody can parse
        await tx.execute("UPDATE outbox SET message = '{not json' WHERE status = 'pending'")
        await tx.commit()
    await queue(world, await case_id(world, second), OTHER, 1)
    await world.say(OTHER, "red ladder")  # and an alert, raised after it
    await Dispatcher(world.app).run_once()
    assert world.sim.take(OTHER)  # his reply went
    assert await inbox(world, world.idva)  # the alert went
    [stuck] = await rows(
        world.app,
        "SELECT status FROM outbox WHERE case_id = ? AND message = '{not json'",
        (await case_id(world, first),),
    )
    assert stuck["status"] == "pending"  # still there, for /healthz to show as stuck
