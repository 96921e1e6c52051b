"""Test data for the caseload and case pages, written through the real storage functions.

Check-ins, assessments, alerts and timers go in as the pipeline would store them, without running
whole conversations: the pages read what is stored, so that is what the tests set up.
"""

from __future__ import annotations

from datetime import datetime

from bot import commands
from safety.model import Assessment, Change, Level, RiskChange
from storage import alerts, cases, checkins, services, timers
from storage.db import Tx
from tests.conftest import World


async def case_id(world: World, ref: str) -> int:
    async with world.app.db.reading() as tx:
        found = await cases.by_ref(tx, ref)
    assert found is not None
    return found.id


async def enrol(
    world: World, address: str, name: str, *, idva: int | None = None, intake: str = "high"
) -> tuple[str, int]:
    """A pending case for `idva` (the world's IDVA unless told): its reference and id."""
    ref, _ = await commands.enrol(
        world.app,
        world.service_id,
        idva=idva or world.idva,
        channel="simulator",
        address=address,
        name=name,
        intake=intake,
    )
    return ref, await case_id(world, ref)


async def checkin(
    world: World,
    case: int,
    slot: str,
    when: datetime,
    status: str = "completed",
    level: str | None = None,
    signals: tuple[str, ...] = (),
    score: int = 0,
) -> int:
    """One finished check-in, with its (complete) assessment when a level is given."""

    async def unit(tx: Tx) -> int:
        cid = await checkins.open_checkin(tx, case, slot, when, when)
        assert cid is not None
        await checkins.close_checkin(tx, cid, status, when)
        if level is not None:
            assessed = Assessment(score, Level.parse(level), signals, ())
            change = RiskChange(Change.SAME, Level.STANDARD, None, None)
            await checkins.add_assessment(tx, case, cid, assessed, change, True, when)
        await tx.commit()
        return cid

    return await world.app.db.run(unit)


async def alert(world: World, case: int, when: datetime, reason: str = "risk_raised", severity: str = "high") -> int:
    async def unit(tx: Tx) -> int:
        aid = await alerts.create(tx, world.service_id, case, severity, reason, when)
        await tx.commit()
        return aid

    return await world.app.db.run(unit)


async def next_checkin(world: World, case: int, when: datetime) -> None:
    async def unit(tx: Tx) -> None:
        await timers.add(tx, "checkin", f"{case}:{when.isoformat()}", when, case_id=case)
        await tx.commit()

    await world.app.db.run(unit)


async def other_service(world: World) -> tuple[int, int, str]:
    """A second service with an IDVA and one case: (service id, IDVA id, case reference)."""

    async def unit(tx: Tx) -> int:
        svc = await services.create(tx, "other", "Other service", world.clock.now())
        await tx.commit()
        return svc

    svc = await world.app.db.run(unit)
    idva = await commands.add_practitioner(world.app, svc, "Olu", "idva", ["inbox"])
    ref, _ = await commands.enrol(
        world.app, svc, idva=idva, channel="simulator", address="+447700900999", name="Zara Other", intake="high"
    )
    return svc, idva, ref
