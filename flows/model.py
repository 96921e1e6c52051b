"""Core types of the conversation engine: inputs, replies, answers, state and steps."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from flows.events import Event
from flows.questionset import Question, QuestionSet
from safety.model import Hasher, History, SurvivorSecrets
from safety.policy import DEFAULT_MISSED_POLICY, MissedPolicy

Param = str | int | datetime  # datetimes are formatted in the survivor's locale and time zone


class CaseStatus(str, Enum):
    PENDING = "pending"  # enrolled; waiting for the activation code from the survivor's phone
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"  # closed by the service
    WITHDRAWN = "withdrawn"  # consent withdrawn by the survivor

    @property
    def reachable(self) -> bool:
        """Whether the survivor may be messaged at all."""
        return self in (CaseStatus.ONBOARDING, CaseStatus.ACTIVE, CaseStatus.PAUSED)


class Flow(str, Enum):
    ONBOARDING = "onboarding"
    CHECKIN = "checkin"


# ---- inputs (goflow's "resumes") ----


@dataclass(frozen=True)
class Message:
    """Text from the survivor."""

    text: str


@dataclass(frozen=True)
class StartCheckin:
    """A scheduled check-in fell due."""


@dataclass(frozen=True)
class Timeout:
    """The survivor has not answered for a while: nudge once."""


@dataclass(frozen=True)
class Expiry:
    """The check-in's window is over: close it with what we have."""


@dataclass(frozen=True)
class ExitPressed:
    """The survivor tapped a one-tap Exit button: the same as sending the exit word."""


Input = Message | StartCheckin | Timeout | Expiry | ExitPressed


# ---- outputs ----


@dataclass(frozen=True)
class Reply:
    """A message to the survivor: a gettext msgid, its parameters and option labels (msgids).

    With `plural` (the plural msgid) the shell picks the form for `params["count"]` by the
    survivor's language's plural rule. A question set's own inline translation is already the
    text itself: gettext finds no msgid for it and leaves it as it is.
    """

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    plural: str | None = None


@dataclass(frozen=True)
class Answer:
    """One recorded answer. `text` is free text (encrypted at rest); options are option keys."""

    question: str
    options: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    text: str | None = field(default=None, repr=False)
    unanswered: bool = False


@dataclass(frozen=True)
class ConversationState:
    """Where a survivor's conversation stands. Serialised between inputs; holds no secrets."""

    flow: Flow | None = None
    step: str | None = None
    retries: int = 0
    reminded: bool = False
    signals: tuple[str, ...] = ()
    answered: int = 0
    pin_failures: int = 0
    other_digest: str | None = None  # hex digest of the secret chosen just before, which the next must differ from
    resume_step: str | None = None  # the question to go on to after the PIN check
    alerted: tuple[str, ...] = ()  # alert reasons already raised during this check-in
    choosing_language: bool = False  # LANGUAGE listed the languages: the next reply may pick one
    stop_asked: bool = False  # a stop word came at a secret's prompt and was asked about once
    plan: tuple[str, ...] = ()  # the rotating questions this check-in still has to ask

    def to_json(self) -> str:
        return json.dumps(
            {
                "flow": self.flow.value if self.flow else None,
                "step": self.step,
                "retries": self.retries,
                "reminded": self.reminded,
                "signals": list(self.signals),
                "answered": self.answered,
                "pin_failures": self.pin_failures,
                "other_digest": self.other_digest,
                "resume_step": self.resume_step,
                "alerted": list(self.alerted),
                "choosing_language": self.choosing_language,
                "stop_asked": self.stop_asked,
                "plan": list(self.plan),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> ConversationState:
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            flow=Flow(raw["flow"]) if raw.get("flow") else None,
            step=raw.get("step"),
            retries=int(raw.get("retries", 0)),
            reminded=bool(raw.get("reminded", False)),
            signals=tuple(raw.get("signals", ())),
            answered=int(raw.get("answered", 0)),
            pin_failures=int(raw.get("pin_failures", 0)),
            other_digest=raw.get("other_digest"),
            resume_step=raw.get("resume_step"),
            alerted=tuple(raw.get("alerted", ())),
            choosing_language=bool(raw.get("choosing_language", False)),
            stop_asked=bool(raw.get("stop_asked", False)),
            plan=tuple(raw.get("plan", ())),
        )

    def at(self, flow: Flow, step: str) -> ConversationState:
        return replace(
            self, flow=flow, step=step, retries=0, reminded=False, choosing_language=False, stop_asked=False
        )


SOURCE_LANGUAGE = "en_GB"


def as_written(language: str, msgid: str) -> str:
    """A translator that knows no catalogs: every msgid reads as written (British English)."""
    return msgid


@dataclass(frozen=True)
class Context:
    """Everything about the case and the service the engine may read. No I/O behind it."""

    now: datetime
    status: CaseStatus
    questionset: QuestionSet
    secrets: SurvivorSecrets
    hasher: Hasher
    history: History
    sender_name: str = "Alex"
    exit_pause: timedelta = timedelta(days=1)  # the survivor's chosen pause after a quick exit
    activation_code: bytes | None = None  # keyed hash of the one-time code, while PENDING
    cover_line: bool = False  # send an innocuous line after a quick exit
    carrier_opt_out: bool = False  # her channel's carrier acts on STOP itself (SMS): it is always a withdrawal
    missed_alerts_agreed: bool = False
    secrets_in_person: bool = False  # she chose her secrets on the IDVA's device: onboarding never asks for them
    missed_policy: MissedPolicy = DEFAULT_MISSED_POLICY
    # The ids of the questions she answered at each recent check-in, oldest first: what the rotation reads.
    recent_questions: tuple[frozenset[str], ...] = ()
    secrets_on_channel: bool = False  # her set-up may ask for her secrets (Telegram with auto-delete on)
    help_line: str | None = None  # the service's own discreet line after HELP, sent as written
    pin_prompt: str | None = None  # her cover theme's way of asking for the PIN (a msgid), or the default
    ended_line: str | None = None  # her cover theme's neutral line when she ends a check-in quietly
    language: str = SOURCE_LANGUAGE  # the survivor's language (a catalog locale: en_GB, cy, ur...)
    languages: tuple[str, ...] = (SOURCE_LANGUAGE,)  # the languages the service offers, default first
    # (language, msgid) -> the catalog's text: the shell's compiled catalogs, a pure lookup. The
    # engine needs it only to read answers typed in the survivor's language.
    translate: Callable[[str, str], str] = as_written


@dataclass(frozen=True)
class Step:
    """The result of one input: new state, replies, answers and events.

    `sensitive` tells the shell not to store the input's text (it held a secret).
    """

    state: ConversationState
    replies: tuple[Reply, ...] = ()
    answers: tuple[Answer, ...] = ()
    events: tuple[Event, ...] = ()
    sensitive: bool = False


def ask(question: Question, ctx: Context) -> Reply:
    """The reply that asks a question, with its option labels (numbered, or buttons).

    Text from the catalogs stays a msgid, rendered at send time; a question set's inline
    translation for the survivor's language is used as it is.
    """
    language = ctx.language
    return Reply(
        question.texts.get(language, question.text),
        {"sender": ctx.sender_name},
        tuple(o.labels.get(language, o.label) for o in question.options),
    )
