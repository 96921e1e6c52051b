"""Check-ins in the survivor's own language: choosing it, reading answers in it, rendering every
message in it (plural forms, dates), and keeping every first line discreet in it."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Catalogs, format_when, to_message
from flows import onboarding
from flows import replies as R
from flows.answers import ambiguous_phrases, parse_options, parse_text
from flows.discretion import first_line_problems
from flows.engine import handle, pause_confirmation
from flows.events import LanguageChosen, PauseRequested
from flows.loader import check_languages, load_default
from flows.model import (
    CaseStatus,
    Context,
    ConversationState,
    Flow,
    Message,
    Reply,
    StartCheckin,
    Step,
    Timeout,
)
from locales.catalog import ROOT, po_path
from locales.segments import segment_rows, segment_table
from safety.lexicon import AUTONYMS
from safety.normalise import normalise
from safety.screening import screen, secret_problem
from tests.unit.flows_support import NOW, QS, context, hasher, run

LANGUAGES = ("en_GB", "cy", "pl", "ro", "pa", "ur", "ar")
CATALOGS = Catalogs()
COUNTS = (0, 1, 2, 3, 6, 11, 100)


def in_language(language: str, status: CaseStatus = CaseStatus.ACTIVE, **options: object) -> Context:
    """A case's context as the shell builds it for a survivor reading `language`."""
    return context(status, language=language, languages=LANGUAGES, translate=CATALOGS.gettext, **options)


def render(reply: Reply, language: str, timezone: str = "Europe/London") -> str:
    return CATALOGS.render(to_message(reply), language, timezone).text


# ---- every catalog is there, complete, and loads ----


def test_every_shipped_language_has_a_complete_catalog_compiled_at_start_up() -> None:
    assert CATALOGS.languages == sorted(LANGUAGES)
    assert set(AUTONYMS) == set(LANGUAGES)
    for language in LANGUAGES:
        assert CATALOGS.untranslated(language) == 0, language


def test_a_language_without_a_catalog_is_an_error_never_a_silent_english_fallback() -> None:
    from bot.i18n import CatalogError

    with pytest.raises(CatalogError, match="no catalog for language 'fr'"):
        CATALOGS.render(to_message(Reply(R.IDLE)), "fr", "Europe/London")
    with pytest.raises(CatalogError):
        CATALOGS.gettext("xx", R.IDLE)


# ---- every flow renders in every language ----


HELP_LINE = "Harbour Outreach: 0161 496 0000, weekdays"  # a service's own help line, sent as written
CALM = ["1"] * 7  # the calm answer to each question after the first, up to the last (free text)


