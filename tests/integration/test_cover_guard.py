"""A service cannot swap in a question set that the cover themes of its cases do not reword: her
check-ins would have no discreet words left. One line says so, nothing changes, and once those cases
are moved to another mode the set is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import commands
from bot.commands import case_mode
from storage import services
from tests.conftest import World

SHORT_SET = """
id = "short"
version = 1
start = "how"

[[questions]]
id = "how"
kind = "choice"
text = "Hi, it's {sender}.\\nHow are things?"

  [[questions.options]]
  key = "fine"
  label = "Fine"

  [[questions.options]]
  key = "not_great"
  label = "Not great"
  signals = ["fear_little"]
"""


async def test_a_question_set_the_cases_cover_theme_does_not_reword_is_refused_in_one_line(
    world: World, tmp_path: Path
) -> None:
    ref, _ = await world.enrol()
    await case_mode.set_mode(world.app, world.service_id, ref, "cover", "salon", actor="test")
    path = tmp_path / "short.toml"
    path.write_text(SHORT_SET, encoding="utf-8")
    with pytest.raises(commands.UserError) as refused:
        await commands.configure_service(world.app, world.service_id, questionset=str(path))
    line = str(refused.value)
    assert "\n" not in line and "cover theme 'salon'" in line and "move them to another mode first" in line
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).questionset is None  # still the default

    await case_mode.set_mode(world.app, world.service_id, ref, "direct", None, actor="test")
    await commands.configure_service(world.app, world.service_id, questionset=str(path))
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).questionset == SHORT_SET
