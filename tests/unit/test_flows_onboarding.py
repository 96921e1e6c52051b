"""Onboarding asks for consent and safe times, and never keeps a secret.

Her exit word, codeword and PINs are set in person. Only where the thread deletes itself (Telegram with
auto-delete on: `secrets_on_channel`) does set-up ask for them over the channel; most tests of those
steps run with it set, and the tests at the end check that without it they are never asked.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from flows import replies as R
from flows.engine import handle
from flows.events import (
    Activated,
    AlertRaised,
    ConsentRecorded,
    ConsentWithdrawn,
    Event,
    ExitPauseChosen,
    OnboardingCompleted,
    QuickExitUsed,
    SafeWindow,
    SafeWindowsChosen,
    SecretChosen,
    SecretKind,
)
from flows.loader import load_default
from flows.model import CaseStatus, Context, ConversationState, Flow, Message, Reply, Step, ask
from flows.onboarding import CONSENT_TEXT_VERSION, SECRET_STEPS, STEPS
from safety.model import AlertReason, History, IntakeLevel, Severity, SurvivorSecrets
from safety.screening import pin_digest, secret_digest
from tests.unit.flows_support import IDLE, NOW, hasher

ACTIVATION_CODE = "K7QH-3XPM"


def context(
    status: CaseStatus = CaseStatus.ONBOARDING,
    secrets: SurvivorSecrets | None = None,
    *,
    sms: bool = False,
    in_person: bool = False,
    on_channel: bool = True,
) -> Context:
    """`on_channel`: set-up may ask for her secrets (Telegram with auto-delete on), as most tests here need."""
    return Context(
        carrier_opt_out=sms,
        secrets_in_person=in_person,
        secrets_on_channel=on_channel,
        now=NOW,
        status=status,
        questionset=load_default(),
        secrets=secrets or SurvivorSecrets(),
        hasher=hasher,
        history=History(IntakeLevel.STANDARD, no_contact_order=False),
        activation_code=hasher("k7qh3xpm") if status is CaseStatus.PENDING else None,
    )


def chosen(secrets: SurvivorSecrets, events: tuple[Event, ...]) -> SurvivorSecrets:
    """Store each chosen secret's digest at once, as the shell does."""
    for event in events:
        if isinstance(event, SecretChosen):
            if event.kind is SecretKind.EXIT_WORD:
                secrets = replace(secrets, exit_word=secret_digest(event.phrase, hasher))
            elif event.kind is SecretKind.CODEWORD:
                secrets = replace(secrets, codewords=frozenset({secret_digest(event.phrase, hasher)}))
            elif event.kind is SecretKind.PIN:
                secrets = replace(secrets, pin=pin_digest(event.phrase, hasher))
            else:
                secrets = replace(secrets, duress_pin=pin_digest(event.phrase, hasher))
    return secrets


def onboard(*texts: str, in_person: SurvivorSecrets | None = None, on_channel: bool = True) -> list[Step]:
    """Send the activation code and then each text, with the case's status and secrets kept as the shell would.

    `in_person`: the secrets she already chose on the IDVA's device. `on_channel`: her thread deletes
    itself, so set-up may ask for her secrets.
    """
    steps: list[Step] = []
    state, status, secrets = IDLE, CaseStatus.PENDING, in_person or SurvivorSecrets()
    for text in texts:
        ctx = context(status, secrets, in_person=in_person is not None, on_channel=on_channel)
        step = handle(state, Message(text), ctx)
        steps.append(step)
        state, secrets = step.state, chosen(secrets, step.events)
        if any(isinstance(e, Activated) for e in step.events):
            status = CaseStatus.ONBOARDING
    return steps


def at(step: str, **fields: object) -> ConversationState:
    return replace(IDLE.at(Flow.ONBOARDING, step), **fields)  # type: ignore[arg-type]


def keys(step: Step) -> list[str]:
    return [reply.key for reply in step.replies]


YES_CHECKINS = ConsentRecorded("checkins", True, CONSENT_TEXT_VERSION)
NO_CHECKINS = ConsentRecorded("checkins", False, CONSENT_TEXT_VERSION)
MORNING, AFTERNOON, EVENING = SafeWindow(9 * 60, 12 * 60), SafeWindow(12 * 60, 17 * 60), SafeWindow(17 * 60, 21 * 60)
AFTER_EXIT_WORD = {"other_digest": secret_digest("pasta", hasher).hex()}
AFTER_PIN = {"other_digest": pin_digest("2468", hasher).hex()}