def _every_flow(language: str) -> list[Step]:
    """A wrong activation code, onboarding with the language step (with and without her secrets asked over
    the channel), check-ins with PIN through every rotating question, "not safe now", nudges, commands."""
    pend = in_language(language, CaseStatus.PENDING, exit_word=None, codeword=None, activation_code=b"x" * 32)
    steps = run(pend, "wrong")
    # Telegram with auto-delete on: set-up asks for the exit word, codeword and PINs.
    onb = in_language(language, CaseStatus.ONBOARDING, exit_word=None, codeword=None, secrets_on_channel=True)
    steps.append(onboarding.begin(onb))
    script = ["x", str(LANGUAGES.index(language) + 1), "1", "1 3", "pause", "pasta", "1", "blue kettle", "1"]
    steps += run(onb, *script, "12", "1234", "5678", state=steps[-1].state)
    # The usual set-up: consent, windows, missed check-ins, done.
    plain = in_language(language, CaseStatus.ONBOARDING, exit_word=None, codeword=None)
    steps += run(plain, "1", "1 3", "1", state=ConversationState().at(Flow.ONBOARDING, "consent"))
    steps += run(onb, "2", state=ConversationState().at(Flow.ONBOARDING, "consent"))
    active = in_language(language, pin="1234", cover_line=True, help_line=HELP_LINE)
    steps += run(active, "hi", "help", "pause", "pause 5 hours", "resume", "language", "hi", "language", "1", "pasta")
    steps += run(in_language(language, CaseStatus.PAUSED), "hi")
    steps += run(active, StartCheckin(), "2")
    steps += run(active, StartCheckin(), "1", "0000", "0001")
    steps += run(active, StartCheckin(), "1", "1234", "2")  # not safe now: ends at once, with a neutral line
    # Check-ins one after another, each told which questions the last ones asked, until every rotating
    # question has been asked (the rotation asks each within `within` check-ins).
    recent: tuple[frozenset[str], ...] = ()
    for _ in range(QS.rotation.within if QS.rotation else 1):
        ctx = in_language(language, pin="1234", recent_questions=recent)
        checkin = run(ctx, StartCheckin(), "1", "1234", Timeout(), "zzz", *CALM, "sgip")
        recent += (frozenset(a.question for step in checkin for a in step.answers),)
        steps += checkin
    return steps


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(R.SENT_BY_TRANSPORTS))
def test_texts_the_transports_send_render_discreetly_in_every_language(language: str, key: str) -> None:
    text = render(Reply(key), language)
    assert first_line_problems(text, language) == [], (language, text)
    if language != "en_GB":
        assert text != render(Reply(key), "en_GB"), f"not translated into {language}: {key!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_flow_renders_in_every_language_with_a_discreet_first_line(language: str) -> None:
    replies = [reply for step in _every_flow(language) for reply in step.replies]
    keys = {reply.key for reply in replies}
    catalogue = {v for k, v in vars(R).items() if k.isupper() and isinstance(v, str)}
    catalogue -= {o.label for q in onboarding.STEPS.values() for o in q.options}
    catalogue |= {v[0] for k, v in vars(R).items() if k.isupper() and isinstance(v, tuple)}
    catalogue -= R.SENT_BY_TRANSPORTS
    assert catalogue <= keys, sorted(catalogue - keys)
    assert {q.text for q in QS.questions} <= keys
    for reply in replies:
        text = render(reply, language)
        assert "{" not in text and "}" not in text, text
        assert first_line_problems(text, language) == [], (language, text)
        if reply.key == R.AS_WRITTEN:  # the service's own line, sent as the service wrote it
            assert text == HELP_LINE
        elif language != "en_GB":
            assert text != render(reply, "en_GB"), f"not translated into {language}: {reply.key!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_question_set_has_every_text_in_every_language_and_no_ambiguous_reply(language: str) -> None:
    check_languages(load_default(), [language], CATALOGS.lookup, "standard")  # raises on a gap or clash
    for question in (*onboarding.STEPS.values(), onboarding.language_question(in_language(language))):
        assert ambiguous_phrases(question, language, CATALOGS.gettext) == [], (language, question.id)


# ---- plural forms and dates ----


def _plural_forms(language: str) -> tuple[str, ...]:
    """The pause message's plural forms as the language's .po file holds them."""
    with po_path(language).open("rb") as fileobj:
        message = read_po(fileobj, locale=language).get(R.PAUSED_DAYS[0])
    assert message is not None
    forms = tuple(message.string)
    return forms if all(forms) else R.PAUSED_DAYS  # en_GB: the msgids as written


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("count", COUNTS)
def test_plural_forms_follow_each_languages_rule(language: str, count: int) -> None:
    rule = get_plural(language)
    forms = _plural_forms(language)
    assert len(forms) == rule.num_plurals == {"cy": 6, "ar": 6, "pl": 3, "ro": 3}.get(language, 2)
    form = gettext.c2py(rule.plural_expr)(count)
    until = NOW + timedelta(days=count)
    reply = Reply(R.PAUSED_DAYS[0], {"count": count, "until": until}, plural=R.PAUSED_DAYS[1])
    expected = forms[form].format(count=count, until=format_when(until, language, "Europe/London"))
    assert render(reply, language) == expected


