"""Practitioner commands: add, list, and read the inbox."""

from __future__ import annotations

from typing import Any

from bot.app import App
from bot.commands.common import UserError
from storage import audit, inbox, practitioners
from storage.practitioners import ROLES, ChannelAddress

PRACTITIONER_CHANNELS = ("inbox", "log")


async def add_practitioner(app: App, svc: int, name: str, role: str, channels: list[str]) -> int:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise UserError("a practitioner needs a name (--name)")
    if not channels:
        raise UserError("a practitioner needs at least one alert channel (--channels inbox,log)")
    for channel in channels:
        if channel not in PRACTITIONER_CHANNELS:
            raise UserError(f"unknown alert channel {channel!r}: use {', '.join(PRACTITIONER_CHANNELS)}")
    now = app.clock.now()
    async with app.db.transaction() as tx:
        pid = await practitioners.add(
            tx, app.crypto, svc, role, name.strip(), [ChannelAddress(c, None) for c in channels], now
        )
        await audit.log(tx, now, "manager", f"practitioner_added:{role}", None, f"practitioner={pid}")
        await tx.commit()
    return pid


async def read_inbox(app: App, practitioner_id: int, unread_only: bool = False) -> list[dict[str, Any]]:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        if await practitioners.active_service(tx, practitioner_id) is None:
            raise UserError(f"no active practitioner {practitioner_id}")
        rows = await inbox.for_practitioner(tx, practitioner_id, unread_only)
        await inbox.mark_read(tx, practitioner_id, now)
        await tx.commit()
    return [{"id": r["id"], "alert": r["alert_id"], "at": r["created_at"], "text": r["body"]} for r in rows]


async def list_practitioners(app: App, svc: int) -> list[dict[str, Any]]:
    async with app.db.transaction() as tx:
        found = await practitioners.list_for_service(tx, app.crypto, svc)
        return [
            {
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "active": p.active,
                "channels": await practitioners.channel_names(tx, p.id),
            }
            for p in found
        ]
