"""What the flow tests share: a pinned clock, a keyed test hash, and a case's context as the shell builds it."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

from flows.engine import handle
from flows.events import AlertRaised, Event
from flows.loader import load_default
from flows.model import Answer, CaseStatus, Context, ConversationState, Input, Message, StartCheckin, Step
from flows.questionset import QuestionSet
from safety.model import History, IntakeLevel, SurvivorSecrets
from safety.screening import pin_digest, secret_digest

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
QS = load_default()
ASK = {q.id: q.text for q in QS.questions}
IDLE = ConversationState()
CALM = History(IntakeLevel.STANDARD, no_contact_order=False)
EXIT_WORD = "Pasta"
CODEWORD = "blue kettle"
PIN = "2468"
DURESS_PIN = "1357"


def hasher(text: str) -> bytes:
    return hmac.new(b"k" * 32, text.encode(), "sha256").digest()


def context(
    status: CaseStatus = CaseStatus.ACTIVE,
    *,
    exit_word: str | None = EXIT_WORD,
    codeword: str | None = CODEWORD,
    pin: str | None = None,
    duress_pin: str | None = None,
    history: History | None = None,
    questionset: QuestionSet = QS,
    **options: object,
) -> Context:
    """A case's context as the shell builds it: secrets are keyed digests, never phrases."""
    secrets = SurvivorSecrets(
        exit_word=secret_digest(exit_word, hasher) if exit_word else None,
        codewords=frozenset({secret_digest(codeword, hasher)}) if codeword else frozenset(),
        pin=pin_digest(pin, hasher) if pin else None,
        duress_pin=pin_digest(duress_pin, hasher) if duress_pin else None,
    )
    return Context(
        now=NOW,
        status=status,
        questionset=questionset,
        secrets=secrets,
        hasher=hasher,
        history=history or CALM,
        **options,  # type: ignore[arg-type]
    )


def run(ctx: Context, *inputs: str | Input, state: ConversationState | None = None) -> list[Step]:
    """Feed inputs one after another, carrying the state between them as the shell does."""
    steps: list[Step] = []
    current = state or ConversationState()
    for item in inputs:
        step = handle(current, Message(item) if isinstance(item, str) else item, ctx)
        steps.append(step)
        current = step.state
    return steps


def checkin(ctx: Context, *inputs: str | Input) -> list[Step]:
    """Start a due check-in and feed it each input, carrying the state as the shell does."""
    steps = [handle(IDLE, StartCheckin(), ctx)]
    for item in inputs:
        steps.append(handle(steps[-1].state, Message(item) if isinstance(item, str) else item, ctx))
    return steps


def events(steps: Iterable[Step]) -> list[Event]:
    return [event for step in steps for event in step.events]


def alerts(steps: Iterable[Step]) -> list[AlertRaised]:
    return [event for event in events(steps) if isinstance(event, AlertRaised)]


def answers(steps: Iterable[Step]) -> list[Answer]:
    return [answer for step in steps for answer in step.answers]


def keys(steps: Iterable[Step]) -> list[str]:
    return [reply.key for step in steps for reply in step.replies]
