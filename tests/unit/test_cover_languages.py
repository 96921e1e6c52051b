"""Cover mode in other languages: the mechanism works in every language, and a theme is offered in a
language once all of it is translated, inline in the theme or through the catalogs (where its texts
are optional, so a language without them is still complete)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.i18n import Catalogs, locales_dir, to_message
from flows import cover
from flows.cover import CoverThemeError, Text
from flows.engine import handle
from flows.model import ConversationState, StartCheckin
from tests.unit.flows_support import QS, context

SALON = cover.themes()["salon"]


def welsh(text: str) -> str:
    """A stand-in Welsh translation that keeps the placeholders and passes the lint."""
    return "CY " + text


def inline_welsh(theme: cover.CoverTheme) -> cover.CoverTheme:
    """The theme with every text carried inline in Welsh too."""

    def cy(text: Text) -> Text:
        return Text(text.en, {**text.inline, "cy": welsh(text.en)})

    return replace(
        theme,
        pin_prompt=cy(theme.pin_prompt),
        ended_line=cy(theme.ended_line),
        texts={qid: cy(t) for qid, t in theme.texts.items()},
        labels={qid: {k: cy(t) for k, t in labels.items()} for qid, labels in theme.labels.items()},
    )


def test_the_shipped_themes_are_english_only_so_cover_is_offered_in_english_only() -> None:
    catalogs = Catalogs()
    assert {t.name for t in cover.offered(QS, "en_GB", catalogs.lookup)} == {"salon", "catch_up"}
    for language in ("cy", "pl", "ro", "pa", "ur", "ar"):
        assert cover.offered(QS, language, catalogs.lookup) == ()
        assert catalogs.untranslated(language) == 0  # the themes' texts are optional in the catalogs


def test_a_theme_translated_inline_reads_in_that_language_and_is_checked_in_it() -> None:
    theme = inline_welsh(SALON)
    assert "cy" in theme.languages()
    cover.check(theme, QS, "salon (cy)")
    ctx = context(questionset=cover.apply(QS, theme), language="cy", languages=("en_GB", "cy"))
    step = handle(ConversationState(), StartCheckin(), ctx)
    [reply] = step.replies
    assert reply.key == welsh(SALON.texts["safe_to_talk"].en)
    assert reply.options == (welsh("Yes"), welsh("Not now"))

    leaky = replace(theme, ended_line=Text(theme.ended_line.en, {"cy": "Ffoniwch yr heddlu."}))
    with pytest.raises(CoverThemeError) as refused:
        cover.check(leaky, QS, "salon (cy)")
    assert "ended_line (cy)" in str(refused.value) and "heddlu" in str(refused.value)


def test_a_theme_translated_in_the_catalogs_is_offered_and_sent_in_that_language(tmp_path: Path) -> None:
    shutil.copytree(locales_dir(), tmp_path / "locales", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    po = tmp_path / "locales" / "cy" / "LC_MESSAGES" / "safecheck.po"
    with po.open("rb") as handle_:
        catalog = read_po(handle_, locale="cy")
    msgids = {text.en for _, text in SALON.all_texts()}
    for message in catalog:
        if message.id in msgids and not message.string:
            message.string = welsh(str(message.id))
    with po.open("wb") as handle_:
        write_po(handle_, catalog)
    catalogs = Catalogs(tmp_path / "locales")
    assert [t.name for t in cover.offered(QS, "cy", catalogs.lookup)] == ["salon"]  # catch_up is not translated
    covered = cover.apply(QS, SALON)
    ctx = context(questionset=covered, language="cy", languages=("en_GB", "cy"))
    [opener] = handle(ConversationState(), StartCheckin(), ctx).replies
    shown = catalogs.render(to_message(opener), "cy", "UTC").text
    assert shown.startswith(welsh("Hi, it's {sender} from the salon.").format(sender="Alex"))
    key = cover.key(SALON, QS, "cy", catalogs.gettext)
    assert key[1].cover == welsh(covered.question("safe_now").text).replace("\n", " ")
