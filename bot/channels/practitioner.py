"""Practitioner channels of the core: the CLI inbox and a PII-free log line."""

from __future__ import annotations

import logging

from bot.alert_text import render
from bot.channels.base import Capabilities, Outgoing
from bot.clock import Clock
from storage import inbox
from storage.db import Database

log = logging.getLogger("safecheck.alerts")


class InboxChannel:
    """Keeps alert texts in the database; `safecheck practitioner inbox` reads them."""

    name = "inbox"
    capabilities = Capabilities()

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def send(self, address: str, message: Outgoing) -> str:
        alert_id = int(message.meta["alert_id"]) if message.meta.get("alert_id") else None
        async with self._db.transaction(urgent=True) as tx:
            row_id = await inbox.add(tx, int(address), alert_id, message.text, self._clock.now())
            await tx.commit()
        return f"inbox-{row_id}"

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None


class LogChannel:
    """One log line per alert: the alert id, case reference, severity and reason — nothing personal."""

    name = "log"
    capabilities = Capabilities()

    async def send(self, address: str, message: Outgoing) -> str:
        alert = render(message.meta)
        # Codes and our own ids only: a log line never carries words that could describe a person.
        log.warning(
            "alert practitioner=%s alert=%s case=%s severity=%s reason=%s",
            address,
            alert.alert_id if alert else "-",
            alert.case_ref if alert else "-",
            alert.severity.lower() if alert else "-",
            alert.reason_code if alert else "-",
        )
        return f"log-{alert.alert_id if alert else '-'}"

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None
