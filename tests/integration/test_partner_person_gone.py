"""Review of issue 13: a partner's person who has left (deactivated) is sent nothing more about her, and a
share whose escalation reaches nobody says so loudly rather than going quiet.

A case link outlives the person: deactivating someone in Manage → Practitioners does not unlink them, and
their e-mail, phone and Telegram stay on record. Without a check, the next risk rise goes to someone who
no longer works for the partner."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import sharing
from bot.web.case_share import Refused, target
from safety.model import AlertReason, Severity
from safety.sharing import Kind
from storage import cases, practitioners
from tests.conftest import World
from tests.integration.conftest import inbox, later, rows
from tests.integration.test_share_escalation import ACK_MINUTES, shared_case
from tests.webtools import login, person, workspace


async def _deactivate(w: World, person: int) -> None:
    async with w.app.db.transaction() as tx:
        assert await practitioners.deactivate(tx, person)
        await tx.commit()


async def test_a_deactivated_partner_person_is_sent_no_share(world: World, caplog: pytest.LogCaptureFixture) -> None:
    # The first share goes while Carl works for Drive; then he leaves and a second risk rise follows.
    share, carl, _, ref = await shared_case(world)
    assert len(await inbox(world, carl)) == 1
    queued = await rows(world.app, "SELECT id FROM outbox WHERE practitioner_id = ?", (carl,))
    await _deactivate(world, carl)
    [case] = await rows(world.app, "SELECT id FROM cases WHERE ref = ?", (ref,))
    async with world.app.db.transaction() as tx:
        found = await cases.get(tx, case["id"])
        with caplog.at_level(logging.WARNING, logger="safecheck.sharing"):
            now, facts = world.clock.now(), ("strangulation",)
            made = await sharing.share_checkin(tx, world.app.crypto, found, "high", facts, now)
            urgent_rise = Severity.URGENT, AlertReason.RISK_RAISED
            shared = await sharing.share_alert(tx, world.app.crypto, found, 1, *urgent_rise, "high", facts, now)
        await tx.commit()
    await world.deliver()
    assert made == [] and shared == []
    assert [r["id"] for r in await rows(world.app, "SELECT id FROM shares")] == [share]
    assert await rows(world.app, "SELECT id FROM outbox WHERE practitioner_id = ?", (carl,)) == queued
    assert any("inactive" in r.getMessage() and f"contact={carl}" in r.getMessage() for r in caplog.records)


async def test_a_share_from_the_workspace_to_a_deactivated_person_is_refused(world: World) -> None:
    _, carl, _, ref = await shared_case(world)
    await _deactivate(world, carl)
    async with world.app.db.transaction() as tx:
        found = await cases.by_ref(tx, ref)
        assert found is not None
        with pytest.raises(Refused, match="no longer"):
            await target(tx, world.app.crypto, found, carl, Kind.RISK_CHANGES)


async def test_an_escalation_that_reaches_nobody_says_so_loudly(world: World, caplog: pytest.LogCaptureFixture) -> None:
    # Dora (the duty contact) has left and the service's only manager too: the ladder reaches nobody.
    share, _, dora, _ = await shared_case(world)
    await _deactivate(world, dora)
    await _deactivate(world, world.manager)
    with caplog.at_level(logging.ERROR, logger="safecheck.sharing"):
        await later(world, timedelta(minutes=ACK_MINUTES))
        await later(world, timedelta(minutes=ACK_MINUTES))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == "safecheck.sharing"]
    assert any(f"share={share}" in line and "nobody" in line for line in errors), errors


async def test_a_due_share_to_a_person_with_no_channel_is_logged_as_an_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # She agreed; the linked person was added (e.g. by the CLI) without any way to reach them.
    _, carl, _, ref = await shared_case(world)
    async with world.app.db.transaction() as tx:
        await tx.execute("DELETE FROM practitioner_channels WHERE practitioner_id = ?", (carl,))
        found = await cases.by_ref(tx, ref)
        assert found is not None
        with caplog.at_level(logging.ERROR, logger="safecheck.sharing"):
            urgent_rise = Severity.URGENT, AlertReason.RISK_RAISED
            made = await sharing.share_alert(
                tx, world.app.crypto, found, 1, *urgent_rise, "high", ("strangulation",), world.clock.now()
            )
        await tx.commit()
    assert made == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("no channel" in line and f"contact={carl}" in line for line in errors), errors


async def test_the_case_page_says_a_linked_person_has_left(world: World) -> None:
    _, carl, _, ref = await shared_case(world)
    await _deactivate(world, carl)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        page = await (await client.get(f"/cases/{ref}")).text()
    assert "no longer active: nothing is sent to them" in page
