"""The alert queue in storage, and resolving an alert: on a real database with the real pipeline raising them."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot import alerting, commands
from storage import alert_work
from storage.alert_work import Action, Outcome
from storage.crypto import DecryptError
from storage.db import Database, Tx, _migrate, migrations
from tests.conftest import START, World
from tests.integration.conftest import later, rows, scalar
from tests.integration.test_escalation import raise_codeword


async def _queue(world: World, idva: int | None = None) -> list[alert_work.QueuedAlert]:
    async with world.app.db.reading() as tx:
        return await alert_work.queue(tx, world.service_id, idva)


async def _version(world: World) -> int:
    async with world.app.db.reading() as tx:
        return await alert_work.version(tx, world.service_id)


async def _resolve(
    world: World, alert_id: int, who: int, outcome: Outcome, action: Action | None = None, note: str | None = None
) -> bool:
    async def unit(tx: Tx) -> bool:
        done = await alerting.resolve(tx, world.app.crypto, alert_id, who, outcome, action, note, world.clock.now())
        await tx.commit()
        return done

    return await world.app.db.run(unit)


async def test_queue_shows_who_was_told_the_rung_reached_and_when_the_next_one_fires(world: World) -> None:
    alert_id = await raise_codeword(world)
    [queued] = await _queue(world)
    assert (queued.id, queued.severity, queued.reason, queued.idva_id) == (alert_id, "urgent", "codeword", world.idva)
    assert [(t.step, t.role, t.practitioner_id) for t in queued.told] == [(0, "idva", world.idva)]
    assert queued.rung == 0
    assert queued.next_rung == alert_work.NextRung(1, queued.created_at + timedelta(minutes=5))

    await later(world, timedelta(minutes=5))
    [queued] = await _queue(world)
    assert queued.rung == 1 and [t.role for t in queued.told] == ["idva", "duty"]
    assert queued.next_rung == alert_work.NextRung(2, queued.created_at + timedelta(minutes=10))


async def test_an_acknowledged_alert_stays_in_the_queue_until_resolved_with_no_next_rung(world: World) -> None:
    alert_id = await raise_codeword(world)
    await commands.ack(world.app, alert_id, world.idva)
    [queued] = await _queue(world)
    assert queued.acknowledged_by == world.idva and queued.next_rung is None

    assert await _resolve(world, alert_id, world.idva, Outcome.SAFE)
    assert await _queue(world) == []


async def test_queue_of_an_idva_holds_only_alerts_on_their_own_cases(world: World) -> None:
    await raise_codeword(world)
    colleague = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    assert await _queue(world, colleague) == []
    assert len(await _queue(world, world.idva)) == 1
    assert len(await _queue(world)) == 1


async def test_unacknowledged_alerts_come_first_then_the_most_severe(world: World) -> None:
    first = await raise_codeword(world)
    await world.say("+447700900123", "blue kettle again")  # a second codeword alert, raised later
    await world.deliver()
    second = max(a.id for a in await _queue(world))
    await commands.ack(world.app, first, world.idva)
    assert [a.id for a in await _queue(world)] == [second, first]


async def test_resolving_an_unacknowledged_alert_acknowledges_it_and_stops_the_ladder(world: World) -> None:
    alert_id = await raise_codeword(world)
    world.clock.advance(timedelta(minutes=2))
    assert await _resolve(world, alert_id, world.idva, Outcome.FALSE_ALARM)

    [row] = await rows(world.app, "SELECT * FROM alerts WHERE id = ?", (alert_id,))
    stamp = (START + timedelta(minutes=2)).isoformat().replace("+00:00", ".000000Z")
    assert (row["acknowledged_by"], row["resolved_by"], row["outcome"]) == (world.idva, world.idva, "false_alarm")
    assert row["acknowledged_at"] == row["resolved_at"] == stamp
    await later(world, timedelta(hours=1))
    assert await scalar(world.app, "SELECT COUNT(*) FROM alert_notifications WHERE alert_id = ?", (alert_id,)) == 1
    actions = [r["action"] for r in await rows(world.app, "SELECT action FROM audit_log WHERE case_id IS NOT NULL")]
    assert actions[-2:] == ["alert_acknowledged", "alert_resolved"]


async def test_resolving_follows_the_rule_of_who_may_acknowledge(world: World) -> None:
    alert_id = await raise_codeword(world)
    colleague = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    with pytest.raises(alerting.AckRefused):
        await _resolve(world, alert_id, colleague, Outcome.SAFE)
    [queued] = await _queue(world)
    assert queued.acknowledged_at is None


async def test_an_alert_is_resolved_once_and_the_first_outcome_stands(world: World) -> None:
    alert_id = await raise_codeword(world)
    assert await _resolve(world, alert_id, world.idva, Outcome.MARAC)
    assert not await _resolve(world, alert_id, world.manager, Outcome.SAFE)
    async with world.app.db.reading() as tx:
        done = await alert_work.resolution(tx, world.app.crypto, alert_id)
    assert done is not None and (done.outcome, done.resolved_by) == ("marac", world.idva)


async def test_action_taken_needs_what_was_done_and_only_then(world: World) -> None:
    alert_id = await raise_codeword(world)
    with pytest.raises(ValueError, match="action taken"):
        await _resolve(world, alert_id, world.idva, Outcome.ACTION)
    with pytest.raises(ValueError, match="action taken"):
        await _resolve(world, alert_id, world.idva, Outcome.SAFE, Action.POLICE)
    assert len(await _queue(world)) == 1  # nothing was kept


async def test_the_note_is_encrypted_at_rest_bound_to_its_alert_and_times_are_kept(world: World) -> None:
    alert_id = await raise_codeword(world)
    world.clock.advance(timedelta(minutes=3))
    await commands.ack(world.app, alert_id, world.idva)
    world.clock.advance(timedelta(minutes=40))
    note = "Spoke to her at her sister's; police attended"
    assert await _resolve(world, alert_id, world.idva, Outcome.ACTION, Action.POLICE, note)

    raw = await scalar(world.app, "SELECT note_enc FROM alerts WHERE id = ?", (alert_id,))
    assert note.encode() not in raw and b"sister" not in raw
    assert b"sister" not in Path(world.settings.db_path).read_bytes()
    with pytest.raises(DecryptError):
        world.app.crypto.decrypt(raw, alert_work.NOTE.at(alert_id + 1))
    async with world.app.db.reading() as tx:
        done = await alert_work.resolution(tx, world.app.crypto, alert_id)
    assert done is not None
    assert (done.note, done.outcome, done.action) == (note, "action", Action.POLICE)
    assert done.time_to_acknowledge == timedelta(minutes=3)
    assert done.time_to_resolve == timedelta(minutes=43)


async def test_the_queue_version_moves_on_every_change_to_a_queue(world: World) -> None:
    await world.onboard()
    seen = [await _version(world)]

    async def moved() -> bool:
        seen.append(await _version(world))
        return seen[-1] > seen[-2]

    await world.say("+447700900123", "blue kettle")
    await world.deliver()
    assert await moved()  # a new alert (and its first rung)
    [queued] = await _queue(world)
    await later(world, timedelta(minutes=5))
    assert await moved()  # the next rung
    await later(world, timedelta(seconds=1))
    assert not await moved()  # nothing happened
    await commands.ack(world.app, queued.id, world.duty)
    assert await moved()
    colleague = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    async with world.app.db.transaction() as tx:
        await tx.execute("UPDATE cases SET idva_id = ? WHERE id = ?", (colleague, queued.case_id))
        await tx.commit()
    assert await moved()  # another IDVA's queue now holds it
    await _resolve(world, queued.id, world.duty, Outcome.NOT_REACHED)
    assert await moved()


async def test_alerts_acknowledged_before_resolving_existed_are_closed_as_unrecorded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    [ours] = [v for v, sql in migrations() if "alert_queue_versions" in sql]
    conn = sqlite3.connect(path)
    for version, sql in migrations():
        if version < ours:
            _migrate(conn, version, sql)
    conn.executescript(
        "INSERT INTO services (id, slug, name, created_at) VALUES (1, 's', 'S', 'x');"
        "INSERT INTO practitioners (id, service_id, role, name_enc, created_at) VALUES (1, 1, 'idva', x'00', 'x');"
        "INSERT INTO cases (id, service_id, ref, idva_id, channel, salt, intake_level, status, created_at) "
        "VALUES (1, 1, 'C-1', 1, 'sms', x'00', 'high', 'active', 'x');"
        "INSERT INTO alerts (service_id, case_id, severity, reason, created_at, acknowledged_at, acknowledged_by) "
        "VALUES (1, 1, 'urgent', 'codeword', '2026-01-01T09:00:00.000000Z', '2026-01-01T09:04:00.000000Z', 1),"
        " (1, 1, 'raised', 'callback_today', '2026-01-02T09:00:00.000000Z', NULL, NULL);"
    )
    conn.close()
    db = await Database.open(path)
    try:
        async with db.reading() as tx:
            [open_one] = await alert_work.queue(tx, 1)
            closed = await tx.one("SELECT resolved_at, resolved_by, outcome FROM alerts WHERE id = 1")
        assert open_one.reason == "callback_today"
        assert tuple(closed) == ("2026-01-01T09:04:00.000000Z", 1, "unrecorded")
    finally:
        await db.close()
