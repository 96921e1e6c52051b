"""Question sets carry text for every language a service offers: inline, or through the catalogs;
a gap is refused in one line naming the question and the language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.i18n import CatalogError, Catalogs, to_message
from flows.engine import handle
from flows.loader import QuestionSetError, check_languages, load_default, parse_questionset
from flows.model import CaseStatus, ConversationState, Message, StartCheckin, ask
from locales import catalog
from tests.unit.flows_support import context

BILINGUAL = """
id = "bilingual"
version = 1
start = "ok"

[[questions]]
id = "ok"
kind = "choice"
next = "notes"

  [questions.text]
  en_GB = "Hi, it's {sender}.\\nAll OK today?"
  cy = "Helo, {sender} sydd yma.\\nPopeth yn iawn heddiw?"

  [[questions.options]]
  key = "yes"
  label = { en_GB = "Yes", cy = "Ydy" }

  [[questions.options]]
  key = "no"
  label = { en_GB = "Not really", cy = "Ddim wir" }
  signals = ["fear_little"]

[[questions]]
id = "notes"
kind = "text"
text = { en_GB = "Last one.\\nAnything to add?", cy = "Yr olaf.\\nUnrhyw beth i'w ychwanegu?" }
"""


def no_catalog(language: str, msgid: str) -> str | None:
    return None


def test_a_set_with_inline_translations_loads_and_asks_in_the_survivors_language() -> None:
    qs = parse_questionset(BILINGUAL, "bilingual.toml")
    check_languages(qs, ["en_GB", "cy"], no_catalog, "bilingual.toml")
    ctx = context(questionset=qs, language="cy", languages=("en_GB", "cy"))
    start = handle(ConversationState(), StartCheckin(), ctx)
    [reply] = start.replies
    assert reply.key == "Helo, {sender} sydd yma.\nPopeth yn iawn heddiw?"
    assert reply.options == ("Ydy", "Ddim wir")
    rendered = Catalogs().render(to_message(reply), "cy", "Europe/London").text
    assert rendered == "Helo, Alex sydd yma.\nPopeth yn iawn heddiw?\n1 Ydy\n2 Ddim wir"
    answered = handle(start.state, Message("ddim wir"), ctx)  # the inline label is understood
    assert answered.answers[0].options == ("no",)
    assert ask(qs.question("ok"), context(questionset=qs)).key == "Hi, it's {sender}.\nAll OK today?"


def test_a_missing_inline_translation_names_the_question_and_the_language() -> None:
    qs = parse_questionset(BILINGUAL, "bilingual.toml")
    with pytest.raises(QuestionSetError) as error:
        check_languages(qs, ["en_GB", "cy", "pl"], no_catalog, "bilingual.toml")
    assert str(error.value) == (
        "bilingual.toml: question 'ok': no pl text: add text.pl to it or translate it in the catalogs"
    )
    assert "\n" not in str(error.value)


def test_a_missing_label_translation_names_the_option_too() -> None:
    text = BILINGUAL.replace('label = { en_GB = "Not really", cy = "Ddim wir" }', 'label = "Not really"')
    qs = parse_questionset(text, "bilingual.toml")
    with pytest.raises(QuestionSetError, match=r"question 'ok', option 'no': no cy label"):
        check_languages(qs, ["cy"], no_catalog, "bilingual.toml")


def test_the_default_set_is_translated_through_the_catalogs_for_every_language() -> None:
    catalogs = Catalogs()
    check_languages(load_default(), catalogs.languages, catalogs.lookup, "standard")
    with pytest.raises(QuestionSetError, match=r"question 'safe_to_talk': no cy text"):
        check_languages(load_default(), ["cy"], no_catalog, "standard")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("cy = \"Helo", "fr = \"Helo"), "text has unknown language 'fr'"),
        (("  en_GB = \"Hi, it's {sender}.\\nAll OK today?\"\n", ""), "text needs an en_GB entry"),
        (("cy = \"Helo, {sender} sydd yma.", "cy = \"Helo, {enw} sydd yma."), "text.cy has placeholder {enw}"),
        (("cy = \"Helo, {sender} sydd yma.", "cy = \"Ydych chi'n ddiogel?"), "text.cy: first line contains 'ddiogel'"),
        (('cy = "Ddim wir"', 'cy = "Ydy"'), "ambiguous reply in cy"),
    ],
)
def test_inline_translations_are_checked_like_the_english(change: tuple[str, str], fragment: str) -> None:
    old, new = change
    assert old in BILINGUAL
    with pytest.raises(QuestionSetError) as error:
        parse_questionset(BILINGUAL.replace(old, new, 1), "bilingual.toml")
    assert fragment in str(error.value)


def test_a_catalog_translation_that_makes_two_options_read_alike_is_refused() -> None:
    def clashing(language: str, msgid: str) -> str | None:
        return "Tak" if msgid in ("Yes", "Not sure") else msgid

    with pytest.raises(QuestionSetError, match=r"question 'safe_to_talk': ambiguous reply in pl|question 'safe_now'"):
        check_languages(load_default(), ["pl"], clashing, "standard")


# ---- the compiled catalogs at start-up ----


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    shutil.copytree(catalog.ROOT / "locales", tmp_path / "locales", ignore=shutil.ignore_patterns("*.pot", "*.py"))
    return tmp_path / "locales"


def test_start_up_refuses_an_install_without_the_source_catalog(catalog_dir: Path) -> None:
    shutil.rmtree(catalog_dir / "en_GB")
    with pytest.raises(CatalogError, match="no en_GB catalog"):
        Catalogs(catalog_dir)


def test_an_incomplete_catalog_counts_its_gaps_and_has_no_lookup_for_them(catalog_dir: Path) -> None:
    po = catalog_dir / "pl" / "LC_MESSAGES" / "safecheck.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "Nie teraz"', 'msgstr ""'), encoding="utf-8")
    catalogs = Catalogs(catalog_dir)
    assert catalogs.untranslated("pl") == 1
    assert catalogs.lookup("pl", "Not now") is None
    assert catalogs.lookup("pl", "Yes") == "Tak"
    assert catalogs.gettext("pl", "Not now") == "Not now"  # what gettext itself does, hence the check
    with pytest.raises(QuestionSetError, match=r"question 'safe_to_talk', option 'no': no pl label"):
        check_languages(load_default(), ["pl"], catalogs.lookup, "standard")


def test_a_survivor_who_is_pending_gets_the_neutral_line_in_no_language_at_all() -> None:
    # Before activation nothing about the survivor is known: the wrong-code reply never says more.
    step = handle(ConversationState(), Message("xyz"), context(CaseStatus.PENDING, language="ar"))
    assert [r.key for r in step.replies] == ["Sorry, this number does not accept replies."]
