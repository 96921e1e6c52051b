"""Practitioner commands: add, list, and read the inbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from bot.app import App
from bot.channels.email_settings import valid_address
from bot.commands.common import UserError, operator
from storage import accounts, audit, inbox, practitioners
from storage.db import Tx
from storage.practitioners import ROLES, ChannelAddress


def _matches(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda text: compiled.fullmatch(text) is not None


# Alert channels, and what an address on each looks like (None: the channel takes no address).
ADDRESS_FORMS: dict[str, tuple[Callable[[str], bool], str] | None] = {
    "inbox": None,
    "log": None,
    "telegram": (
        _matches(r"-?\d{1,20}"),
        "a Telegram chat id (or none: link the chat with `practitioner link`)",
    ),
    "sms": (_matches(r"\+[1-9]\d{6,14}"), "a mobile number in international form, e.g. sms:+447700900001"),
    "email": (valid_address, "a plain e-mail address, e.g. email:ida@example.org"),
}
PRACTITIONER_CHANNELS = tuple(ADDRESS_FORMS)
NEEDS_ADDRESS = ("sms", "email")  # telegram gets its address when the practitioner links their chat
# What turns each provider's channel on (docs/telegram.md, docs/sms.md, docs/email.md).
SETTINGS_HINT = {
    "telegram": "TELEGRAM_BOT_TOKEN",
    "sms": "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender",
    "email": "SMTP_HOST and SMTP_FROM",
}


def parse_channel(spec: str) -> ChannelAddress:
    """ "inbox", "telegram", "sms:+447700900001" or "email:ida@example.org"; a bad one is a UserError."""
    channel, _, address = spec.strip().partition(":")
    channel, address = channel.strip().lower(), "".join(address.split())
    if channel not in ADDRESS_FORMS:
        raise UserError(f"unknown alert channel {channel!r}: use {', '.join(PRACTITIONER_CHANNELS)}")
    form = ADDRESS_FORMS[channel]
    if form is None:
        if address:
            raise UserError(f"the {channel} channel takes no address, not {channel}:{address}")
        return ChannelAddress(channel, None)
    valid, hint = form
    if not address:
        if channel in NEEDS_ADDRESS:
            raise UserError(f"the {channel} channel needs an address: {hint}")
        return ChannelAddress(channel, None)
    if not valid(address):
        raise UserError(f"{channel} address must be {hint}")  # the value itself is not echoed: it is personal
    return ChannelAddress(channel, address)


async def add_practitioner(
    app: App,
    svc: int,
    name: str,
    role: str,
    channels: list[str],
    configured: Collection[str] | None = None,
    actor: str | None = None,
) -> int:
    """Add a practitioner; with `configured`, every alert channel must be one this installation can send on."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise UserError("a practitioner needs a name (--name)")
    if not channels:
        raise UserError("a practitioner needs at least one alert channel (--channels inbox,log)")
    parsed = [parse_channel(c) for c in channels]
    if len({c.channel for c in parsed}) < len(parsed):
        raise UserError("each alert channel may appear once in --channels")
    for c in parsed:
        if configured is not None and c.channel not in configured:
            # Alerts queued for a channel that is off would only ever fall back: say so now.
            raise UserError(
                f"the {c.channel} alert channel is not configured here: set {SETTINGS_HINT.get(c.channel, '?')} "
                f"(in this command's environment too), or use {', '.join(configured)}"
            )
    now = app.clock.now()
    async with app.db.transaction() as tx:
        pid = await practitioners.add(tx, app.crypto, svc, role, name.strip(), parsed, now)
        await audit.log(tx, now, actor or operator(), f"practitioner_added:{role}", None, f"practitioner={pid}", svc)
        await tx.commit()
    return pid


async def invite(app: App, svc: int, roles: frozenset[str], name: str, actor: str | None = None) -> str:
    """A one-time invitation to the workspace; returns its token (the link is shown once)."""
    if not name.strip():
        raise UserError("an invitation needs the person's name (--name)")
    if not roles or not roles <= set(accounts.ROLES):
        raise UserError(f"roles must be some of {', '.join(accounts.ROLES)}")
    now = app.clock.now()
    who = actor or operator()
    async with app.db.transaction() as tx:
        token = await accounts.invite(tx, app.crypto, svc, roles, name.strip(), who, now)
        await audit.log(tx, now, who, "invitation_created", None, f"roles={','.join(sorted(roles))}", svc)
        await tx.commit()
    return token


async def reset_account(app: App, svc: int, practitioner_id: int, actor: str | None = None) -> str:
    """A one-time link that lets a person set a new password and second factor; returns its token."""
    now = app.clock.now()
    who = actor or operator()
    async with app.db.transaction() as tx:
        await _check_practitioner(tx, practitioner_id, svc)
        token = await accounts.reset_link(tx, app.crypto, practitioner_id, who, now)
        if token is None:
            raise UserError(f"practitioner {practitioner_id} has no workspace account yet: send an invitation instead")
        await audit.log(tx, now, who, "account_reset_link", None, f"practitioner={practitioner_id}", svc)
        await tx.commit()
    return token


async def _check_practitioner(tx: Tx, practitioner_id: int, svc: int | None) -> None:
    """An active practitioner, of the chosen service when one is given: ids never reach across services."""
    found = await practitioners.active_service(tx, practitioner_id)
    if found is None or (svc is not None and found != svc):
        raise UserError(f"no active practitioner {practitioner_id} in this service (see `safecheck practitioner list`)")


async def read_inbox(
    app: App, practitioner_id: int, unread_only: bool = False, *, svc: int | None = None
) -> list[dict[str, Any]]:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        await _check_practitioner(tx, practitioner_id, svc)
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


async def link_code(app: App, practitioner_id: int, channel: str, *, svc: int | None = None) -> str:
    """A one-time code the practitioner sends from their chat (valid 24 h) to receive alerts there."""
    if channel != "telegram":
        raise UserError(f"only telegram chats are linked with a code, not {channel!r} (give sms/email addresses)")
    now = app.clock.now()
    async with app.db.transaction() as tx:
        await _check_practitioner(tx, practitioner_id, svc)
        code = await practitioners.new_link(tx, app.crypto, practitioner_id, channel, now)
        await audit.log(
            tx, now, "manager", f"practitioner_link_issued:{channel}", None, f"practitioner={practitioner_id}"
        )
        await tx.commit()
    return code
