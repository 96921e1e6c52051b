"""Raising, escalating and acknowledging alerts, inside the caller's transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot import sharing
from bot.alert_text import alert_message, known_facts
from safety.model import AlertReason, Severity
from safety.policy import Role
from safety.sharing import kinds_of_alert
from storage import alert_work, alerts, audit, cases, outbox, practitioners, rota, services, timers
from storage.alert_work import Action, Outcome
from storage.cases import Case
from storage.crypto import Crypto
from storage.db import Tx
from storage.services import Service

log = logging.getLogger("safecheck.alerts")


async def raise_alert(
    tx: Tx,
    service: Service,
    case: Case,
    severity: Severity,
    reason: AlertReason,
    now: datetime,
    level: str | None = None,
    facts: Sequence[str] = (),
    crypto: Crypto | None = None,
) -> int:
    """Create the alert, tell the first rung now and set timers for the rest of the ladder, and share it
    with each linked partner whose agreement and her consent allow it (bot/sharing.py).

    `crypto`: needed for an alert partners may receive (a risk rise, anything urgent); a caller that
    raises one without it is a bug, refused here rather than a share silently skipped.

    `facts`: what happened, as fact codes (safety.signals.alert_facts), most serious first; kept on the
    alert so every rung's message says the same. Codes without a phrase are dropped, so nothing but our
    own wording can ever reach a practitioner.
    """
    named = known_facts(facts)
    if len(named) < len(facts):  # a bug upstream: say so without repeating what was passed
        log.error("alert facts dropped case=%s count=%s", case.ref, len(facts) - len(named))
    alert_id = await alerts.create(tx, service.id, case.id, severity.value, reason.value, now, named)
    ladder = service.alert_policy.ladder(severity)
    for index, step in enumerate(ladder):
        if step.after.total_seconds() <= 0:
            await notify(tx, service, case, alert_id, index, step.role, severity, reason, now, level, named)
        else:
            await timers.add(
                tx,
                "escalate",
                f"{alert_id}:{index}",
                now + step.after,
                alert_id=alert_id,
                case_id=case.id,
                service_id=service.id,
                payload={"step": index},
            )
    await audit.log(tx, now, "system", f"alert_raised:{severity.value}:{reason.value}", case.id, f"alert={alert_id}")
    log.info("alert raised alert=%s case=%s severity=%s reason=%s", alert_id, case.ref, severity.value, reason.value)
    if kinds_of_alert(severity, reason):
        if crypto is None:
            raise ValueError(f"a {severity.value} {reason.value} alert may go to partners: pass crypto")
        await sharing.share_alert(tx, crypto, case, alert_id, severity, reason, level, named, now)
    return alert_id


async def notify(
    tx: Tx,
    service: Service,
    case: Case,
    alert_id: int,
    step: int,
    role: Role,
    severity: Severity,
    reason: AlertReason,
    now: datetime,
    level: str | None = None,
    facts: Sequence[str] = (),
) -> list[int]:
    """Queue the alert to everyone holding a role; return who was told."""
    targets = await _targets(tx, service, case, role, now)
    told = []
    message = alert_message(alert_id, case.ref, severity.value, reason.value, level, facts)
    for practitioner_id in targets:
        channels = await practitioners.channel_names(tx, practitioner_id)
        if not channels:
            log.error("practitioner=%s has no alert channel; alert=%s", practitioner_id, alert_id)
            continue
        if not await alerts.notified(tx, alert_id, step, role.value, practitioner_id, now):
            continue
        await outbox.to_practitioner(
            tx,
            practitioner_id=practitioner_id,
            alert_id=alert_id,
            channel=channels[0],
            position=0,
            message=message,
            now=now,
        )
        told.append(practitioner_id)
    return told


async def _targets(tx: Tx, service: Service, case: Case, role: Role, now: datetime) -> list[int]:
    """Who a rung tells: the duty rung, whoever the rota has on duty now. An empty rung falls back
    upward so an alert is never sent to nobody."""
    if role is Role.ASSIGNED_IDVA:
        return [case.idva_id]
    if role is Role.DUTY:
        found = await rota.on_duty(tx, service.id, now)
        if found:
            return found
    for fallback in (role.value, "manager"):
        found = await practitioners.ids_with_role(tx, service.id, fallback)
        if found:
            return found
    return [case.idva_id]


async def escalate(tx: Tx, service: Service, case: Case, alert_id: int, step: int, now: datetime) -> list[int]:
    """An escalation timer fired: tell the next rung unless someone acknowledged."""
    alert = await alerts.get(tx, alert_id)
    if alert is None or alert.acknowledged_at is not None:
        return []
    severity = Severity(alert.severity)
    ladder = service.alert_policy.ladder(severity)
    if step >= len(ladder):
        return []
    role, reason = ladder[step].role, AlertReason(alert.reason)
    told = await notify(tx, service, case, alert_id, step, role, severity, reason, now, facts=alert.signals)
    await audit.log(tx, now, "system", f"alert_escalated:{ladder[step].role.value}", case.id, f"alert={alert_id}")
    return told


class AckRefused(Exception):
    """The practitioner may not acknowledge this alert (one line)."""


# Besides those it was sent to and the case's own IDVA (who sees it in her queue even with no alert
# channel of her own), whoever is on duty for the service (the rota decides) may acknowledge an open
# alert, and so may the service's manager.
ACK_ANY_ROLES = frozenset({"manager"})


async def acknowledge(tx: Tx, alert_id: int, practitioner_id: int, now: datetime, actor: str | None = None) -> bool:
    """Record who acknowledged and when, and stop the escalation. False if already acknowledged.

    Every way of acknowledging (the CLI, `ACK <ref>`, the Telegram button) comes through here, so
    the rule of who may is kept in one place: AckRefused for anyone else.
    """
    alert = await alerts.get(tx, alert_id)
    if alert is None:
        raise AckRefused(f"no alert {alert_id}")
    who = await alerts.acknowledger(tx, practitioner_id)
    if who is None or who.service_id != alert.service_id:
        raise AckRefused(f"practitioner {practitioner_id} is not an active practitioner of this alert's service")
    if "partner" in who.roles:  # a partner agency's person sees shares, never the case's alerts
        raise AckRefused(f"practitioner {practitioner_id} is a partner's person: alerts are not theirs")
    if (
        not who.roles & ACK_ANY_ROLES
        and not await rota.is_on_duty(tx, practitioner_id, now)
        and not await alerts.was_told(tx, alert_id, practitioner_id)
        and (await cases.get(tx, alert.case_id)).idva_id != practitioner_id
    ):
        raise AckRefused(
            f"alert {alert_id} was not sent to practitioner {practitioner_id}: only those it was sent to, "
            "the case's IDVA, the duty IDVA and the service's manager may acknowledge it"
        )
    first = await alerts.acknowledge(tx, alert_id, practitioner_id, now)
    if first:
        await timers.cancel_for_alert(tx, now, alert_id)
        # An operator at the CLI acknowledges on the practitioner's behalf, and is recorded as such.
        detail = f"alert={alert_id}" + (f" on_behalf_of=practitioner:{practitioner_id}" if actor else "")
        await audit.log(
            tx, now, actor or f"practitioner:{practitioner_id}", "alert_acknowledged", alert.case_id, detail
        )
    return first


async def resolve(
    tx: Tx,
    crypto: Crypto,
    alert_id: int,
    practitioner_id: int,
    outcome: Outcome,
    action: Action | None,
    note: str | None,
    now: datetime,
    actor: str | None = None,
) -> bool:
    """Record how an alert ended; False if it was resolved already.

    Resolving acknowledges first, under the same rule of who may (AckRefused otherwise), so an alert
    resolved before anyone acknowledged it stops climbing its ladder exactly as an ACK would stop it.
    """
    await acknowledge(tx, alert_id, practitioner_id, now, actor)
    done = await alert_work.resolve(tx, crypto, alert_id, practitioner_id, outcome, action, note, now)
    if done:
        alert = await alerts.get(tx, alert_id)
        assert alert is not None  # acknowledge found it
        detail = f"alert={alert_id} outcome={outcome.value}" + (f" action={action.value}" if action else "")
        await audit.log(tx, now, actor or f"practitioner:{practitioner_id}", "alert_resolved", alert.case_id, detail)
    return done


async def undeliverable(tx: Tx, alert_id: int, practitioner_id: int, now: datetime) -> None:
    """Every channel of a practitioner failed: climb the ladder now instead of waiting for the next rung."""
    alert = await alerts.get(tx, alert_id)
    if alert is None or alert.acknowledged_at is not None:
        return
    if await timers.bring_forward_escalation(tx, alert_id, now):
        log.warning("alert undeliverable, escalating now alert=%s", alert_id)
        return
    # No rung left: the managers are the last resort, unless they are the ones who cannot be reached.
    case = await cases.get(tx, alert.case_id)
    service = await services.get(tx, alert.service_id)
    ladder = service.alert_policy.ladder(Severity(alert.severity))
    managers = [m for m in await practitioners.ids_with_role(tx, service.id, "manager") if m != practitioner_id]
    if not managers:
        log.error("alert reached nobody alert=%s case=%s", alert_id, case.ref)
        return
    await notify(
        tx,
        service,
        case,
        alert_id,
        len(ladder),
        Role.MANAGER,
        Severity(alert.severity),
        AlertReason(alert.reason),
        now,
        facts=alert.signals,
    )
