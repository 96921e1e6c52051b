"""A case's check-in mode (direct, or cover with its theme) and whether she may set her secrets on her channel.

Chosen with her in person; the shell checks the theme against the question set and her language before
it gets here. Here only the shape is enforced: cover always has a theme, direct never has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Tx

MODES = ("direct", "cover")


@dataclass(frozen=True)
class CaseMode:
    mode: str
    theme: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown check-in mode {self.mode!r}")
        if (self.mode == "cover") != bool(self.theme):
            raise ValueError("cover mode needs a theme, and direct mode has none")

    def audit_detail(self) -> str:
        """Codes only: the mode and the theme's name."""
        return f"mode={self.mode} theme={self.theme or '-'}"


async def set_mode(tx: Tx, case_id: int, mode: CaseMode) -> None:
    """Record how her check-ins read from now on."""
    await tx.execute(
        "UPDATE cases SET checkin_mode = ?, cover_theme = ? WHERE id = ?", (mode.mode, mode.theme, case_id)
    )


async def set_secrets_on_channel(tx: Tx, case_id: int, allowed: bool) -> None:
    """Whether she may set her secrets over her channel (Telegram with auto-delete on: the caller checks)."""
    await tx.execute("UPDATE cases SET secrets_on_channel = ? WHERE id = ?", (int(allowed), case_id))


async def themes_in_use(tx: Tx, service_id: int) -> list[str]:
    """The cover themes of the service's cases that may still be messaged: a new question set must fit them."""
    rows = await tx.all(
        "SELECT DISTINCT cover_theme FROM cases WHERE service_id = ? AND checkin_mode = 'cover' "
        "AND status IN ('pending', 'onboarding', 'active', 'paused') ORDER BY cover_theme",
        (service_id,),
    )
    return [r["cover_theme"] for r in rows]
