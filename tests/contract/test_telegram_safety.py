"""What keeps people safe on Telegram: the quick exit empties the chat; an alert is acknowledged by a tap."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import commands
from bot.channels.telegram_cleanup import delete_due
from bot.channels.telegram_ui import EXIT_DATA
from bot.commands import UserError
from storage import alerts, services
from tests.conftest import START
from tests.fakes.telegram_world import TgWorld, telegram_world


async def scalar(w: TgWorld, sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with w.app.db.reading() as tx:
        return await tx.scalar(sql, params)


async def test_exit_button_deletes_the_whole_conversation_and_sends_nothing_else(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        ref = await w.onboard(chat)
        await commands.set_schedule(w.app, w.service_id, ref, "daily@10:00")
        w.clock.advance(timedelta(hours=1))
        await w.deliver()
        assert len(w.fake.visible(chat)) == 9  # both sides of set-up (4 each) and the first question
        sends = len(w.fake.sent_to(chat))

        await w.tap(chat, w.fake.last_bot_message(chat).message_id, EXIT_DATA)
        await w.deliver()

        assert w.fake.visible(chat) == []
        assert len(w.fake.sent_to(chat)) == sends  # no goodbye, no cover line: the chat stays empty
        assert await scalar(w, "SELECT status FROM cases WHERE ref = ?", (ref,)) == "paused"
        assert await scalar(w, "SELECT count(*) FROM telegram_messages") == 0  # ids go with the messages


async def test_exit_word_also_empties_the_chat_even_with_a_cover_line_configured(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        async with w.app.db.transaction() as tx:
            await tx.execute("UPDATE services SET cover_line = 1")
            await tx.commit()
        chat = w.new_chat()
        await w.onboard(chat, exit_word="pasta")
        sends = len(w.fake.sent_to(chat))
        await w.say(chat, "pasta")
        await w.deliver()
        assert w.fake.visible(chat) == []
        assert len(w.fake.sent_to(chat)) == sends
        assert await scalar(w, "SELECT count(*) FROM outbox WHERE provider_id = 'cover-line-not-sent'") == 1


async def test_messages_older_than_48_hours_are_left_and_their_ids_forgotten(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat)
        w.clock.advance(timedelta(hours=49))
        w.fake.clock_offset = 49 * 3600
        await w.say(chat, "HELP")
        await w.deliver()
        before = len(w.fake.visible(chat))
        await w.say(chat, "pasta")
        await w.deliver()
        assert len(w.fake.visible(chat)) == before - 2  # HELP and its answer; the old ones cannot go
        ids = [c.params["message_ids"] for c in w.fake.calls_of("deleteMessages")]
        assert all(len(batch) <= 100 for batch in ids)


def button_data(w: TgWorld, chat: int) -> str:
    """The callback data of the Acknowledge button under the last alert in a practitioner's chat."""
    markup = w.fake.last_bot_message(chat).reply_markup
    assert markup is not None
    return str(markup["inline_keyboard"][0][0]["callback_data"])


def pressed_elsewhere(w: TgWorld, chat: int, data: str) -> dict[str, Any]:
    """A press with `data` from another chat (a copied or forged button): Telegram sends what the client says."""
    update = w.fake.tap_update(chat, w.fake.last_bot_message(chat).message_id, "x")
    update["callback_query"]["data"] = data
    return update


async def codeword_alert(w: TgWorld, ida_chat: int) -> int:
    survivor = w.new_chat()
    await w.onboard(survivor)
    await w.say(survivor, "I'm fine, blue kettle")
    await w.deliver()
    async with w.app.db.reading() as tx:
        [alert] = [a for a in await alerts.for_case(tx, 1) if a.reason == "codeword"]
    return alert.id


