"""A whole thread as it stays on her phone, in every language and mode, read by someone over her shoulder.

For each language and each mode (direct; cover, with every theme offered in that language) the engine
runs a complete simulated thread, from activation to her exit word, and every reply is rendered with
the real catalogs as the dispatcher renders it. Whoever reads the whole thread must learn nothing:
every reply that is not a check-in question passes the whole-body lint (`thread_problems`, with the
service's name refused too); in cover mode the check-in questions and the PIN prompt pass it as well
(the thread reads as a booking or a chat); in direct mode a check-in question says what it must on
line 2, so only its first line (the notification preview) is linted. None of her secrets is ever
echoed back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from bot.i18n import Catalogs, to_message
from flows import checkin, cover
from flows import replies as R
from flows.cover import CoverTheme
from flows.discretion import first_line_problems, thread_problems
from flows.engine import activation_digest, handle
from flows.events import (
    Activated,
    LanguageChosen,
    OnboardingCompleted,
    PauseRequested,
    QuickExitUsed,
    ResumeRequested,
)
from flows.loader import load_default
from flows.model import (
    CaseStatus,
    Context,
    ConversationState,
    Input,
    Message,
    StartCheckin,
    Step,
    Timeout,
)
from safety.lexicon import SOURCE_LANGUAGE
from safety.model import History, IntakeLevel, SurvivorSecrets
from safety.screening import pin_digest, secret_digest
from tests.unit.flows_support import NOW, hasher

CATALOGS = Catalogs()
LANGUAGES = tuple(CATALOGS.languages)
QS = load_default()
SERVICE = "Harbour Outreach Service"
HELP_LINE = "To talk to someone, text Sam on 07700 900123 (weekdays)."  # a service's own line, as written
TIMEZONE = "Europe/London"

ACTIVATION_CODE = "K7QH-3XPM"
EXIT_WORD, CODEWORD, PIN, DURESS_PIN = "Pasta", "blue kettle", "2468", "1357"
SECRETS = (EXIT_WORD, CODEWORD, PIN, DURESS_PIN)
# She chooses them in person, on the IDVA's device, once set-up over her channel (which never asks
# for them) is done.
IN_PERSON = SurvivorSecrets(
    exit_word=secret_digest(EXIT_WORD.lower(), hasher),
    codewords=frozenset({secret_digest(CODEWORD, hasher)}),
    pin=pin_digest(PIN, hasher),
    duress_pin=pin_digest(DURESS_PIN, hasher),
)


def modes(language: str) -> list[CoverTheme | None]:
    """Direct (None), then each cover theme offered in `language`."""
    return [None, *cover.offered(QS, language, CATALOGS.lookup)]


CASES = [
    pytest.param((language, theme), id=f"{language}-{theme.name if theme else 'direct'}")
    for language in LANGUAGES
    for theme in modes(language)
]


@dataclass(frozen=True)
class Sent:
    """One reply as her phone shows it."""

    key: str  # the reply's catalog key (or a cover theme's text)
    text: str  # rendered with the real catalogs
    language: str  # the language it was rendered in
    question: bool  # a check-in question (or the PIN prompt): what the check-in asks


class Case:
    """A survivor's case as the shell keeps it between steps: status, language, conversation."""

    def __init__(self, language: str, theme: CoverTheme | None) -> None:
        self.target = language
        self.theme = theme
        self.language = SOURCE_LANGUAGE  # the service's default, until she picks hers
        self.status = CaseStatus.PENDING
        self.secrets = SurvivorSecrets()
        self.state = ConversationState()
        self.questionset = cover.apply(QS, theme) if theme else QS
        self.recent: tuple[frozenset[str], ...] = ()
        self.steps: list[Step] = []
        self.sent: list[Sent] = []

    def context(self) -> Context:
        theme = self.theme
        return Context(
            now=NOW,
            status=self.status,
            questionset=self.questionset,
            secrets=self.secrets,
            hasher=hasher,
            history=History(IntakeLevel.STANDARD, no_contact_order=False),
            activation_code=activation_digest(ACTIVATION_CODE, hasher),
            secrets_in_person=self.secrets is IN_PERSON,
            recent_questions=self.recent,
            help_line=HELP_LINE,
            cover_line=True,  # her exit word gets a neutral line back: that is in the thread too
            pin_prompt=theme.pin_prompt.inline.get(self.language, theme.pin_prompt.en) if theme else None,
            ended_line=theme.ended_line.inline.get(self.language, theme.ended_line.en) if theme else None,
            language=self.language,
            languages=LANGUAGES,
            translate=CATALOGS.gettext,
        )

    def questions(self) -> set[str]:
        """The keys of what a check-in asks in this mode: its questions and the PIN prompt."""
        prompt = self.context().pin_prompt or checkin.PIN_Q.text
        return {q.texts.get(self.language, q.text) for q in self.questionset.questions} | {prompt}

    def send(self, *inputs: str | Input) -> list[Step]:
        steps = []
        for item in inputs:
            step = handle(self.state, Message(item) if isinstance(item, str) else item, self.context())
            self.state = step.state
            for event in step.events:  # what the shell does with the events that change the case
                if isinstance(event, Activated):
                    self.status = CaseStatus.ONBOARDING
                elif isinstance(event, OnboardingCompleted):
                    self.status = CaseStatus.ACTIVE
                elif isinstance(event, LanguageChosen):
                    self.language = event.language
                elif isinstance(event, PauseRequested):
                    self.status = CaseStatus.PAUSED
                elif isinstance(event, ResumeRequested):
                    self.status = CaseStatus.ACTIVE
            asked = self.questions()
            for reply in step.replies:
                text = CATALOGS.render(to_message(reply), self.language, TIMEZONE).text
                self.sent.append(Sent(reply.key, text, self.language, reply.key in asked))
            steps.append(step)
        self.steps += steps
        return steps

    def checkin(self, *answers: str | Input) -> list[Step]:
        steps = self.send(StartCheckin(), *answers)
        self.recent += (frozenset(a.question for step in steps for a in step.answers),)
        return steps


