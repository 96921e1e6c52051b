"""What the alert pages show and whom: the viewer's queue, and an alert in plain words for a template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from bot.alert_text import reason_words
from bot.web.viewer import Viewer
from bot.web.words import N_, _, ngettext
from safety.model import Severity
from safety.policy import AlertPolicy
from storage import alert_work, practitioners, services
from storage.alert_work import QueuedAlert
from storage.crypto import Crypto
from storage.db import Tx

ROLE_NAMES = {"idva": N_("IDVA"), "duty": N_("duty"), "manager": N_("manager")}
# Shown as they are stored (templates translate them): marked here so extraction finds them.
WORDS_SHOWN_AS_STORED = (
    N_("urgent"),
    N_("high"),
    N_("raised"),  # severities
    N_("idva"),
    N_("admin"),
    N_("partner"),  # roles (account page)
)


class Scope(Enum):
    SERVICE = "service"  # every open alert of the service
    OWN = "own"  # alerts on the viewer's own cases
    NONE = "none"  # admin alone: no case content


def scope_of(who: Viewer) -> Scope:
    """Managers, and duty staff while on duty, watch the whole service; an IDVA their own caseload."""
    if who.has("manager") or (who.has("duty") and who.on_duty):
        return Scope.SERVICE
    if who.has("idva"):
        return Scope.OWN
    return Scope.NONE


async def queue_for(tx: Tx, who: Viewer) -> list[QueuedAlert]:
    scope = scope_of(who)
    if scope is Scope.NONE:
        return []
    return await alert_work.queue(tx, who.service_id, who.practitioner_id if scope is Scope.OWN else None)


def may_see(who: Viewer, alert: QueuedAlert) -> bool | None:
    """True if the alert is in this person's reach; False if not (403); None if it is another service's (404)."""
    if alert.service_id != who.service_id:
        return None
    scope = scope_of(who)
    if scope is Scope.SERVICE:
        if alert.resolved_at is None or who.has("manager"):
            return True
        # Duty staff, once an alert is closed: only one they were told of or dealt with themselves.
        involved = {t.practitioner_id for t in alert.told} | {alert.acknowledged_by, alert.resolved_by}
        return who.practitioner_id in involved
    return scope is Scope.OWN and alert.idva_id == who.practitioner_id


def signature(queue: list[QueuedAlert]) -> tuple[object, ...]:
    """What a change to the queue's display depends on (the stream compares these)."""
    return tuple((a.id, a.acknowledged_at, a.rung, a.next_rung) for a in queue)


@dataclass(frozen=True)
class Shown:
    """An alert in words and times, ready for a template."""

    id: int
    severity: str  # urgent, high, raised
    case_ref: str
    reason: str
    raised: str  # local time
    raised_iso: str
    age: str
    told: tuple[str, ...]
    rung: str
    next_rung: str
    acknowledged: str  # empty while nobody has
    resolved: bool


def duration(delta: timedelta) -> str:
    """A short, rounded-down length of time: '3 min', '2 h 5 min', '1 day 4 h'."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return _("under a minute")
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return ngettext("{days} day {hours} h", "{days} days {hours} h", days).format(days=days, hours=hours)
    return _("{hours} h {mins} min").format(hours=hours, mins=mins) if hours else _("{mins} min").format(mins=mins)


class Wording:
    """Turns queue items into plain words, with the service's time zone, ladder and staff names."""

    def __init__(self, zone: ZoneInfo, policy: AlertPolicy, names: dict[int, str], now: datetime) -> None:
        self.zone, self.policy, self.names, self.now = zone, policy, names, now

    @classmethod
    async def load(cls, tx: Tx, crypto: Crypto, service_id: int, now: datetime) -> Wording:
        service = await services.get(tx, service_id)
        staff = await practitioners.list_for_service(tx, crypto, service_id)
        return cls(ZoneInfo(service.timezone), service.alert_policy, {p.id: p.name for p in staff}, now)

    def at(self, when: datetime) -> str:
        local = when.astimezone(self.zone)
        today = self.now.astimezone(self.zone).date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M")

    def name(self, practitioner_id: int | None) -> str:
        return self.names.get(practitioner_id or 0, _("someone no longer listed"))

    def _role_at(self, severity: str, step: int) -> str:
        ladder = self.policy.ladder(Severity(severity))
        return _(ROLE_NAMES.get(ladder[step].role.value, ladder[step].role.value) if step < len(ladder) else "manager")

    def show(self, a: QueuedAlert) -> Shown:
        ladder_size = len(self.policy.ladder(Severity(a.severity)))
        told = tuple(
            _("{name} ({role}) at {time}").format(
                name=self.name(t.practitioner_id), role=_(ROLE_NAMES.get(t.role, t.role)), time=self.at(t.at)
            )
            for t in a.told
        )
        rung = (
            _("nobody told yet")
            if a.rung is None
            else _("rung {rung} of {rungs}: {role}").format(
                rung=a.rung + 1, rungs=ladder_size, role=self._role_at(a.severity, a.rung)
            )
        )
        if a.acknowledged_at is not None:
            next_rung = _("none: acknowledged, the ladder has stopped")
        elif a.next_rung is None:
            next_rung = _("none: the last rung has been told")
        else:
            wait = a.next_rung.due_at - self.now
            when = _("in {duration}").format(duration=duration(wait)) if wait > timedelta(0) else _("due now")
            next_rung = _("{role} {when} ({time})").format(
                role=self._role_at(a.severity, a.next_rung.step), when=when, time=self.at(a.next_rung.due_at)
            )
        acknowledged = ""
        if a.acknowledged_at is not None:
            took = duration(a.acknowledged_at - a.created_at)
            acknowledged = _("by {name} at {time}, after {took}").format(
                name=self.name(a.acknowledged_by), time=self.at(a.acknowledged_at), took=took
            )
        return Shown(
            id=a.id,
            severity=a.severity,
            case_ref=a.case_ref,
            reason=reason_words(a.reason, a.signals),  # the one wording every channel uses
            raised=self.at(a.created_at),
            raised_iso=a.created_at.isoformat(),
            age=duration(self.now - a.created_at),
            told=told,
            rung=rung,
            next_rung=next_rung,
            acknowledged=acknowledged,
            resolved=a.resolved_at is not None,
        )