@pytest.mark.parametrize(
    ("language", "count", "fragment"),
    [
        ("en_GB", 1, "1 day,"),
        ("en_GB", 0, "0 days,"),
        ("cy", 2, "2 ddiwrnod"),  # Welsh mutates after two
        ("cy", 6, "6 diwrnod"),
        ("pl", 1, "1 dzień"),
        ("pl", 3, "3 dni"),
        ("pl", 11, "11 dni"),
        ("ro", 11, "11 zile"),
        ("ro", 100, "100 de zile"),  # "de" from 20 on
        ("cy", 0, "0 diwrnod"),  # CLDR (Babel 2.19) gives zero a form of its own
        ("cy", 7, "7 diwrnod"),
        ("pa", 0, "0 ਦਿਨ ਲਈ"),  # Panjabi counts zero with one: (n > 1)
        ("pa", 1, "1 ਦਿਨ ਲਈ"),
        ("pa", 6, "6 ਦਿਨਾਂ ਲਈ"),
        ("ur", 1, "1 دن کے"),
        ("ur", 2, "2 دنوں کے"),
        ("ar", 2, "2 يومين"),
        ("ar", 3, "3 أيام"),
        ("ar", 11, "11 يومًا"),
        ("ar", 99, "99 يومًا"),
        ("ar", 100, "100 يوم،"),
        ("ar", 102, "102 يوم،"),
    ],
)
def test_plural_words_read_right(language: str, count: int, fragment: str) -> None:
    reply = Reply(R.PAUSED_DAYS[0], {"count": count, "until": NOW}, plural=R.PAUSED_DAYS[1])
    assert fragment in render(reply, language)


@pytest.mark.parametrize(
    ("language", "weekday"),
    [
        ("en_GB", "Thursday 26 November 11:00"),
        ("cy", "Dydd Iau 26 Tachwedd 11:00"),
        ("pl", "czwartek 26 listopada 11:00"),
        ("ro", "joi 26 noiembrie 11:00"),
        ("pa", "ਵੀਰਵਾਰ 26 ਨਵੰਬਰ 11:00"),
        ("ur", "جمعرات 26 نومبر 11:00"),
        ("ar", "الخميس 26 نوفمبر 11:00"),
    ],
)
def test_dates_in_messages_are_in_the_survivors_language_and_time_zone(language: str, weekday: str) -> None:
    step = handle(ConversationState(), Message("PAUSE 3 days"), in_language(language))
    [reply] = step.replies
    assert reply.params["count"] == 3
    # 10:00 UTC is 10:00 in London in November; the survivor in Paris reads 11:00.
    assert weekday in render(reply, language, "Europe/Paris")


def test_a_summer_date_is_shown_in_british_summer_time() -> None:
    summer = datetime(2026, 7, 7, 9, 0, tzinfo=UTC)
    assert format_when(summer, "cy", "Europe/London") == "Dydd Mawrth 7 Gorffennaf 10:00"


def test_a_pause_of_hours_says_hours_and_rounds_up() -> None:
    reply = pause_confirmation(NOW + timedelta(hours=5, minutes=1), NOW)
    assert reply.plural == R.PAUSED_HOURS[1] and reply.params["count"] == 6
    assert "6 awr" in render(reply, "cy")


# ---- answers in every language and script ----

SAFE_NOW = QS.question("safe_now")


@pytest.mark.parametrize(
    ("language", "text", "picked"),
    [
        ("cy", "Ie", "yes"),
        ("cy", "na", "no"),
        ("cy", "Ddim yn siŵr", "not_sure"),
        ("cy", "dwn i ddim", "not_sure"),
        ("pl", "Tak", "yes"),
        ("pl", "nie", "no"),
        ("pl", "Nie wiem", "not_sure"),
        ("ro", "da", "yes"),
        ("ro", "NU", "no"),
        ("ro", "nu știu", "not_sure"),
        ("pa", "ਹਾਂ", "yes"),
        ("pa", "ਨਹੀਂ", "no"),
        ("pa", "ਪਤਾ ਨਹੀਂ", "not_sure"),
        ("ur", "جی ہاں", "yes"),
        ("ur", "نہیں", "no"),
        ("ur", "\u200fپتہ نہیں\u200f", "not_sure"),  # RTL marks ignored
        ("ar", "نعم", "yes"),
        ("ar", "لا", "no"),
        ("ar", "لا أعرف", "not_sure"),
        ("ar", "لا اعرف", "not_sure"),  # typed without the hamza
        ("pl", "yes", "yes"),  # English always works too
        ("ur", "no", "no"),
    ],
)
def test_yes_no_and_not_sure_in_every_language(language: str, text: str, picked: str) -> None:
    assert parse_options(text, SAFE_NOW, language, CATALOGS.gettext) == (picked,)


