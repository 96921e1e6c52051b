"""The service's HELP line stays discreet in every language it offers: enabling a language in which the
line would give the service away is refused in one line, and nothing changes."""

from __future__ import annotations

import pytest

from bot import commands
from bot.commands import signposting
from storage import services
from tests.conftest import World


async def test_a_language_in_which_the_help_line_would_reveal_the_service_is_not_enabled(world: World) -> None:
    # "Heddlu" is Welsh for police: fine to the English list, not to a Welsh reader.
    await signposting.set_help_line(world.app, world.service_id, "Ask for Heddlu Jones on 07700 900456.")
    with pytest.raises(commands.UserError) as refused:
        await commands.set_languages(world.app, world.service_id, enable="cy")
    line = str(refused.value)
    assert "\n" not in line and "HELP line would reveal it in cy" in line and "heddlu" in line
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).languages == ("en_GB",)

    await signposting.set_help_line(world.app, world.service_id, "Ask for Jo on 07700 900456.")
    await commands.set_languages(world.app, world.service_id, enable="cy")
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).languages == ("en_GB", "cy")