def whole_thread(language: str, theme: CoverTheme | None) -> Case:
    """Activation to exit word: set-up, a check-in with her PIN, the commands, a nudge, a quick exit."""
    case = Case(language, theme)
    number = str(LANGUAGES.index(language) + 1)  # the language step lists the service's languages in order
    case.send(ACTIVATION_CODE, number, "1", "1 3", "1")  # language, consent, windows, missed check-ins
    assert case.status is CaseStatus.ACTIVE and case.language == language
    case.secrets = IN_PERSON
    # safe_to_talk, PIN, a nudge, something it cannot read, then the calm answer to every question.
    done = case.checkin("1", PIN, Timeout(), "zzz", *["1"] * 7, "All quiet this week")
    assert done[-1].state.flow is None, "the check-in did not reach its end"
    case.send("hi", "HELP", "PAUSE")
    assert case.context().status is CaseStatus.PAUSED
    case.send("RESUME", "LANGUAGE", number)
    case.checkin("1", PIN, "2")  # not safe right now: one neutral line, no more questions
    case.send(EXIT_WORD)
    return case


@pytest.fixture(scope="module", params=CASES)
def thread(request: pytest.FixtureRequest) -> Case:
    language, theme = request.param
    return whole_thread(language, theme)


def findings(case: Case) -> list[str]:
    """Everything in the thread that would tell a reader what it is."""
    found = []
    for sent in case.sent:
        if sent.question and case.theme is None:
            problems = first_line_problems(sent.text, sent.language)
        else:
            problems = thread_problems(sent.text, sent.language, extra=(SERVICE,))
        found += [f"{sent.language} {sent.key[:30]!r}: {p}\n{sent.text}" for p in problems]
    return found


def test_the_thread_went_through_every_part(thread: Case) -> None:
    # The lint below means something only if the thread reached every kind of message.
    keys = [sent.key for sent in thread.sent]
    expected = [
        R.LANGUAGE_WELCOME, R.CONSENT, R.WINDOWS, R.MISSED_CONSENT, R.ONBOARDED, R.NUDGE, R.REASK,
        R.CHECKIN_DONE, R.IDLE, R.HELP, R.AS_WRITTEN, R.RESUMED, R.LANGUAGE_ASK, R.LANGUAGE_SET,
    ]  # fmt: skip
    assert [key for key in expected if key not in keys] == []
    assert any(key.startswith(R.PAUSED_DAYS[0][:10]) for key in keys)  # "OK, paused for 7 days, until ..."
    ctx = thread.context()
    assert (ctx.pin_prompt or R.PIN_PROMPT) in keys
    assert (ctx.ended_line or R.COVER_LINE) in keys  # "not safe right now" ended the second check-in
    asked = {q.id for q in thread.questionset.questions if q.texts.get(ctx.language, q.text) in keys}
    assert {"safe_to_talk", "safe_now", "afraid", "contact", "incident", "callback", "anything_else"} <= asked
    assert len(asked & {q.id for q in QS.rotating}) == 2  # two rotating questions
    assert any(isinstance(e, QuickExitUsed) for e in thread.steps[-1].events)
    assert thread.sent[-1].key == R.COVER_LINE  # what her exit word got back
    assert sum(sent.question for sent in thread.sent) >= 12
    assert sum(not sent.question for sent in thread.sent) >= 15


def test_nothing_in_the_whole_thread_gives_it_away(thread: Case) -> None:
    assert findings(thread) == []


def test_none_of_her_secrets_is_ever_sent_back(thread: Case) -> None:
    for sent in thread.sent:
        for secret in SECRETS:
            assert secret.casefold() not in sent.text.casefold(), (secret, sent.key)


def test_the_lint_would_see_999_in_help(thread: Case) -> None:
    # The check above can fail: the HELP text of before this issue, with its 999 line, is caught.
    told = [_append(s, "\nIf you are in danger, call 999.") if s.key == R.HELP else s for s in thread.sent]
    found = findings(_with(thread, told))
    assert any("'999'" in f for f in found), found


def test_the_lint_would_see_the_service_name_or_a_secret_word(thread: Case) -> None:
    help_line = [s for s in thread.sent if s.key == R.AS_WRITTEN]
    assert help_line
    named = [replace(s, text=f"{SERVICE}: {HELP_LINE}") if s.key == R.AS_WRITTEN else s for s in thread.sent]
    assert any("harbour outreach service" in f for f in findings(_with(thread, named)))
    asked = [_append(s, "\nYour codeword works any time.") if s.key == R.NUDGE else s for s in thread.sent]
    assert any("'codeword'" in f for f in findings(_with(thread, asked)))


def _with(case: Case, sent: list[Sent]) -> Case:
    """`case` with other rendered replies, for showing the check would fail."""
    other = Case(case.target, case.theme)
    other.sent = sent
    return other


def _append(sent: Sent, more: str) -> Sent:
    return replace(sent, text=sent.text + more)
