"""End to end: a survivor's answers over the simulator become an alert that says what happened.

The real engine with the default (DASH-aligned) question set, the real pipeline and dispatcher on a
real SQLite file; the IDVA reads the alert in her inbox and on the workspace alert pages over HTTP.
"""

from __future__ import annotations

from bot import commands
from tests.conftest import World
from tests.integration.conftest import PHONE, alerts, answer_all, inbox
from tests.webtools import login, person, workspace


async def start_checkin(world: World, ref: str) -> None:
    await commands.checkin_now(world.app, world.service_id, ref)
    assert len(await world.deliver()) == 1  # the opener


async def test_contact_despite_an_order_then_strangulation_each_alert_the_idva_in_words(world: World) -> None:
    ref = await world.onboard(no_contact_order=True)
    await start_checkin(world, ref)
    await answer_all(world, ["yes", "yes", "no", "in person"])  # good time; safe now; not afraid; contact
    assert (await inbox(world, world.idva))[-1].startswith(
        f"[URGENT] Case {ref}: in-person contact despite a no-contact order. Acknowledge: "
    )
    await answer_all(world, ["choked"])  # the incident question
    said = await inbox(world, world.idva)
    assert said[-1].startswith(f"[URGENT] Case {ref}: strangulation disclosed. Acknowledge: ")
    assert [(a["reason"], a["signals"]) for a in await alerts(world)] == [
        ("risk_raised", ["contact_despite_order"]),
        ("risk_raised", ["choking"]),
    ]

    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        queue = await (await client.get("/alerts")).text()
        case_page = await (await client.get(f"/cases/{ref}")).text()
    assert f"{ref}</a>: in-person contact despite a no-contact order</h3>" in queue
    # The case's timeline says it in the same words.
    assert "in-person contact despite a no-contact order</p>" in case_page
    assert "strangulation disclosed</p>" in case_page
    assert f"{ref}</a>: strangulation disclosed</h3>" in queue
    assert PHONE not in queue and "choked" not in queue


async def test_not_safe_right_now_alerts_the_idva_not_safe_now(world: World) -> None:
    ref = await world.onboard()
    await start_checkin(world, ref)
    await answer_all(world, ["yes", "no"])  # good time; NOT safe right now
    [alert] = await alerts(world)
    assert (alert["severity"], alert["signals"], alert["said"]) == ("urgent", ["not_safe_now"], "not safe now")
    assert (await inbox(world, world.idva))[-1].startswith(f"[URGENT] Case {ref}: not safe now. Acknowledge: ")
