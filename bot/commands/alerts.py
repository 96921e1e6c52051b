"""Alert commands: list alerts with who was told, and acknowledge one."""

from __future__ import annotations

from typing import Any

from bot import alerting
from bot.alert_text import reason_words
from bot.app import App
from bot.commands.common import UserError, operator
from storage import alerts


async def list_alerts(app: App, svc: int, open_only: bool) -> list[dict[str, Any]]:
    async with app.db.transaction() as tx:
        found = await alerts.list_for_service(tx, svc, open_only)
        out = []
        for a in found:
            told = await alerts.notifications(tx, a.id)
            out.append(
                {
                    "id": a.id,
                    "case": a.case_ref,
                    "severity": a.severity,
                    "reason": a.reason,
                    "signals": list(a.signals),  # what happened, as codes
                    "said": reason_words(a.reason, a.signals),  # as every practitioner channel words it
                    "created_at": a.created_at.isoformat(),
                    "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
                    "acknowledged_by": a.acknowledged_by,
                    "notified": [
                        {"step": t["step"], "role": t["role"], "practitioner": t["practitioner_id"]} for t in told
                    ],
                }
            )
    return out


async def ack(app: App, alert_id: int, practitioner_id: int, *, svc: int | None = None) -> str:
    """Acknowledge an alert as a practitioner; with `svc`, only an alert of that service."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        alert = await alerts.get(tx, alert_id)
        if alert is not None and svc is not None and alert.service_id != svc:
            raise UserError(f"alert {alert_id} belongs to another service: leave out --service, or name its own")
        try:
            first = await alerting.acknowledge(tx, alert_id, practitioner_id, now, actor=operator())
        except alerting.AckRefused as exc:
            raise UserError(str(exc)) from None
        await tx.commit()
    return f"alert {alert_id} acknowledged" if first else f"alert {alert_id} was already acknowledged"
