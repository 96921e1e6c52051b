"""Domain event handlers, run inside the transaction of the input that caused the events.

The table at the bottom maps each event type to its handler. A handler that fails fails the whole
transaction: an alert is never swallowed, the inbound message is retried instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import alerting, case_state, sharing
from bot.core import Core
from bot.planning import plan_next
from flows.events import (
    Activated,
    AlertRaised,
    CallbackRequested,
    CheckinCompleted,
    CheckinDeferred,
    CheckinMissed,
    CheckinStarted,
    CodewordUsed,
    ConsentRecorded,
    ConsentWithdrawn,
    DuressPinUsed,
    Event,
    ExitPauseChosen,
    LanguageChosen,
    OnboardingCompleted,
    PauseRequested,
    PinFailedTwice,
    QuickExitUsed,
    ResumeRequested,
    SafeWindowsChosen,
    SecretChosen,
    SecretKind,
)
from flows.model import CaseStatus
from flows.schedule import in_window
from safety.model import AlertReason, Severity
from safety.screening import pin_digest, secret_digest
from safety.signals import alert_facts
from storage import audit, cases, checkins, outbox, timers
from storage.cases import Case, windows_to_json
from storage.db import Tx
from storage.services import Service

CHECKIN_TIMERS = ("reminder", "expire")


@dataclass
class Effects:
    """What the handlers of one step share: the check-in in play and how the input arrived."""

    checkin_id: int | None = None
    how: str = "system"


@dataclass
class H:
    tx: Tx
    core: Core
    case: Case
    service: Service
    effects: Effects
    now: datetime

    async def log(self, action: str, detail: str = "") -> None:
        await audit.log(
            self.tx, self.now, "survivor" if self.effects.how != "system" else "system", action, self.case.id, detail
        )

    async def set(self, **fields: object) -> None:
        await cases.update(self.tx, self.case.id, **fields)

    async def close_checkin(self, status: str) -> None:
        if self.effects.checkin_id is not None:
            await checkins.close_checkin(self.tx, self.effects.checkin_id, status, self.now)
        await timers.cancel(self.tx, self.now, self.case.id, CHECKIN_TIMERS)


async def on_activated(h: H, e: Activated) -> None:
    await h.set(status="onboarding", activation_hash=None, activation_expires_at=None)
    await h.log("activated")


async def on_consent(h: H, e: ConsentRecorded) -> None:
    await cases.add_consent(h.tx, h.case.id, e.topic, e.agreed, e.text_version, h.effects.how, h.now)
    await h.log(f"consent:{e.topic}:{'yes' if e.agreed else 'no'}", e.text_version)
    if e.topic == "missed_alerts":
        await h.set(missed_alerts_agreed=int(e.agreed))
    elif not e.agreed:
        await _withdraw(h)
        await alerting.raise_alert(h.tx, h.service, h.case, Severity.RAISED, AlertReason.CONSENT_WITHDRAWN, h.now)


async def on_windows(h: H, e: SafeWindowsChosen) -> None:
    await h.set(safe_windows=windows_to_json(e.windows))
    await h.log("safe_windows_set")


_SECRET_FIELD = {
    SecretKind.EXIT_WORD: "exit_word_hash",
    SecretKind.CODEWORD: "codeword_hash",
    SecretKind.PIN: "pin_hash",
    SecretKind.DURESS_PIN: "duress_pin_hash",
}


async def on_secret(h: H, e: SecretChosen) -> None:
    hasher = h.core.crypto.secret_hasher(h.case.salt)
    is_pin = e.kind in (SecretKind.PIN, SecretKind.DURESS_PIN)
    digest = pin_digest(e.phrase, hasher) if is_pin else secret_digest(e.phrase, hasher)
    await cases.update(h.tx, h.case.id, **{_SECRET_FIELD[e.kind]: digest})
    await h.log(f"secret_set:{e.kind.value}")


async def on_exit_pause(h: H, e: ExitPauseChosen) -> None:
    await h.set(exit_pause_minutes=int(e.pause.total_seconds() // 60))


async def on_language(h: H, e: LanguageChosen) -> None:
    await h.set(language=e.language)
    await h.log("language_set", e.language)


async def on_onboarded(h: H, e: OnboardingCompleted) -> None:
    await h.set(status="active", onboarded_at=h.now)
    await h.log("onboarding_completed")
    fresh = await cases.get(h.tx, h.case.id)  # windows were chosen in this very transaction
    if await plan_next(h.tx, h.core.rand, fresh, h.now) is None:
        # Nobody would ever check in with this survivor: the IDVA must set a schedule that fits.
        await alerting.raise_alert(h.tx, h.service, h.case, Severity.RAISED, AlertReason.SCHEDULE_UNFIT, h.now)


async def on_checkin_started(h: H, e: CheckinStarted) -> None:
    policy = h.service.missed_policy
    key = str(h.effects.checkin_id)
    payload = {"checkin_id": h.effects.checkin_id}
    await timers.add(h.tx, "reminder", key, h.now + policy.reminder_after, case_id=h.case.id, payload=payload)
    await timers.add(h.tx, "expire", key, h.now + policy.grace, case_id=h.case.id, payload=payload)


async def on_deferred(h: H, e: CheckinDeferred) -> None:
    await h.close_checkin("deferred")
    retry_at = h.now + e.retry_after
    if h.effects.checkin_id is not None and in_window(retry_at, ZoneInfo(h.case.timezone), h.case.safe_windows):
        slot = await checkins.slot_of(h.tx, h.effects.checkin_id)
        if not slot.endswith("r"):  # one retry per slot
            await timers.add(
                h.tx,
                "checkin",
                f"{h.case.id}:{slot}r",
                retry_at,
                case_id=h.case.id,
                payload={"slot": f"{slot}r", "retry": True},
            )
    await h.log("checkin_deferred")


async def on_completed(h: H, e: CheckinCompleted) -> None:
    await checkins.add_assessment(h.tx, h.case.id, h.effects.checkin_id, e.assessment, e.change, e.complete, h.now)
    await h.close_checkin("completed" if e.complete else "partial")
    await h.log("checkin_completed", f"level={e.assessment.level.label} change={e.change.change.value}")
    signals = alert_facts(e.assessment.signals, h.case.no_contact_order)
    await sharing.share_checkin(h.tx, h.core.crypto, h.case, e.assessment.level.label, signals, h.now)


async def on_missed(h: H, e: CheckinMissed) -> None:
    await h.close_checkin("missed")
    await h.log("checkin_missed")


async def on_quick_exit(h: H, e: QuickExitUsed) -> None:
    await outbox.cancel_for_survivor(h.tx, h.case.id)
    await h.close_checkin("exited")
    # During set-up too: nothing goes to her until the pause is over, and set-up waits for her to write.
    await case_state.pause(h.tx, h.case.id, h.now + e.pause, h.now)
    await h.log("quick_exit")
    in_setup = h.case.status == CaseStatus.ONBOARDING.value
    reason = AlertReason.EXIT_IN_ONBOARDING if in_setup else AlertReason.QUICK_EXIT
    await alerting.raise_alert(h.tx, h.service, h.case, Severity.RAISED, reason, h.now)


async def on_codeword(h: H, e: CodewordUsed) -> None:
    await h.log("codeword_received")


async def on_duress(h: H, e: DuressPinUsed) -> None:
    await h.log("duress_pin_received")


async def on_pin_failed(h: H, e: PinFailedTwice) -> None:
    await h.close_checkin("pin_failed")
    await h.log("pin_failed_twice")


async def on_callback(h: H, e: CallbackRequested) -> None:
    await h.log(f"callback_requested:{e.urgency}")


async def on_pause(h: H, e: PauseRequested) -> None:
    await h.close_checkin("ended")
    await case_state.pause(h.tx, h.case.id, e.until, h.now)
    await h.log("paused", e.until.isoformat())


async def on_resume(h: H, e: ResumeRequested) -> None:
    if h.case.status == "paused":
        await case_state.resume(h.tx, h.core.rand, h.case, h.now)
        await h.log("resumed")


async def _withdraw(h: H) -> None:
    """Stop everything and erase all that is personal (storage.cases.erase), down to the WAL's old pages.

    Her own confirmation, queued after this in the same step, still goes: it holds its own copy of the address.
    """
    await outbox.cancel_for_survivor(h.tx, h.case.id)
    await h.close_checkin("ended")
    await timers.cancel_all(h.tx, h.now, h.case.id)
    await cases.erase(h.tx, h.case.id)
    await h.set(status="withdrawn", closed_at=h.now)
    h.tx.erasing()


async def on_withdrawn(h: H, e: ConsentWithdrawn) -> None:
    await cases.add_consent(h.tx, h.case.id, "checkins", False, "withdrawal", h.effects.how, h.now)
    await _withdraw(h)
    await h.log("consent_withdrawn")


async def on_alert(h: H, e: AlertRaised) -> None:
    await alerting.raise_alert(
        h.tx, h.service, h.case, e.severity, e.reason, h.now, e.level, e.facts, crypto=h.core.crypto
    )


Handler = Callable[[H, Any], Awaitable[None]]

HANDLERS: dict[type[Event], Handler] = {
    Activated: on_activated,
    ConsentRecorded: on_consent,
    SafeWindowsChosen: on_windows,
    SecretChosen: on_secret,
    ExitPauseChosen: on_exit_pause,
    OnboardingCompleted: on_onboarded,
    CheckinStarted: on_checkin_started,
    CheckinDeferred: on_deferred,
    CheckinCompleted: on_completed,
    CheckinMissed: on_missed,
    QuickExitUsed: on_quick_exit,
    CodewordUsed: on_codeword,
    DuressPinUsed: on_duress,
    PinFailedTwice: on_pin_failed,
    CallbackRequested: on_callback,
    PauseRequested: on_pause,
    ResumeRequested: on_resume,
    ConsentWithdrawn: on_withdrawn,
    AlertRaised: on_alert,
    LanguageChosen: on_language,
}
