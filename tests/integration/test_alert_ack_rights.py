"""Who may acknowledge an alert: those it was sent to, the duty IDVA while it is open, the manager.

The rule is kept in one place (bot.alerting.acknowledge), so the CLI, `ACK <ref>` and the Telegram
button all follow it; here it is driven through the CLI's command function on a real database.
"""

from __future__ import annotations

import pytest

from bot import commands
from tests.conftest import World
from tests.integration.conftest import alerts
from tests.integration.test_escalation import raise_codeword


async def test_an_idva_of_the_service_it_was_not_sent_to_cannot_acknowledge_it(world: World) -> None:
    alert_id = await raise_codeword(world)
    colleague = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    with pytest.raises(commands.UserError, match=f"alert {alert_id} was not sent to practitioner {colleague}"):
        await commands.ack(world.app, alert_id, colleague)
    [alert] = await alerts(world)
    assert alert["acknowledged_at"] is None


@pytest.mark.parametrize("role", ["duty", "manager"])
async def test_the_duty_idva_and_the_manager_may_acknowledge_before_they_are_told(world: World, role: str) -> None:
    alert_id = await raise_codeword(world)
    who = world.duty if role == "duty" else world.manager
    assert await commands.ack(world.app, alert_id, who) == f"alert {alert_id} acknowledged"
    [alert] = await alerts(world)
    assert alert["acknowledged_by"] == who
    assert [n["role"] for n in alert["notified"]] == ["idva"]  # only the IDVA had been told


async def test_the_idva_it_was_sent_to_may_acknowledge_it(world: World) -> None:
    alert_id = await raise_codeword(world)
    assert await commands.ack(world.app, alert_id, world.idva) == f"alert {alert_id} acknowledged"
