"""The workspace's reads of cases on a real SQLite file: who sees which case, the caseload's figures
(in two grouped queries however many cases), a case's timeline, and notes encrypted at rest."""

from __future__ import annotations

from datetime import timedelta

from bot import commands
from storage import alert_work, alerts, caseload, notes
from storage.alert_work import Outcome
from storage.caseload import Scope
from storage.db import Tx
from tests.caseload_data import alert, checkin, enrol, next_checkin, other_service
from tests.conftest import START, World
from tests.integration.conftest import CALM_ANSWERS


async def _refs(world: World, scope: Scope) -> set[str]:
    async with world.app.db.reading() as tx:
        return {c.ref for c in await caseload.caseload(tx, scope)}


async def test_each_role_sees_its_own_cases_and_never_another_services(world: World) -> None:
    bea = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    mine, _ = await enrol(world, "+447700900001", "Amy Able")
    theirs, theirs_id = await enrol(world, "+447700900002", "Bo Brown", idva=bea)
    quiet, _ = await enrol(world, "+447700900003", "Cy Quiet", idva=bea)
    await alert(world, theirs_id, START)
    _, _, elsewhere = await other_service(world)
    svc = world.service_id
    assert await _refs(world, Scope(svc, idva_id=world.idva)) == {mine}
    assert await _refs(world, Scope(svc, idva_id=bea)) == {theirs, quiet}
    assert await _refs(world, Scope(svc, every_case=True)) == {mine, theirs, quiet}
    assert await _refs(world, Scope(svc, open_alerts=True)) == {theirs}
    assert await _refs(world, Scope(svc, idva_id=world.idva, open_alerts=True)) == {mine, theirs}
    assert await _refs(world, Scope(svc)) == set()  # admin only: no case content
    assert elsewhere not in await _refs(world, Scope(svc, every_case=True))


async def test_a_case_stays_in_the_duty_view_until_its_alert_is_resolved(world: World) -> None:
    ref, cid = await enrol(world, "+447700900001", "Amy Able")
    aid = await alert(world, cid, START)
    assert await _refs(world, Scope(world.service_id, open_alerts=True)) == {ref}
    await acknowledge(world, aid)
    assert await _refs(world, Scope(world.service_id, open_alerts=True)) == {ref}  # someone has it: still open
    await resolve(world, aid)
    assert await _refs(world, Scope(world.service_id, open_alerts=True)) == set()


async def acknowledge(world: World, aid: int) -> None:
    async def unit(tx: Tx) -> None:
        await alerts.acknowledge(tx, aid, world.idva, START)
        await tx.commit()

    await world.app.db.run(unit)


async def resolve(world: World, aid: int, note: str | None = None) -> None:
    async def unit(tx: Tx) -> None:
        await alert_work.resolve(tx, world.app.crypto, aid, world.idva, Outcome.SAFE, None, note, START)
        await tx.commit()

    await world.app.db.run(unit)


async def test_a_caseload_row_carries_intake_now_trend_check_ins_alerts_and_next(world: World) -> None:
    ref, cid = await enrol(world, "+447700900001", "Amy Able", intake="medium")
    day = timedelta(days=1)
    levels = ["standard", "raised", "high", "raised"]
    for i, level in enumerate(levels):
        await checkin(world, cid, f"s{i}", START + i * day, level=level)
    await checkin(world, cid, "s4", START + 4 * day, status="missed")
    await checkin(world, cid, "s5", START + 5 * day, status="missed")
    await checkin(world, cid, "s6", START + 6 * day, status="missed_system")  # our outage, not hers
    await alert(world, cid, START + 5 * day)
    done = await alert(world, cid, START + 5 * day, reason="checkins_missed")
    await acknowledge(world, done)
    await resolve(world, done)
    await next_checkin(world, cid, START + 9 * day)
    await next_checkin(world, cid, START + 8 * day)
    async with world.app.db.reading() as tx:
        [row] = await caseload.caseload(tx, Scope(world.service_id, idva_id=world.idva))
    assert (row.ref, row.intake, row.now, row.trend) == (ref, "medium", "raised", tuple(levels))
    assert row.last_checkin == START + 3 * day
    assert (row.missed, row.open_alerts, row.next_checkin) == (2, 1, START + 8 * day)
    assert (row.status, row.channel, row.language) == ("pending", "simulator", "en_GB")