async def test_codeword_alert_arrives_on_telegram_and_a_tap_acknowledges_it_and_stops_escalation(
    tmp_path: Path,
) -> None:
    async with telegram_world(tmp_path) as w:
        ida_chat = w.new_chat()
        await w.link_practitioner(w.idva, ida_chat)
        assert w.fake.bot_texts(ida_chat)[-1].startswith("Linked.")
        alert_id = await codeword_alert(w, ida_chat)

        shown = w.fake.last_bot_message(ida_chat)
        assert shown.text is not None
        assert shown.text.startswith("[URGENT] Case C-") and ": codeword" in shown.text
        assert "Details: safecheck case show C-" in shown.text
        assert "blue kettle" not in shown.text  # never the survivor's words
        [[button]] = shown.reply_markup["inline_keyboard"] if shown.reply_markup else [[{}]]
        assert button["text"] == "Acknowledge"
        data = button["callback_data"]
        assert re.fullmatch(r"ak:[A-Za-z0-9_-]{22}", data)  # a random token (128 bits), not the alert's number

        await w.tap(ida_chat, shown.message_id, data)
        edited = w.fake.chats[ida_chat][shown.message_id]
        assert edited.reply_markup is None
        assert edited.text is not None and "Acknowledged by Ida at 09:" in edited.text
        async with w.app.db.reading() as tx:
            alert = await alerts.get(tx, alert_id)
        assert alert is not None and alert.acknowledged_by == w.idva
        assert await scalar(w, "SELECT count(*) FROM timers WHERE kind = 'escalate' AND done_at IS NULL") == 0
        w.clock.advance(timedelta(minutes=30))
        await w.deliver()
        assert await commands.read_inbox(w.app, w.duty) == []  # the duty IDVA was never told
        assert await commands.read_inbox(w.app, w.manager) == []


