"""A service's signposting: check-in mode defaults, the discreet HELP line, local helplines, the safety card.

The shell checks the words (the over-the-shoulder lint for the HELP line); here they are stored as given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from storage.case_mode import CaseMode
from storage.db import Tx
from storage.services import Helpline


async def set_default_mode(tx: Tx, service_id: int, mode: CaseMode) -> None:
    """What the enrolment screen pre-selects (the survivor still chooses)."""
    await tx.execute(
        "UPDATE services SET default_checkin_mode = ?, default_cover_theme = ? WHERE id = ?",
        (mode.mode, mode.theme, service_id),
    )


async def set_help_line(tx: Tx, service_id: int, line: str | None) -> None:
    """The line HELP adds on the channel; None or blank: none."""
    await tx.execute("UPDATE services SET help_line = ? WHERE id = ?", ((line or "").strip() or None, service_id))


async def set_helplines(tx: Tx, service_id: int, helplines: Iterable[Helpline]) -> None:
    rows = [{"name": h.name, "number": h.number, "hours": h.hours} for h in helplines]
    await tx.execute("UPDATE services SET helplines = ? WHERE id = ?", (json.dumps(rows), service_id))


async def set_safety_card(tx: Tx, service_id: int, text: str) -> None:
    await tx.execute("UPDATE services SET safety_card = ? WHERE id = ?", (text, service_id))