@pytest.mark.parametrize(
    "digit", ["3", "٣", "۳", "੩", "３"], ids=["latin", "arabic-indic", "extended-arabic-indic", "gurmukhi", "fullwidth"]
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_digits_are_understood_in_every_script(language: str, digit: str) -> None:
    assert parse_options(digit, SAFE_NOW, language, CATALOGS.gettext) == ("not_sure",)


@pytest.mark.parametrize(
    ("language", "text", "picked"),
    [
        ("cy", "Bygythiadau i ladd", ("threats_to_kill",)),
        ("pl", "Groźby zabicia i broń", ("threats_to_kill", "weapon")),
        ("ro", "O armă", ("weapon",)),
        ("pa", "ਹਥਿਆਰ", ("weapon",)),
        ("ur", "۲ اور ۳", ("threats", "threats_to_kill")),
        ("ar", "٢ و ٧", ("threats", "weapon")),
        ("ar", "تهديدات بالقتل", ("threats_to_kill",)),
        ("cy", "Dim un o'r rhain", ("none",)),
    ],
)
def test_option_labels_are_understood_in_the_survivors_language(
    language: str, text: str, picked: tuple[str, ...]
) -> None:
    assert parse_options(text, QS.question("incident"), language, CATALOGS.gettext) == picked


@pytest.mark.parametrize("word", ["sgip", "dim", "nic", "POMIŃ", "nimic", "ਕੁਝ ਨਹੀਂ", "کچھ نہیں", "لا شيء", "تخطي"])
def test_nothing_to_add_in_any_language_records_no_text(word: str) -> None:
    assert parse_text(word) is None


def test_a_welsh_check_in_reads_welsh_answers_and_asks_in_welsh() -> None:
    ctx = in_language("cy")
    # safe_to_talk, safe_now, afraid, contact, incident, the two rotating ones (separation, stalking), callback
    typed = ["ie", "ie", "ychydig", "Negeseuon neu alwadau", "dim un o'r rhain", "na", "na", "na", "sgip"]
    steps = run(ctx, StartCheckin(), *typed)
    answers = [a for step in steps for a in step.answers]
    assert [a.question for a in answers] == [
        "safe_to_talk", "safe_now", "afraid", "contact", "incident", "separation", "stalking", "callback",
        "anything_else",
    ]
    assert [a.options for a in answers[:-1]] == [
        ("yes",), ("yes",), ("little",), ("remote",), ("none",), ("no",), ("no",), ("no",),
    ]
    assert answers[-1].text is None
    assert render(steps[-1].replies[-1], "cy") == "Diolch, dyna'r cyfan. Cymerwch ofal."


def test_a_welsh_no_to_safe_now_ends_the_check_in_with_the_neutral_line_in_welsh() -> None:
    steps = run(in_language("cy"), StartCheckin(), "ie", "na")
    assert steps[-1].answers[-1].options == ("no",)
    assert steps[-1].state.flow is None
    assert [render(r, "cy") for r in steps[-1].replies] == [render(Reply(R.COVER_LINE), "cy")]
    assert render(Reply(R.COVER_LINE), "cy") != R.COVER_LINE


# ---- codewords and exit words in every script ----

SECRETS = [
    ("cy", "Tebot glas", ["TEBOT GLÂS!", "mae'r tebot glas yma", "tebot\u200b glas"]),
    ("ur", "نیلی کیتلی", ["\u200fنیلی کیتلی\u200f", "سب ٹھیک، نيلي كيتلي", "نیلی\u200c کیتلی"]),
    ("ar", "إبريق أزرق", ["ابريق ازرق", "\u202bإبريقٌ أزرقُ\u202c", "عندي إبريـــق أزرق"]),
    ("pa", "ਨੀਲੀ ਕੇਤਲੀ", ["ਨੀਲੀ\u200d ਕੇਤਲੀ", "ਹਾਂ, ਨੀਲੀ ਕੇਤਲੀ।", "\u200eਨੀਲੀ ਕੇਤਲੀ"]),
]


@pytest.mark.parametrize(("language", "codeword", "variants"), SECRETS)
def test_a_codeword_in_any_script_matches_however_it_is_typed(
    language: str, codeword: str, variants: list[str]
) -> None:
    assert secret_problem(codeword, "codeword", (), hasher) is None
    ctx = in_language(language, codeword=codeword, exit_word=None)
    for text in variants:
        assert screen(text, ctx.secrets, hasher).codeword, text


@pytest.mark.parametrize(("language", "exit_word", "typed"), [
    ("cy", "Dŵr", "DWR"),
    ("ur", "آم", "\u200fآم\u200f"),
    ("ar", "تفاحة", "تفاحه".replace("ه", "ة") + "\u200f"),
    ("pa", "ਅੰਬ", "ਅੰਬ!"),
])
def test_an_exit_word_in_any_script_ends_the_chat(language: str, exit_word: str, typed: str) -> None:
    ctx = in_language(language, exit_word=exit_word, codeword=None)
    assert screen(typed, ctx.secrets, hasher).quick_exit


def test_a_differently_spelt_panjabi_word_is_not_the_codeword() -> None:
    # Gurmukhi vowel signs spell the word: ਕਮ and ਕਾਮ are different words, never folded together.
    ctx = in_language("pa", codeword="ਕਮ", exit_word=None)
    assert not screen("ਕਾਮ", ctx.secrets, hasher).codeword


@pytest.mark.parametrize(
    "word", ["nie", "ਨਹੀਂ", "نہیں", "لا", "iaith", "زبان", "pomoc", "ie", "da", "Cymraeg", "welsh", "اردو"]
)
def test_answer_and_command_words_of_every_language_cannot_be_secrets(word: str) -> None:
    assert secret_problem(word, "exit_word", (), hasher) == "reserved"


# ---- choosing a language ----


def test_onboarding_asks_for_a_language_first_when_the_service_offers_several() -> None:
    ctx = in_language("en_GB", CaseStatus.ONBOARDING, exit_word=None, codeword=None)
    first = onboarding.begin(ctx)
    [ask] = first.replies
    assert ask.key == R.LANGUAGE_WELCOME
    assert ask.options == tuple(AUTONYMS[code] for code in LANGUAGES)
    step = handle(first.state, Message("Polski"), ctx)
    assert step.events == (LanguageChosen("pl"),)
    assert [r.key for r in step.replies] == [R.CONSENT]
    assert render(step.replies[0], "pl").startswith("Cześć, tu Alex.")


def test_onboarding_skips_the_language_step_when_only_one_is_offered() -> None:
    ctx = context(CaseStatus.ONBOARDING, exit_word=None, codeword=None, languages=("cy",), language="cy")
    assert [r.key for r in onboarding.begin(ctx).replies] == [R.CONSENT]


@pytest.mark.parametrize("text", ["welsh", "Cymraeg", "cy", "2", "٢", "CYMRAEG"])
def test_a_language_is_picked_by_number_code_or_any_of_its_names(text: str) -> None:
    ctx = in_language("en_GB", CaseStatus.ONBOARDING, exit_word=None, codeword=None)
    step = handle(onboarding.begin(ctx).state, Message(text), ctx)
    assert step.events == (LanguageChosen("cy"),)


def test_language_lists_the_options_and_the_next_reply_picks_one() -> None:
    ctx = in_language("en_GB")
    listed, picked = run(ctx, "LANGUAGE", "6")
    assert listed.state.choosing_language and listed.replies[0].key == R.LANGUAGE_ASK
    assert ConversationState.from_json(listed.state.to_json()) == listed.state
    assert picked.events == (LanguageChosen("ur"),)
    assert render(picked.replies[0], "ur") == "ٹھیک ہے، اب سے ہم اردو میں لکھیں گے۔"
    assert not picked.state.choosing_language


@pytest.mark.parametrize(("text", "language"), [("language cy", "cy"), ("iaith cymraeg", "cy"), ("زبان اردو", "ur"),
                                                 ("JĘZYK polski", "pl"), ("limba română", "ro"), ("لغة العربية", "ar")])
def test_language_with_a_choice_switches_at_once(text: str, language: str) -> None:
    step = handle(ConversationState(), Message(text), in_language("en_GB"))
    assert step.events == (LanguageChosen(language),)


def test_a_reply_that_names_no_language_goes_on_as_usual() -> None:
    ctx = in_language("en_GB")
    _, other = run(ctx, "language", "hi")
    assert other.events == () and [r.key for r in other.replies] == [R.IDLE]
    assert not other.state.choosing_language


def test_changing_language_mid_check_in_asks_the_open_question_again_in_the_new_one() -> None:
    ctx = in_language("en_GB")
    steps = run(ctx, StartCheckin(), "yes", "language", "cymraeg")
    last = steps[-1]
    assert last.events == (LanguageChosen("cy"),)
    assert [r.key for r in last.replies] == [R.LANGUAGE_SET, QS.question("safe_now").text]
    assert last.state.flow is Flow.CHECKIN and last.state.step == "safe_now"
    assert render(last.replies[1], "cy").startswith("Diolch. Y cyntaf:\nYdych chi'n ddiogel")


# ---- the over-the-shoulder lint, per language ----


@pytest.mark.parametrize(
    ("language", "first_line", "word"),
    [
        ("cy", "Ydych chi'n ddiogel?", "ddiogel"),  # soft mutation of diogel
        ("cy", "Neges gan yr heddlu", "heddlu"),
        ("cy", "Dim trais", "trais"),
        ("pl", "Czy policja dzwoniła?", "policja"),
        ("pl", "Jesteś bezpieczna?", "bezpieczna"),
        ("ro", "Violența domestică", "violenta"),
        ("pa", "ਘਰੇਲੂ ਹਿੰਸਾ", "ਘਰੇਲੂ"),
        ("ur", "کیا آپ محفوظ ہیں؟", "محفوظ"),
        ("ar", "اتصلت بالشرطة", "بالشرطة"),
        ("ar", "هل أنت خائفة؟", "خائفة"),
        ("ur", "Your IDVA says hi", "idva"),  # English words are banned in every language
    ],
)
def test_the_lint_knows_each_languages_giveaway_words(language: str, first_line: str, word: str) -> None:
    problems = first_line_problems(first_line + "\nsecond line is fine", language)
    assert any(repr(normalise(word)) in p for p in problems), (problems, word)


def test_the_lint_catches_a_case_reference() -> None:
    assert any("case reference" in p for p in first_line_problems("About C-4F7Q2", "cy"))


def test_only_the_first_line_is_linted_in_every_language() -> None:
    # Line 2 may say what it must: only line 1 is checked.
    assert first_line_problems("Diolch.\nYdych chi'n ddiogel?", "cy") == []


def test_an_unknown_language_is_still_linted_with_the_english_words() -> None:
    assert first_line_problems("Are you safe?", "xx") != []


# ---- SMS segments ----


def test_the_first_check_in_message_is_one_sms_segment_in_every_language() -> None:
    for language, cells in segment_rows(CATALOGS):
        assert cells[0][1] == 1, (language, cells[0])


def test_the_segment_table_in_the_docs_is_the_one_the_script_prints() -> None:
    docs = (ROOT / "docs" / "languages.md").read_text(encoding="utf-8")
    assert segment_table(CATALOGS) in docs, "run `python -m locales.catalog segments` and update docs/languages.md"


# ---- PAUSE with a length, in every language ----


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("SAIB 3 diwrnod", timedelta(days=3)),
        ("saib am 2 wythnos", timedelta(weeks=2)),
        ("PAUZA 3 dni", timedelta(days=3)),
        ("pauza na 2 tygodnie", timedelta(weeks=2)),
        ("pauză 20 de zile", timedelta(days=20)),
        ("ਰੋਕੋ ੩ ਦਿਨ", timedelta(days=3)),
        ("3 ਦਿਨ ਲਈ ਰੋਕੋ", timedelta(days=3)),
        ("وقفہ ۳ دن", timedelta(days=3)),
        ("3 دن کا وقفہ", timedelta(days=3)),  # Urdu puts the verb last
        ("توقف مؤقت لمدة ٥ ساعات", timedelta(hours=5)),
        ("saib wythnos", timedelta(weeks=1)),
        ("pomoc", None),
    ],
)
def test_pause_with_a_length_is_understood_in_every_language(text: str, length: timedelta | None) -> None:
    step = handle(ConversationState(), Message(text), in_language("en_GB"))
    if length is None:
        assert not any(isinstance(e, PauseRequested) for e in step.events)
    else:
        assert step.events == (PauseRequested(NOW + length),)


