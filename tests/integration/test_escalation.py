"""Alerts climb the ladder on a pinned clock until someone of the service acknowledges them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import commands
from storage import services
from tests.conftest import World
from tests.integration.conftest import PHONE, PROMPT, alerts, answer_all, inbox, later, rows


async def raise_codeword(world: World) -> int:
    await world.onboard()
    await world.say(PHONE, "I'm fine, blue kettle")
    assert await world.deliver() == ["Thanks, got it. Reply HELP for options."]  # looks ordinary
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("urgent", "codeword")
    return int(alert["id"])


async def roles_told(world: World) -> list[str]:
    [alert] = await alerts(world)
    return [n["role"] for n in alert["notified"]]


async def test_codeword_alerts_the_idva_at_once_and_nobody_else(world: World) -> None:
    alert_id = await raise_codeword(world)
    [text] = await inbox(world, world.idva)
    assert text.startswith("[URGENT] Case ") and ": codeword" in text and f"ack {alert_id}" in text
    assert await inbox(world, world.duty) == []
    assert await inbox(world, world.manager) == []
    assert await roles_told(world) == ["idva"]


async def test_unacknowledged_urgent_alert_reaches_duty_at_five_minutes_and_manager_at_ten(world: World) -> None:
    await raise_codeword(world)
    await later(world, timedelta(minutes=4, seconds=59))
    assert await inbox(world, world.duty) == []
    await later(world, timedelta(seconds=1))
    assert len(await inbox(world, world.duty)) == 1
    assert await inbox(world, world.manager) == []
    await later(world, timedelta(minutes=4, seconds=59))
    assert await inbox(world, world.manager) == []
    await later(world, timedelta(seconds=1))
    [text] = await inbox(world, world.manager)
    assert ": codeword" in text
    assert await roles_told(world) == ["idva", "duty", "manager"]
    await later(world, timedelta(hours=2))
    assert len(await inbox(world, world.manager)) == 1  # each rung is told once
    assert len(await inbox(world, world.idva)) == 1


async def test_acknowledging_at_six_minutes_stops_the_manager_rung(world: World) -> None:
    alert_id = await raise_codeword(world)
    await later(world, timedelta(minutes=5))
    world.clock.advance(timedelta(minutes=1))
    assert await commands.ack(world.app, alert_id, world.duty) == f"alert {alert_id} acknowledged"
    await later(world, timedelta(minutes=10))
    assert await inbox(world, world.manager) == []
    [alert] = await alerts(world)
    assert alert["acknowledged_by"] == world.duty
    assert alert["acknowledged_at"] == "2026-11-23T09:06:00+00:00"
    assert [n["role"] for n in alert["notified"]] == ["idva", "duty"]
    assert await commands.ack(world.app, alert_id, world.idva) == f"alert {alert_id} was already acknowledged"
    [again] = await alerts(world)
    assert again["acknowledged_by"] == world.duty  # the first acknowledgement stands
    # The CLI's operator acknowledged, on the duty IDVA's behalf: the log says both.
    audit = await rows(world.app, "SELECT actor, action, detail FROM audit_log WHERE action = 'alert_acknowledged'")
    assert audit == [
        {
            "actor": commands.operator(),
            "action": "alert_acknowledged",
            "detail": f"alert={alert_id} on_behalf_of=practitioner:{world.duty}",
        }
    ]


async def test_idva_acknowledging_at_once_means_nobody_else_is_told(world: World) -> None:
    alert_id = await raise_codeword(world)
    await commands.ack(world.app, alert_id, world.idva)
    await later(world, timedelta(hours=1))
    assert await inbox(world, world.duty) == []
    assert await inbox(world, world.manager) == []


async def test_practitioner_of_another_service_cannot_acknowledge(world: World) -> None:
    alert_id = await raise_codeword(world)
    async with world.app.db.transaction() as tx:
        other_service = await services.create(tx, "other", "Another service", world.clock.now())
        await tx.commit()
    outsider = await commands.add_practitioner(world.app, other_service, "Olga", "idva", ["inbox"])

    with pytest.raises(commands.UserError, match="not an active practitioner of this alert's service"):
        await commands.ack(world.app, alert_id, outsider)

    [alert] = await alerts(world)
    assert alert["acknowledged_at"] is None and alert["acknowledged_by"] is None
    await later(world, timedelta(minutes=5))
    assert len(await inbox(world, world.duty)) == 1  # the ladder carries on
    assert await inbox(world, outsider) == []


async def test_unknown_practitioner_cannot_acknowledge(world: World) -> None:
    alert_id = await raise_codeword(world)
    with pytest.raises(commands.UserError):
        await commands.ack(world.app, alert_id, 999)
    with pytest.raises(commands.UserError):
        await commands.ack(world.app, alert_id + 100, world.idva)
    [alert] = await alerts(world)
    assert alert["acknowledged_at"] is None


async def test_high_alert_reaches_duty_after_sixty_minutes_and_never_the_manager(world: World) -> None:
    ref = await world.onboard(intake="standard")
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await later(world, timedelta(hours=1)) == [PROMPT]
    # Afraid a lot (4) and messages or calls (2): score 6, high, above the standard intake.
    # The two rotating questions (separation, stalking) are answered "No".
    await answer_all(world, ["1", "1", "3", "2", "1", "1", "1", "1", "SKIP"])
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("high", "risk_raised")
    [text] = await inbox(world, world.idva)
    assert text.startswith("[HIGH]") and "(level high)" in text

    await later(world, timedelta(minutes=59))
    assert await inbox(world, world.duty) == []
    await later(world, timedelta(minutes=1))
    assert len(await inbox(world, world.duty)) == 1
    await later(world, timedelta(hours=3))
    assert await inbox(world, world.manager) == []
    assert await roles_told(world) == ["idva", "duty"]


async def test_raised_alert_goes_to_the_idva_only(world: World) -> None:
    ref = await world.onboard(intake="high")
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await later(world, timedelta(hours=1)) == [PROMPT]
    await answer_all(world, ["1", "1", "1", "1", "1", "1", "1", "2", "SKIP"])  # all fine, call back today
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("raised", "callback_today")
    await later(world, timedelta(hours=6))
    assert len(await inbox(world, world.idva)) == 1
    assert await inbox(world, world.duty) == []
    assert await inbox(world, world.manager) == []
    assert await roles_told(world) == ["idva"]


async def test_alert_text_carries_no_survivor_name_number_or_words(world: World) -> None:
    await world.onboard(name="Jane Plantedname")
    await world.say(PHONE, "he found me, Zebedee knows, blue kettle")
    await later(world, timedelta(minutes=10))
    texts = [t for p in (world.idva, world.duty, world.manager) for t in await inbox(world, p)]
    assert len(texts) == 3
    for text in texts:
        for planted in ("Plantedname", "7700900123", "Zebedee", "kettle", "he found me"):
            assert planted not in text
