"""Languages on Telegram: the choices are one-tap buttons by their own names, and a tap switches."""

from __future__ import annotations

from pathlib import Path

from bot import commands
from bot.channels.telegram_ui import EXIT_DATA, EXIT_LABEL
from storage import cases
from tests.fakes.telegram_world import telegram_world


def buttons(markup: dict[str, object] | None) -> list[tuple[str, str]]:
    assert markup is not None
    rows = markup["inline_keyboard"]
    assert isinstance(rows, list)
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_onboarding_and_language_offer_one_tap_buttons_and_a_tap_switches(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        await commands.set_languages(w.app, w.service_id, enable="cy,ar")
        ref, code = await w.enrol()
        chat = w.new_chat()
        await w.say(chat, f"/start {code}")
        await w.deliver()
        first = w.fake.last_bot_message(chat)
        assert first.text is not None and first.text.startswith("Hi, it's Alex.\nWhich language would you like?")
        assert buttons(first.reply_markup) == [
            ("English", "1"), ("Cymraeg", "2"), ("العربية", "3"), (EXIT_LABEL, EXIT_DATA)
        ]

        await w.tap(chat, first.message_id, "3")  # Arabic
        await w.deliver()
        consent = w.fake.last_bot_message(chat)
        assert consent.text is not None and consent.text.startswith("مرحبًا، أنا Alex.")
        assert buttons(consent.reply_markup)[:2] == [("نعم", "1"), ("لا", "2")]
        async with w.app.db.reading() as tx:
            case = await cases.by_ref(tx, ref)
        assert case is not None and case.language == "ar"

        await w.say(chat, "LANGUAGE")
        await w.deliver()
        listed = w.fake.last_bot_message(chat)
        assert [label for label, _ in buttons(listed.reply_markup)][:3] == ["English", "Cymraeg", "العربية"]
        await w.tap(chat, listed.message_id, "2")  # Welsh
        await w.deliver()
        texts = w.fake.bot_texts(chat)
        assert "Iawn, byddaf yn ysgrifennu yn Gymraeg o hyn ymlaen." in texts
        assert texts[-1].startswith("Helo, Alex sydd yma. Diolch am drefnu hyn.")  # consent again, in Welsh
