"""Retention in the daily round: a closed case's personal data goes N days after closing and not before;
delivery records go after M days while recent ones stay; each pass that removed anything is a purge row."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import commands, pruning
from bot.scheduler import TimerRunner
from storage.keys import load_keys
from tests.conftest import World
from tests.forensics import recoverable
from tests.integration.conftest import case_row, later, rows

NAME, PHONE, OTHER = "Rosalind Retained", "+447700900321", "+447700900654"


async def daily_rounds(world: World, days: int) -> None:
    """Let `days` days pass a day at a time, the daily round running each night as serve runs it."""
    for _ in range(days):
        await later(world, timedelta(days=1))


async def test_a_closed_case_is_erased_n_days_after_closing_and_not_before(world: World) -> None:
    await commands.configure_service(world.app, world.service_id, closed_case_days=30)
    ref = await world.onboard(PHONE, name=NAME)
    open_ref = await world.onboard(OTHER, name="Olive Open")
    await commands.set_status(world.app, world.service_id, ref, "close")
    keys = load_keys({}, world.settings.key_file)
    await TimerRunner(world.app).prepare()

    await daily_rounds(world, 29)  # the 29th night: closed 29 days ago at most
    assert (await case_row(world, ref))["erased_at"] is None
    assert recoverable(world.settings.db_path, keys, [NAME]) == [repr(NAME)]

    await daily_rounds(world, 2)
    erased = await case_row(world, ref)
    assert erased["erase_reason"] == "retention" and erased["name_enc"] is None and erased["address_hash"] is None
    assert recoverable(world.settings.db_path, keys, [NAME, PHONE]) == []
    assert (await case_row(world, open_ref))["erased_at"] is None  # an open case is never retention's
    [purge] = await rows(world.app, "SELECT * FROM purges WHERE case_refs != '[]'")
    assert (purge["kind"], purge["actor"], purge["case_refs"]) == ("retention", "system", f'["{ref}"]')
    assert json.loads(purge["counts"])["cases_erased"] == 1
    [audited] = await rows(world.app, "SELECT case_id, detail FROM audit_log WHERE action = 'case_erased'")
    assert audited == {"case_id": erased["id"], "detail": f"reason=retention purge={purge['id']}"}

    await daily_rounds(world, 2)  # erased once: later rounds leave it, and write no empty purges
    assert len(await rows(world.app, "SELECT 1 FROM purges WHERE case_refs != '[]'")) == 1


async def test_old_delivery_records_go_after_m_days_and_recent_ones_stay(world: World) -> None:
    await commands.configure_service(world.app, world.service_id, delivery_record_days=60, sent_content_days=2)
    await TimerRunner(world.app).prepare()
    old_ref = await world.onboard(PHONE)
    old_case = (await case_row(world, old_ref))["id"]
    await daily_rounds(world, 40)
    new_ref = await world.onboard(OTHER)
    new_case = (await case_row(world, new_ref))["id"]
    await daily_rounds(world, 3)
    assert await pruning.prune(world.app.db, world.clock) > 0  # both cases' messages are compact records now
    sql = "SELECT COUNT(*) AS n FROM deliveries WHERE case_id = ?"
    old_count = (await rows(world.app, sql, (old_case,)))[0]["n"]
    new_count = (await rows(world.app, sql, (new_case,)))[0]["n"]
    assert old_count > 0 and new_count > 0
    assert await rows(world.app, "SELECT 1 FROM purges") == []

    await daily_rounds(world, 19)  # 62 days after the first case's messages, 22 after the second's
    assert (await rows(world.app, sql, (old_case,)))[0]["n"] == 0
    assert (await rows(world.app, sql, (new_case,)))[0]["n"] == new_count
    [purge] = await rows(world.app, "SELECT * FROM purges")
    assert purge["kind"] == "retention" and purge["case_refs"] == "[]"
    assert json.loads(purge["counts"])["delivery_records"] >= old_count
    [audited] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'delivery_records_removed'")
    assert audited["detail"].startswith(f"purge={purge['id']} delivery_records=")