async def test_unlinked_and_other_service_chats_acknowledge_nothing(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida_chat, stranger, outsider = w.new_chat(), w.new_chat(), w.new_chat()
        await w.link_practitioner(w.idva, ida_chat)
        async with w.app.db.transaction() as tx:
            other_service = await services.create(tx, "other", "Other service", START)
            await tx.commit()
        other_idva = await commands.add_practitioner(w.app, other_service, "Oz", "idva", ["telegram", "inbox"])
        await w.link_practitioner(other_idva, outsider)
        alert_id = await codeword_alert(w, ida_chat)
        data = button_data(w, ida_chat)
        await w.say(stranger, "hello")
        await w.deliver()
        for chat in (stranger, outsider):
            await w.push(pressed_elsewhere(w, chat, data))
        async with w.app.db.reading() as tx:
            alert = await alerts.get(tx, alert_id)
        assert alert is not None and alert.acknowledged_at is None
        refusals = [c.params.get("text", "") for c in w.fake.calls_of("answerCallbackQuery")]
        assert any("not linked" in r for r in refusals) and any("cannot acknowledge" in r for r in refusals)
        assert await scalar(w, "SELECT count(*) FROM timers WHERE kind = 'escalate' AND done_at IS NULL") >= 1


async def test_auto_delete_removes_each_message_when_its_minutes_are_up_also_after_a_restart(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        ref = await w.onboard(chat)
        kept = len(w.fake.visible(chat))
        assert await commands.cases.set_autodelete(w.app, w.service_id, ref, 10) == (
            f"case {ref}: messages deleted 10 minutes after sending"
        )
        await w.say(chat, "HELP")
        await w.deliver()
        assert len(w.fake.visible(chat)) == kept + 2
    async with telegram_world(tmp_path) as again:  # the due times are in the database
        again.fake.chats.update(w.fake.chats)
        again.fake.meet(chat)
        assert await delete_due(again.transport.core) == 0
        again.clock.advance(timedelta(minutes=10))
        assert await delete_due(again.transport.core) == 2
        assert len(again.fake.visible(chat)) == kept  # onboarding was before the choice: it stays
        assert await scalar(again, "SELECT count(*) FROM telegram_messages WHERE delete_at IS NOT NULL") == 0


async def test_auto_delete_is_for_telegram_cases_and_bounded(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ref, _ = await w.enrol()
        with pytest.raises(UserError, match="between 0"):
            await commands.cases.set_autodelete(w.app, w.service_id, ref, 5000)
        assert await commands.cases.set_autodelete(w.app, w.service_id, ref, 0) == f"case {ref}: auto-delete off"


async def test_logs_hold_no_chat_ids_codes_words_or_token(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with telegram_world(tmp_path) as w:
        ida_chat = w.new_chat()
        await w.link_practitioner(w.idva, ida_chat)
        # The one path where she types her words into the chat: Telegram with auto-delete, chosen at enrolment.
        _, code = await w.enrol(secrets_autodelete=60)
        chat = w.new_chat()
        await w.say(chat, f"/start {code}")
        for line in ["YES", "1 2 3", "pasta", "1", "blue kettle", "1", "SKIP", "I'm fine, blue kettle"]:
            await w.deliver()
            await w.say(chat, line)
        await w.deliver()
        await w.push(w.fake.message_update(chat, MEDIA_STICKER))
        await w.say(chat, "pasta")
        assert any(t.startswith("[URGENT]") for t in w.fake.bot_texts(ida_chat))  # things happened
    logged = caplog.text
    assert logged
    for secret in (str(chat), str(ida_chat), code, "blue kettle", "pasta", w.fake.token, w.fake.token.split(":")[1]):
        assert secret not in logged, secret


MEDIA_STICKER = {
    "sticker": {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
}


async def test_a_typed_ack_works_and_its_redelivery_is_answered_once(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida_chat = w.new_chat()
        await w.link_practitioner(w.idva, ida_chat)
        alert_id = await codeword_alert(w, ida_chat)
        async with w.app.db.reading() as tx:
            alert = await alerts.get(tx, alert_id)
        assert alert is not None
        update = w.fake.text_update(ida_chat, f"ACK {alert.case_ref}")
        await w.push(update)
        await w.push(update)
        assert w.fake.bot_texts(ida_chat)[-1] == f"Acknowledged 1 alert(s) for {alert.case_ref}. Escalation stopped."
        assert sum("Acknowledged" in t for t in w.fake.bot_texts(ida_chat)) == 1


async def test_a_deletion_that_fails_is_finished_by_the_next_sweep(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat, exit_word="pasta")
        w.fake.fail("deleteMessages", 500)  # the exit's own deletion fails
        await w.say(chat, "pasta")
        assert w.fake.visible(chat) != []
        assert await delete_due(w.transport.core) > 0
        assert w.fake.visible(chat) == []


async def test_an_alert_for_a_practitioner_not_linked_on_telegram_goes_to_their_next_channel(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        w.fake.meet(w.idva, w.duty, w.manager)  # even chats with ids like theirs are never written to
        await codeword_alert(w, 0)
        assert w.fake.sent_to(w.idva) == []
        inbox = await commands.read_inbox(w.app, w.idva)
        assert [m["text"].split(":")[0] for m in inbox] == [inbox[0]["text"].split(":")[0]]
        assert inbox[0]["text"].startswith("[URGENT] Case C-")


async def test_a_practitioner_links_by_typing_link_and_a_wrong_code_reads_like_a_stranger(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        dan_chat, guesser = w.new_chat(), w.new_chat()
        code = await commands.link_code(w.app, w.duty, "telegram")
        await w.say(guesser, "/start link-ABCD-EFGH")
        await w.say(dan_chat, f"LINK {code}")
        await w.deliver()
        assert w.fake.bot_texts(guesser) == ["Sorry, this number does not accept replies."]
        assert w.fake.bot_texts(dan_chat)[-1].startswith("Linked.")
        await w.say(guesser, f"LINK {code}")  # one-time: nobody else can use it
        await w.deliver()
        assert w.fake.bot_texts(guesser)[-1] == "Sorry, this number does not accept replies."