@pytest.mark.parametrize("text", ["saib yfory", "pauza dzisiaj", "مجھے وقفہ چاہیے"])
def test_a_sentence_with_a_pause_word_is_not_a_pause(text: str) -> None:
    step = handle(ConversationState(), Message(text), in_language("en_GB"))
    assert not any(isinstance(e, PauseRequested) for e in step.events)


@pytest.mark.parametrize("name", ["Heddlu", "Policja", "Ofn", "شرطة"])
def test_a_sender_name_that_gives_the_service_away_in_any_offered_language_is_refused(name: str) -> None:
    from bot.commands.common import UserError, check_sender_name

    with pytest.raises(UserError, match="would reveal the service"):
        check_sender_name(name)
    assert check_sender_name("Alex") == "Alex"


# ---- properties: a codeword in any of these scripts is found however it is disguised ----

_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2066", "\u2069", "\u061c", "\ufeff"]
_CODEWORDS = ["tebot glas", "ਨੀਲੀ ਕੇਤਲੀ", "نیلی کیتلی", "ابريق ازرق", "zielony czajnik", "ceainic albastru"]


@settings(max_examples=150, deadline=None)
@given(
    codeword=st.sampled_from(_CODEWORDS),
    marks=st.lists(st.tuples(st.integers(min_value=0, max_value=40), st.sampled_from(_INVISIBLE)), max_size=6),
    before=st.sampled_from(["", "ok ", "ہاں، ", "ਹਾਂ ", "نعم ", "Tak, ", "2 "]),
    after=st.sampled_from(["", "!", " ۔", "।", " ؟", " diolch"]),
    upper=st.booleans(),
)
def test_property_a_codeword_in_any_script_survives_invisible_marks_and_case(
    codeword: str, marks: list[tuple[int, str]], before: str, after: str, upper: bool
) -> None:
    secrets = in_language("en_GB", codeword=codeword, exit_word=None).secrets
    disguised = list(codeword.upper() if upper else codeword)
    for position, mark in marks:
        disguised.insert(min(position, len(disguised)), mark)
    text = before + "".join(disguised) + after
    assert screen(text, secrets, hasher).codeword, text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("ਕਮਾਂੀ੧੨ اردوکیہ١٢۳ ąęłżźćń\u200f\u200d 0123"), max_size=60))
def test_property_text_in_these_scripts_never_crashes_parsing_or_screening(text: str) -> None:
    ctx = in_language("ur")
    for question in QS.questions:
        parse_options(text, question, "ur", CATALOGS.gettext)
    screen(text, ctx.secrets, hasher)
    handle(ConversationState(), Message(text), ctx)
