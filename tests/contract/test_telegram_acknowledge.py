"""Acknowledging on Telegram: recorded once before it acts, only by those allowed, never by a guessed button."""

from __future__ import annotations

from pathlib import Path

from bot import commands
from bot.practitioner_inbound import OLD_BUTTON
from storage import alerts
from tests.contract.test_telegram_safety import button_data, codeword_alert, pressed_elsewhere
from tests.contract.test_telegram_transport import scalar
from tests.fakes.telegram_world import TgWorld, telegram_world


async def acknowledged_by(w: TgWorld, alert_id: int) -> int | None:
    async with w.app.db.reading() as tx:
        alert = await alerts.get(tx, alert_id)
    assert alert is not None
    return alert.acknowledged_by


def answers(w: TgWorld) -> list[str]:
    return [str(c.params.get("text", "")) for c in w.fake.calls_of("answerCallbackQuery")]


async def test_a_typed_ack_that_cannot_be_recorded_acknowledges_nothing_until_it_is(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        alert_id = await codeword_alert(w, ida)
        ref = (await commands.list_alerts(w.app, w.service_id, open_only=True))[0]["case"]
        async with w.app.db.transaction() as tx:  # the dedupe record cannot be written (e.g. a full disk)
            await tx.execute(
                "CREATE TRIGGER refuse_inbound BEFORE INSERT ON inbound_messages "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
            await tx.commit()
        update = w.fake.text_update(ida, f"ACK {ref}")
        assert await w.push(update) == 500  # Telegram delivers it again later
        assert await acknowledged_by(w, alert_id) is None  # and nothing acted on it meanwhile
        async with w.app.db.transaction() as tx:
            await tx.execute("DROP TRIGGER refuse_inbound")
            await tx.commit()
        assert await w.push(update) == 200
        assert await acknowledged_by(w, alert_id) == w.idva
        assert w.fake.bot_texts(ida)[-1] == f"Acknowledged 1 alert(s) for {ref}. Escalation stopped."


async def test_a_button_from_before_the_tokens_acknowledges_nothing_and_says_what_to_do(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        alert_id = await codeword_alert(w, ida)
        await w.tap(ida, w.fake.last_bot_message(ida).message_id, f"ack:{alert_id}")  # guessable: the old form
        assert await acknowledged_by(w, alert_id) is None
        assert answers(w)[-1] == OLD_BUTTON


async def test_a_guessed_token_acknowledges_nothing(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        alert_id = await codeword_alert(w, ida)
        await w.tap(ida, w.fake.last_bot_message(ida).message_id, "ak:AAAAAAAAAAAAAAAAAAAAAA")
        assert await acknowledged_by(w, alert_id) is None
        assert answers(w)[-1] == "You cannot acknowledge this alert."


async def test_the_button_acknowledges_only_for_those_it_was_sent_to_the_duty_idva_or_the_manager(
    tmp_path: Path,
) -> None:
    async with telegram_world(tmp_path) as w:
        ida, ivy, dan = w.new_chat(), w.new_chat(), w.new_chat()
        await w.link_practitioner(w.idva, ida)
        other_idva = await commands.add_practitioner(w.app, w.service_id, "Ivy", "idva", ["telegram", "inbox"])
        await w.link_practitioner(other_idva, ivy)
        await w.link_practitioner(w.duty, dan)
        alert_id = await codeword_alert(w, ida)
        data = button_data(w, ida)

        await w.push(pressed_elsewhere(w, ivy, data))  # an IDVA of the service it was never sent to
        assert await acknowledged_by(w, alert_id) is None
        assert answers(w)[-1] == "You cannot acknowledge this alert."
        assert await scalar(w, "SELECT count(*) FROM timers WHERE kind = 'escalate' AND done_at IS NULL") >= 1

        await w.push(pressed_elsewhere(w, dan, data))  # the duty IDVA may, though not told yet
        assert await acknowledged_by(w, alert_id) == w.duty


async def test_an_ack_that_fails_to_be_stored_is_offered_again_not_set_aside(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        alert_id = await codeword_alert(w, ida)
        ref = (await commands.list_alerts(w.app, w.service_id, open_only=True))[0]["case"]
        async with w.app.db.transaction() as tx:  # only the acknowledgement itself cannot be written
            await tx.execute(
                "CREATE TRIGGER refuse_ack BEFORE UPDATE ON alerts BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
            await tx.commit()
        update = w.fake.text_update(ida, f"ACK {ref}")
        assert await w.push(update) == 500
        assert await scalar(w, "SELECT count(*) FROM inbound_messages WHERE failed = 1") == 0
        async with w.app.db.transaction() as tx:
            await tx.execute("DROP TRIGGER refuse_ack")
            await tx.commit()
        assert await w.push(update) == 200  # Telegram's redelivery
        assert await acknowledged_by(w, alert_id) == w.idva