async def test_the_trend_keeps_the_latest_points_only(world: World) -> None:
    _, cid = await enrol(world, "+447700900001", "Amy Able")
    for i in range(caseload.TREND_POINTS + 3):
        await checkin(world, cid, f"s{i}", START + timedelta(hours=i), level="high" if i < 3 else "standard")
    async with world.app.db.reading() as tx:
        [row] = await caseload.caseload(tx, Scope(world.service_id, every_case=True))
    assert row.trend == ("standard",) * caseload.TREND_POINTS


async def test_a_caseload_takes_two_queries_however_many_cases(world: World) -> None:
    for n in range(12):
        _, cid = await enrol(world, f"+4477009001{n:02d}", f"Person {n}")
        await checkin(world, cid, "s", START, level="high")
        await alert(world, cid, START)
    statements: list[str] = []
    async with world.app.db.reading() as tx:
        tx._conn.set_trace_callback(statements.append)
        try:
            rows = await caseload.caseload(tx, Scope(world.service_id, every_case=True))
        finally:
            tx._conn.set_trace_callback(None)
    assert len(rows) == 12 and all(r.now == "high" and r.open_alerts == 1 for r in rows)
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]) == 2


async def test_the_timeline_reads_check_ins_with_answers_and_alerts_with_their_rungs(world: World) -> None:
    ref = await world.onboard()
    await world.say("+447700900123", "blue kettle")  # her codeword: an urgent alert, escalating
    await world.deliver()
    async with world.app.db.reading() as tx:
        cid = (await caseload.caseload(tx, Scope(world.service_id, every_case=True)))[0].id
        shown = await caseload.alerts_shown(tx, world.app.crypto, cid)
    assert [a.reason for a in shown] == ["codeword"]
    assert [(r.step, r.practitioner_id) for r in shown[0].rungs] == [(0, world.idva)]
    await commands.checkin_now(world.app, world.service_id, ref)
    await world.deliver()
    for text in (*CALM_ANSWERS[:-1], "all fine really"):
        await world.say("+447700900123", text)
        await world.deliver()
    async with world.app.db.reading() as tx:
        shown_checkins = await caseload.checkins_shown(tx, world.app.crypto, cid)
        points = await caseload.risk_points(tx, cid)
    done = shown_checkins[-1]
    assert done.status == "completed" and done.level == "standard" and done.complete
    assert "all fine really" in [a.text for a in done.answers]
    assert [p.level for p in points] == ["standard"]


async def test_notes_are_encrypted_at_rest_and_read_back_in_order(world: World) -> None:
    _, cid = await enrol(world, "+447700900001", "Amy Able")
    text = "Spoke on the phone; she is staying with her sister for now"

    async def write(tx: Tx) -> None:
        await notes.add(tx, world.app.crypto, cid, world.idva, text, START)
        await notes.add(tx, world.app.crypto, cid, world.manager, "Second note", START + timedelta(minutes=5))
        await tx.commit()

    await world.app.db.run(write)
    async with world.app.db.reading() as tx:
        found = await notes.for_case(tx, world.app.crypto, cid)
    assert [(n.author_id, n.body) for n in found] == [(world.idva, text), (world.manager, "Second note")]
    stored = b"".join(p.read_bytes() for p in world.settings.db_path.parent.glob("safecheck.db*"))
    assert text.encode() not in stored and b"staying with her sister" not in stored


async def test_an_alert_in_the_timeline_carries_its_resolution_and_note(world: World) -> None:
    _, cid = await enrol(world, "+447700900001", "Amy Able")
    aid = await alert(world, cid, START)
    await acknowledge(world, aid)
    await resolve(world, aid, note="Spoke to her; she is safe at her mother's")
    async with world.app.db.reading() as tx:
        [shown] = await caseload.alerts_shown(tx, world.app.crypto, cid)
    assert (shown.outcome, shown.resolved_by, shown.note) == (
        "safe",
        world.idva,
        "Spoke to her; she is safe at her mother's",
    )