# ---- each step, as a table: (step, state fields, reply) -> (events, replies, next step) ----

STEP_TABLE = [
    # consent
    ("consent", {}, "yes", [YES_CHECKINS], [R.WINDOWS], "windows"),
    ("consent", {}, "YES please", [YES_CHECKINS], [R.WINDOWS], "windows"),
    ("consent", {}, "1", [YES_CHECKINS], [R.WINDOWS], "windows"),
    ("consent", {}, "ok", [YES_CHECKINS], [R.WINDOWS], "windows"),
    ("consent", {}, "no", [NO_CHECKINS], [R.CONSENT_REFUSED], None),
    ("consent", {}, "2", [NO_CHECKINS], [R.CONSENT_REFUSED], None),
    ("consent", {}, "Nope.", [NO_CHECKINS], [R.CONSENT_REFUSED], None),
    ("consent", {}, "purple", [], [R.REASK, R.CONSENT], "consent"),
    ("consent", {}, "yes no", [], [R.REASK, R.CONSENT], "consent"),
    ("consent", {}, "PAUSE", [], [R.REASK, R.CONSENT], "consent"),  # nothing to pause before check-ins exist
    # safe windows: numbers, option words, or typed times
    ("windows", {}, "1 3", [SafeWindowsChosen((MORNING, EVENING))], [R.EXIT_WORD], "exit_word"),
    ("windows", {}, "2", [SafeWindowsChosen((AFTERNOON,))], [R.EXIT_WORD], "exit_word"),
    ("windows", {}, "3, 1", [SafeWindowsChosen((MORNING, EVENING))], [R.EXIT_WORD], "exit_word"),
    ("windows", {}, "morning and evening", [SafeWindowsChosen((MORNING, EVENING))], [R.EXIT_WORD], "exit_word"),
    ("windows", {}, "10:00-12:00", [SafeWindowsChosen((SafeWindow(600, 720),))], [R.EXIT_WORD], "exit_word"),
    (
        "windows",
        {},
        "18:00-20:00, 10:00-12:00",
        [SafeWindowsChosen((SafeWindow(600, 720), SafeWindow(1080, 1200)))],
        [R.EXIT_WORD],
        "exit_word",
    ),
    ("windows", {}, "whenever", [], [R.REASK, R.WINDOWS], "windows"),
    ("windows", {}, "12:00-10:00", [], [R.REASK, R.WINDOWS], "windows"),
    ("windows", {}, "4", [], [R.REASK, R.WINDOWS], "windows"),
    # exit word: folded as screening will fold it; reserved and numeric words refused
    ("exit_word", {}, "Pasta", [SecretChosen(SecretKind.EXIT_WORD, "pasta")], [R.EXIT_PAUSE], "exit_pause"),
    (
        "exit_word",
        {},
        "  Red Balloon! ",
        [SecretChosen(SecretKind.EXIT_WORD, "red balloon")],
        [R.EXIT_PAUSE],
        "exit_pause",
    ),
    ("exit_word", {}, "PAUSE", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "pause", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "Resume", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "yes", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "skip", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "START", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "1234", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "?!", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "one two three four five", [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    ("exit_word", {}, "x" * 41, [], [R.SECRET_REJECTED, R.EXIT_WORD], "exit_word"),
    # pause after a quick exit
    ("exit_pause", AFTER_EXIT_WORD, "1", [ExitPauseChosen(timedelta(days=1))], [R.CODEWORD], "codeword"),
    ("exit_pause", AFTER_EXIT_WORD, "2", [ExitPauseChosen(timedelta(days=3))], [R.CODEWORD], "codeword"),
    ("exit_pause", AFTER_EXIT_WORD, "one week", [ExitPauseChosen(timedelta(days=7))], [R.CODEWORD], "codeword"),
    ("exit_pause", AFTER_EXIT_WORD, "soon", [], [R.REASK, R.EXIT_PAUSE], "exit_pause"),
    # codeword: must differ from the exit word
    (
        "codeword",
        AFTER_EXIT_WORD,
        "Blue Kettle",
        [SecretChosen(SecretKind.CODEWORD, "blue kettle")],
        [R.MISSED_CONSENT],
        "missed_consent",
    ),
    ("codeword", AFTER_EXIT_WORD, "PASTA!", [], [R.SECRET_REJECTED, R.CODEWORD], "codeword"),
    ("codeword", AFTER_EXIT_WORD, "pàsta", [], [R.SECRET_REJECTED, R.CODEWORD], "codeword"),
    ("codeword", AFTER_EXIT_WORD, "pause", [], [R.SECRET_REJECTED, R.CODEWORD], "codeword"),
    ("codeword", AFTER_EXIT_WORD, "", [], [R.SECRET_REJECTED, R.CODEWORD], "codeword"),
    # may we tell the IDVA about missed check-ins?
    ("missed_consent", {}, "yes", [ConsentRecorded("missed_alerts", True, CONSENT_TEXT_VERSION)], [R.PIN], "pin"),
    ("missed_consent", {}, "2", [ConsentRecorded("missed_alerts", False, CONSENT_TEXT_VERSION)], [R.PIN], "pin"),
    ("missed_consent", {}, "maybe", [], [R.REASK, R.MISSED_CONSENT], "missed_consent"),
    # PIN: SKIP finishes; 4-8 digits go on to the duress PIN
    ("pin", {}, "SKIP", [OnboardingCompleted()], [R.ONBOARDED], None),
    ("pin", {}, "no thanks", [OnboardingCompleted()], [R.ONBOARDED], None),
    ("pin", {}, "None", [OnboardingCompleted()], [R.ONBOARDED], None),
    ("pin", {}, "2468", [SecretChosen(SecretKind.PIN, "2468")], [R.DURESS_PIN], "duress_pin"),
    ("pin", {}, "24 68", [SecretChosen(SecretKind.PIN, "2468")], [R.DURESS_PIN], "duress_pin"),
    ("pin", {}, "١٢٣٤", [SecretChosen(SecretKind.PIN, "1234")], [R.DURESS_PIN], "duress_pin"),
    ("pin", {}, "12", [], [R.PIN_REJECTED, R.PIN], "pin"),
    ("pin", {}, "123456789", [], [R.PIN_REJECTED, R.PIN], "pin"),
    ("pin", {}, "abcd", [], [R.PIN_REJECTED, R.PIN], "pin"),
    ("pin", {}, "", [], [R.PIN_REJECTED, R.PIN], "pin"),
    # duress PIN: must differ from the PIN
    (
        "duress_pin",
        AFTER_PIN,
        "1357",
        [SecretChosen(SecretKind.DURESS_PIN, "1357"), OnboardingCompleted()],
        [R.ONBOARDED],
        None,
    ),
    ("duress_pin", AFTER_PIN, "skip", [OnboardingCompleted()], [R.ONBOARDED], None),
    ("duress_pin", AFTER_PIN, "2468", [], [R.PIN_REJECTED, R.DURESS_PIN], "duress_pin"),
    ("duress_pin", AFTER_PIN, "24-68", [], [R.PIN_REJECTED, R.DURESS_PIN], "duress_pin"),
    ("duress_pin", AFTER_PIN, "13", [], [R.PIN_REJECTED, R.DURESS_PIN], "duress_pin"),
]


@pytest.mark.parametrize(("step", "fields", "text", "events", "replies", "next_step"), STEP_TABLE)
def test_each_onboarding_step_takes_its_answer_or_asks_again(
    step: str, fields: dict[str, object], text: str, events: list[Event], replies: list[str], next_step: str | None
) -> None:
    state = at(step, **fields)
    result = handle(state, Message(text), context())
    assert list(result.events) == events
    assert keys(result) == replies
    assert result.state.step == next_step
    assert result.state.flow is (Flow.ONBOARDING if next_step else None)
    assert result.answers == ()
    if next_step == step:
        assert result.state.retries == 1
    elif next_step is not None:
        assert result.state.retries == 0


@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_onboarding_question_is_asked_with_the_sender_name_and_its_options(step: str) -> None:
    result = handle(at(step, **AFTER_PIN), Message("?!?"), context())
    question = STEPS[step]
    assert result.replies[-1] == Reply(question.text, {"sender": "Alex"}, tuple(o.label for o in question.options))


# ---- end to end ----

FULL_WITH_PINS = [
    # (survivor types, replies seen, events)
    (ACTIVATION_CODE, [R.CONSENT], [Activated()]),
    ("YES", [R.WINDOWS], [YES_CHECKINS]),
    ("1 3", [R.EXIT_WORD], [SafeWindowsChosen((MORNING, EVENING))]),
    ("pause", [R.SECRET_REJECTED, R.EXIT_WORD], []),
    ("1234", [R.SECRET_REJECTED, R.EXIT_WORD], []),
    ("Pasta", [R.EXIT_PAUSE], [SecretChosen(SecretKind.EXIT_WORD, "pasta")]),
    ("2", [R.CODEWORD], [ExitPauseChosen(timedelta(days=3))]),
    ("Pause", [R.SECRET_REJECTED, R.CODEWORD], []),
    ("Blue kettle", [R.MISSED_CONSENT], [SecretChosen(SecretKind.CODEWORD, "blue kettle")]),
    ("yes", [R.PIN], [ConsentRecorded("missed_alerts", True, CONSENT_TEXT_VERSION)]),
    ("12", [R.PIN_REJECTED, R.PIN], []),
    ("2468", [R.DURESS_PIN], [SecretChosen(SecretKind.PIN, "2468")]),
    ("2468", [R.PIN_REJECTED, R.DURESS_PIN], []),
    ("1357", [R.ONBOARDED], [SecretChosen(SecretKind.DURESS_PIN, "1357"), OnboardingCompleted()]),
]

TYPED_TIMES_NO_PIN = [
    ("k7qh3xpm", [R.CONSENT], [Activated()]),
    ("Yes please", [R.WINDOWS], [YES_CHECKINS]),
    ("10:00-12:00", [R.EXIT_WORD], [SafeWindowsChosen((SafeWindow(600, 720),))]),
    ("Red balloon", [R.EXIT_PAUSE], [SecretChosen(SecretKind.EXIT_WORD, "red balloon")]),
    ("one week", [R.CODEWORD], [ExitPauseChosen(timedelta(days=7))]),
    ("tulip", [R.MISSED_CONSENT], [SecretChosen(SecretKind.CODEWORD, "tulip")]),
    ("no", [R.PIN], [ConsentRecorded("missed_alerts", False, CONSENT_TEXT_VERSION)]),
    ("SKIP", [R.ONBOARDED], [OnboardingCompleted()]),
]


@pytest.mark.parametrize("script", [FULL_WITH_PINS, TYPED_TIMES_NO_PIN], ids=["with-pins", "typed-times-no-pin"])
def test_onboarding_end_to_end(script: list[tuple[str, list[str], list[Event]]]) -> None:
    steps = onboard(*(text for text, _, _ in script))
    for step, (text, replies, events) in zip(steps, script, strict=True):
        assert keys(step) == replies, text
        assert list(step.events) == events, text
    assert steps[-1].state == IDLE
    # 999 and 55 are on the card she was given in person: the thread never names them.
    assert "999" not in R.ONBOARDED
    assert "55" not in R.ONBOARDED


SECRETS = ["k7qh", "3xpm", "pasta", "blue kettle", "2468", "1357", "red balloon", "tulip"]


@pytest.mark.parametrize("script", [FULL_WITH_PINS, TYPED_TIMES_NO_PIN], ids=["with-pins", "typed-times-no-pin"])
def test_onboarding_state_never_holds_a_secret(script: list[tuple[str, list[str], list[Event]]]) -> None:
    for step in onboard(*(text for text, _, _ in script)):
        stored = json.loads(step.state.to_json())
        digest = stored.pop("other_digest")
        assert digest is None or (len(digest) == 64 and int(digest, 16) >= 0)
        flat = json.dumps(stored).lower()
        for secret in SECRETS:
            assert secret not in flat


def test_every_input_that_holds_a_secret_is_marked_sensitive() -> None:
    steps = onboard(*(text for text, _, _ in FULL_WITH_PINS))
    sensitive = {text for (text, _, _), step in zip(FULL_WITH_PINS, steps, strict=True) if step.sensitive}
    assert {ACTIVATION_CODE, "pause", "1234", "Pasta", "Pause", "Blue kettle", "12", "2468", "1357"} <= sensitive
    assert "YES" not in sensitive


def test_secret_chosen_event_hides_the_phrase_from_logs() -> None:
    assert "pasta" not in repr(SecretChosen(SecretKind.EXIT_WORD, "pasta"))


def test_refusing_consent_ends_onboarding_politely() -> None:
    steps = onboard(ACTIVATION_CODE, "No")
    assert steps[-1] == Step(IDLE, replies=(Reply(R.CONSENT_REFUSED),), events=(NO_CHECKINS,))


def test_help_mid_onboarding_answers_keeps_the_place_and_asks_again() -> None:
    state = at("exit_word")
    step = handle(state, Message("HELP"), context())
    assert [r.key for r in step.replies] == [R.HELP, R.EXIT_WORD]
    assert step.events == ()
    assert step.state == state


WITHDRAWN_IN_SETUP = [ConsentWithdrawn(), AlertRaised(Severity.RAISED, AlertReason.WITHDRAWN_IN_ONBOARDING)]


@pytest.mark.parametrize("step", sorted(STEPS.keys() - SECRET_STEPS))
@pytest.mark.parametrize("sms", [True, False])
def test_stop_at_a_set_up_step_that_is_no_secret_withdraws_and_the_idva_is_told_it_was_in_set_up(
    step: str, sms: bool
) -> None:
    result = handle(at(step, **AFTER_PIN), Message("STOP"), context(sms=sms))
    assert list(result.events) == WITHDRAWN_IN_SETUP
    assert result.replies == (Reply(R.WITHDRAWN),)
    assert result.state == IDLE


@pytest.mark.parametrize("step", sorted(SECRET_STEPS))
def test_stop_at_the_exit_word_or_codeword_prompt_over_sms_stays_a_withdrawal_told_as_in_set_up(step: str) -> None:
    # The carrier acts on STOP itself before we see it: the number is unsubscribed whatever we answer.
    result = handle(at(step), Message("STOP"), context(sms=True))
    assert list(result.events) == WITHDRAWN_IN_SETUP
    assert result.replies == (Reply(R.WITHDRAWN),)


@pytest.mark.parametrize("step", sorted(SECRET_STEPS))
@pytest.mark.parametrize("word", ["STOP", "quit", "end"])
def test_a_stop_word_at_the_exit_word_or_codeword_prompt_elsewhere_is_asked_about_once(step: str, word: str) -> None:
    first = handle(at(step), Message(word), context())
    assert first.events == ()  # not a withdrawal, and never a secret
    assert first.replies == (Reply(R.SECRET_REJECTED), ask(STEPS[step], context()))
    assert (first.state.step, first.sensitive) == (step, True)
    second = handle(first.state, Message(word), context())  # she means it: she stops
    assert list(second.events) == WITHDRAWN_IN_SETUP
    assert second.state == IDLE


def test_a_word_chosen_after_being_asked_about_stop_is_taken() -> None:
    asked = handle(at("exit_word"), Message("STOP"), context()).state
    step = handle(asked, Message("pasta"), context())
    assert SecretChosen(SecretKind.EXIT_WORD, "pasta") in step.events
    assert step.state.step == "exit_pause" and not step.state.stop_asked


def test_wrong_answers_keep_counting_retries_on_the_same_step() -> None:
    state = at("windows")
    for expected in (1, 2, 3):
        state = handle(state, Message("whenever"), context()).state
        assert (state.step, state.retries) == ("windows", expected)


def test_quick_exit_during_set_up_stops_it_and_set_up_starts_again_when_she_next_writes() -> None:
    # A survivor may well try the word she just chose. The quick exit must work (silently) and stop
    # set-up: the next message from the phone may be someone else's, and must not become her codeword.
    # The shell pauses the case; after the pause set-up starts again from the top when she writes, so
    # the codeword, the missed-check-in consent and the PIN are still reached.
    steps = onboard(ACTIVATION_CODE, "yes", "1 3", "Pasta", "pasta")
    exit_step = steps[-1]
    assert list(exit_step.events) == [QuickExitUsed(timedelta(days=1))]
    assert exit_step.replies == ()
    assert exit_step.state == IDLE
    again = handle(IDLE, Message("blue kettle"), context(CaseStatus.ONBOARDING))
    assert again.events == () and again.state.step == "consent"
    assert again.replies[0].key == R.CONSENT


# ---- secrets chosen in person, on the IDVA's device ----

IN_PERSON = SurvivorSecrets(
    exit_word=secret_digest("pasta", hasher),
    codewords=frozenset({secret_digest("blue kettle", hasher)}),
    pin=pin_digest("2468", hasher),
    duress_pin=pin_digest("1357", hasher),
)
SECRET_QUESTIONS = {R.EXIT_WORD, R.EXIT_PAUSE, R.CODEWORD, R.PIN, R.DURESS_PIN}

IN_PERSON_SCRIPT = [
    (ACTIVATION_CODE, [R.CONSENT], [Activated()]),
    ("YES", [R.WINDOWS], [YES_CHECKINS]),
    ("1 3", [R.MISSED_CONSENT], [SafeWindowsChosen((MORNING, EVENING))]),
    ("yes", [R.ONBOARDED], [ConsentRecorded("missed_alerts", True, CONSENT_TEXT_VERSION), OnboardingCompleted()]),
]


def test_secrets_chosen_in_person_are_never_asked_for_or_explained_in_her_thread() -> None:
    steps = onboard(*(text for text, _, _ in IN_PERSON_SCRIPT), in_person=IN_PERSON)
    for step, (text, replies, events) in zip(steps, IN_PERSON_SCRIPT, strict=True):
        assert keys(step) == replies, text
        assert list(step.events) == events, text
        assert not SECRET_QUESTIONS & set(keys(step))
    assert steps[-1].state == IDLE
    assert not steps[-1].sensitive  # her yes/no to missed check-ins holds no secret


def test_secrets_chosen_in_person_still_work_during_set_up() -> None:
    # The exit word she chose in person ends the chat even before set-up is done.
    steps = onboard(ACTIVATION_CODE, "YES", "Pasta", in_person=IN_PERSON)
    assert steps[-1].replies == () and any(isinstance(e, QuickExitUsed) for e in steps[-1].events)


# ---- the usual set-up: her thread stays on her phone, so no secret is asked for over it ----

CHANNEL_SCRIPT = [
    (ACTIVATION_CODE, [R.CONSENT], [Activated()]),
    ("YES", [R.WINDOWS], [YES_CHECKINS]),
    ("1 3", [R.MISSED_CONSENT], [SafeWindowsChosen((MORNING, EVENING))]),
    ("no", [R.ONBOARDED], [ConsentRecorded("missed_alerts", False, CONSENT_TEXT_VERSION), OnboardingCompleted()]),
]


@pytest.mark.parametrize("sms", [True, False], ids=["sms", "telegram-without-auto-delete"])
def test_without_secrets_on_channel_set_up_is_consent_windows_missed_consent_and_done(sms: bool) -> None:
    state, status = IDLE, CaseStatus.PENDING
    for text, replies, events in CHANNEL_SCRIPT:
        step = handle(state, Message(text), context(status, sms=sms, on_channel=False))
        assert keys(step) == replies, text
        assert list(step.events) == events, text
        assert not SECRET_QUESTIONS & set(keys(step)), text
        assert not any(isinstance(e, SecretChosen) for e in step.events), text
        state, status = step.state, CaseStatus.ONBOARDING
    assert state == IDLE
    assert not step.sensitive  # her yes/no to missed check-ins holds no secret


@pytest.mark.parametrize(
    ("step", "text", "events", "next_step"),
    [
        ("windows", "1 3", [SafeWindowsChosen((MORNING, EVENING))], "missed_consent"),
        ("windows", "10:00-12:00", [SafeWindowsChosen((SafeWindow(600, 720),))], "missed_consent"),
        (
            "missed_consent",
            "yes",
            [ConsentRecorded("missed_alerts", True, CONSENT_TEXT_VERSION), OnboardingCompleted()],
            None,
        ),
        (
            "missed_consent",
            "2",
            [ConsentRecorded("missed_alerts", False, CONSENT_TEXT_VERSION), OnboardingCompleted()],
            None,
        ),
    ],
)
def test_without_secrets_on_channel_no_step_leads_to_a_secret_prompt(
    step: str, text: str, events: list[Event], next_step: str | None
) -> None:
    result = handle(at(step), Message(text), context(on_channel=False))
    assert list(result.events) == events
    assert result.state.step == next_step
    assert not SECRET_QUESTIONS & set(keys(result))
    assert keys(result) == ([R.MISSED_CONSENT] if next_step else [R.ONBOARDED])


def test_secrets_chosen_in_person_win_over_secrets_on_channel() -> None:
    # On Telegram with auto-delete on, she may still have chosen them on the IDVA's device: never ask again.
    steps = onboard(*(text for text, _, _ in IN_PERSON_SCRIPT), in_person=IN_PERSON, on_channel=True)
    assert [keys(step) for step in steps] == [replies for _, replies, _ in IN_PERSON_SCRIPT]
