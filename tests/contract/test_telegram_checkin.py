"""Survivors on Telegram: deep-link activation and a whole check-in with taps and typed answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot import commands
from bot.channels.telegram_ui import EXIT_DATA, EXIT_LABEL
from storage import cases
from tests.fakes.telegram_world import TgWorld, telegram_world

NEUTRAL = "Sorry, this number does not accept replies."
PROMPT = "Hi, it's Alex. Is now a good time for a quick chat?"


async def case_of(w: TgWorld, ref: str) -> cases.Case:
    async with w.app.db.reading() as tx:
        found = await cases.by_ref(tx, ref)
    assert found is not None
    return found


def buttons(markup: dict[str, object] | None) -> list[tuple[str, str]]:
    assert markup is not None
    rows = markup["inline_keyboard"]
    assert isinstance(rows, list)
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_deep_link_binds_the_chat_and_activates_the_case(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ref, code = await w.enrol()
        pending = await case_of(w, ref)
        assert (pending.status, pending.address_enc, pending.activation_hash is not None) == ("pending", None, True)
        chat = w.new_chat()
        assert await w.say(chat, f"/start {code}") == 200
        await w.deliver()

        case = await case_of(w, ref)
        assert case.status == "onboarding"
        assert cases.address_of(w.app.crypto, case) == str(chat)
        [consent] = [m for m in w.fake.visible(chat) if m.from_bot]
        assert consent.protect_content
        assert (EXIT_LABEL, EXIT_DATA) in buttons(consent.reply_markup)
        # The link is one-time: another chat with the same code learns nothing and binds nothing.
        other = w.new_chat()
        await w.say(other, f"/start {code}")
        await w.deliver()
        assert w.fake.bot_texts(other) == [NEUTRAL]
        assert (await case_of(w, ref)).address_enc == case.address_enc


async def test_start_without_a_valid_code_gets_the_neutral_line_and_touches_no_case(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ref, _ = await w.enrol()
        first, second = w.new_chat(), w.new_chat()
        await w.say(first, "/start")
        await w.say(second, "/start WRNG-CODE")
        await w.deliver()
        assert w.fake.bot_texts(first) == [NEUTRAL]
        assert w.fake.bot_texts(second) == [NEUTRAL]
        assert w.fake.last_bot_message(first).reply_markup is None  # not even an exit button
        case = await case_of(w, ref)
        assert (case.status, case.address_enc) == ("pending", None)


async def test_a_check_in_with_taps_and_typed_answers_edits_each_tapped_question(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        ref = await w.onboard(chat)
        assert (await case_of(w, ref)).status == "active"
        await commands.set_schedule(w.app, w.service_id, ref, "daily@10:00")
        w.clock.advance(timedelta(hours=1))
        await w.deliver()
        prompt = w.fake.last_bot_message(chat)
        assert prompt.text is not None and prompt.text.startswith(PROMPT)
        assert buttons(prompt.reply_markup) == [("Yes", "1"), ("Not now", "2"), (EXIT_LABEL, EXIT_DATA)]

        await w.tap(chat, prompt.message_id, "1")  # a tap: as if "1" were typed
        assert w.fake.chats[chat][prompt.message_id].text == f"{PROMPT}\n\n✓ Yes"
        assert w.fake.chats[chat][prompt.message_id].reply_markup is None
        assert w.fake.calls_of("answerCallbackQuery")
        # safe now, afraid, contact, incident, two rotating questions, callback, anything else
        answers = ["1", "typed:1", "1", "typed:1", "1", "typed:1", "1", "typed:SKIP"]
        typed_at = 0
        for answer in answers:
            await w.deliver()
            question = w.fake.last_bot_message(chat)
            if answer.startswith("typed:"):
                typed_at = typed_at or question.message_id
                await w.say(chat, answer.removeprefix("typed:"))
            else:
                await w.tap(chat, question.message_id, answer)
                assert "✓" in (w.fake.chats[chat][question.message_id].text or "")
        await w.deliver()
        assert w.fake.bot_texts(chat)[-1] == "Thanks, that's everything. Take care."
        shown = await commands.show_case(w.app, w.service_id, ref, w.idva)
        [checkin] = shown["checkins"]
        assert checkin["status"] == "completed"
        assert len(checkin["answers"]) == len(answers) + 1

        # A button left under a question answered by typing cannot answer anything later: it goes.
        stale = w.fake.chats[chat][typed_at]
        assert stale.reply_markup is not None
        text, sends = stale.text, len(w.fake.sent_to(chat))
        await w.tap(chat, typed_at, "2")
        await w.deliver()
        assert (stale.reply_markup, stale.text) == (None, text)  # no answer shown: nothing was answered
        assert len(w.fake.sent_to(chat)) == sends  # and nothing said
        after = await commands.show_case(w.app, w.service_id, ref, w.idva)
        assert after["checkins"] == shown["checkins"]


async def test_an_expired_link_binds_nothing(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ref, code = await w.enrol()
        w.clock.advance(timedelta(days=15))
        chat = w.new_chat()
        await w.say(chat, f"/start {code}")
        await w.deliver()
        assert w.fake.bot_texts(chat) == [NEUTRAL]
        assert (await case_of(w, ref)).address_enc is None


async def test_messages_outside_the_survivors_safe_times_arrive_silently(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat)  # safe times 9:00-21:00 (mornings, afternoons, evenings); now 09:00
        assert not w.fake.last_bot_message(chat).silent
        w.clock.advance(timedelta(hours=13))  # 22:00 in London
        await w.say(chat, "HELP")
        await w.deliver()
        late = w.fake.last_bot_message(chat)
        assert late.text is not None and late.text.startswith("Options:")
        assert late.silent and late.protect_content
