"""Practitioners on real channels: addresses, linking a chat with a one-time code, acknowledging by message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot import commands
from bot.bootstrap import open_app
from bot.channels.base import Capabilities, Outgoing
from bot.commands.practitioners import parse_channel
from bot.config import ConfigError, load
from bot.pipeline import Outcome, handle_input
from bot.practitioner_inbound import HELP, Answer, acknowledge_by_button, handle_practitioner_text
from flows.model import ExitPressed
from storage import alerts as alert_store
from storage import practitioners, services
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.integration.conftest import PHONE, alerts, case_row, later, rows
from tests.integration.test_escalation import raise_codeword

CHAT = "555000111"
_ids = iter(range(1, 10_000))


def pid() -> str:
    """A fresh provider message id: every inbound message has one, and a repeated one is a redelivery."""
    return f"m{next(_ids)}"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("inbox", ChannelAddress("inbox", None)),
        ("telegram", ChannelAddress("telegram", None)),
        ("telegram:123456789", ChannelAddress("telegram", "123456789")),
        ("sms:+447700900001", ChannelAddress("sms", "+447700900001")),
        (" SMS : +44 7700 900001 ", ChannelAddress("sms", "+447700900001")),
        ("email:ida@example.org", ChannelAddress("email", "ida@example.org")),
    ],
)
def test_channel_specs_parse(spec: str, expected: ChannelAddress) -> None:
    assert parse_channel(spec) == expected


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("pager", "unknown alert channel 'pager'"),
        ("inbox:123", "takes no address"),
        ("sms", "needs an address"),
        ("sms:07700900001", "international form"),
        ("email", "needs an address"),
        ("email:not-an-address", "e-mail address"),
        ("email:Ida <ida@example.org>", "e-mail address"),
        ("telegram:@someone", "chat id"),
    ],
)
def test_bad_channel_specs_are_one_line_errors_without_the_value(spec: str, error: str) -> None:
    with pytest.raises(commands.UserError, match=error) as caught:
        parse_channel(spec)
    assert "\n" not in str(caught.value)
    assert "07700900001" not in str(caught.value) and "not-an-address" not in str(caught.value)


async def test_a_channel_may_appear_once(world: World) -> None:
    with pytest.raises(commands.UserError, match="once"):
        await commands.add_practitioner(world.app, world.service_id, "Ida", "idva", ["inbox", "inbox"])


async def test_sms_and_email_addresses_are_found_by_keyed_hash_not_stored_in_clear(world: World) -> None:
    pid = await commands.add_practitioner(
        world.app, world.service_id, "Sam", "idva", ["sms:+447700900001", "email:Sam@Example.org", "inbox"]
    )
    async with world.app.db.reading() as tx:
        found = await practitioners.by_address(tx, world.app.crypto, "sms", "+44 7700 900-001")
        by_mail = await practitioners.by_address(tx, world.app.crypto, "email", "sam@example.org")
        wrong_channel = await practitioners.by_address(tx, world.app.crypto, "email", "+447700900001")
        listed = await practitioners.channels(tx, world.app.crypto, pid)
    assert found is not None and found.id == pid
    assert by_mail is not None and by_mail.id == pid
    assert wrong_channel is None
    assert [c.channel for c in listed] == ["sms", "email", "inbox"]
    stored = await rows(
        world.app, "SELECT address_enc, address_hash FROM practitioner_channels WHERE practitioner_id = ?", (pid,)
    )
    assert all(b"+447700900001" not in (r["address_enc"] or b"") for r in stored)


async def test_a_link_code_links_a_chat_once(world: World) -> None:
    code = await commands.link_code(world.app, world.idva, "telegram")

    assert await handle_practitioner_text(world.app, "telegram", CHAT, f"/start link-{code}", pid()) is not None
    # Used: a second chat cannot take it over, and reads like any unknown sender.
    assert await handle_practitioner_text(world.app, "telegram", "999", f"LINK {code}", pid()) is None
    async with world.app.db.reading() as tx:
        linked = await practitioners.by_address(tx, world.app.crypto, "telegram", CHAT)
        names = await practitioners.channel_names(tx, world.idva)
    assert linked is not None and linked.id == world.idva
    assert names == ["inbox", "log", "telegram"]  # added last: the practitioner's order is kept


async def test_an_expired_or_wrong_link_code_links_nothing(world: World) -> None:
    code = await commands.link_code(world.app, world.idva, "telegram")
    assert await handle_practitioner_text(world.app, "telegram", CHAT, "LINK AAAA-BBBB", pid()) is None
    world.clock.advance(timedelta(hours=24, seconds=1))
    assert await handle_practitioner_text(world.app, "telegram", CHAT, f"link {code}", pid()) is None
    async with world.app.db.reading() as tx:
        assert await practitioners.by_address(tx, world.app.crypto, "telegram", CHAT) is None


async def test_only_telegram_is_linked_by_code(world: World) -> None:
    with pytest.raises(commands.UserError, match="only telegram"):
        await commands.link_code(world.app, world.idva, "sms")
    with pytest.raises(commands.UserError, match="no active practitioner 999"):
        await commands.link_code(world.app, 999, "telegram")


async def test_strangers_get_none_so_their_message_goes_to_the_survivor_pipeline(world: World) -> None:
    assert await handle_practitioner_text(world.app, "sms", "+447700900999", "ACK C-AAAAA", pid()) is None


async def give_sms(world: World, practitioner_id: int, number: str) -> None:
    async with world.app.db.transaction() as tx:
        await practitioners.set_address(tx, world.app.crypto, practitioner_id, "sms", number)
        await tx.commit()


async def test_ack_by_reference_acknowledges_the_cases_open_alerts_and_stops_escalation(world: World) -> None:
    await give_sms(world, world.idva, "+447700900001")  # the alert reaches her inbox; she answers by SMS
    await raise_codeword(world)
    ref = (await alerts(world))[0]["case"]

    reply = await handle_practitioner_text(world.app, "sms", "+447700900001", f"ack {ref.lower()}", pid())

    assert reply == Answer(f"Acknowledged 1 alert(s) for {ref}. Escalation stopped.")
    [alert] = await alerts(world)
    assert alert["acknowledged_by"] == world.idva
    await later(world, timedelta(minutes=15))
    assert [n["role"] for n in (await alerts(world))[0]["notified"]] == ["idva"]  # duty never told
    again = await handle_practitioner_text(world.app, "sms", "+447700900001", f"ACK {ref}", pid())
    assert again == Answer(f"No open alerts for {ref} had been sent to you.")


async def test_ack_by_reference_leaves_alerts_that_had_not_reached_that_practitioner(world: World) -> None:
    await give_sms(world, world.idva, "+447700900001")
    await give_sms(world, world.duty, "+447700900002")
    await raise_codeword(world)
    ref = (await alerts(world))[0]["case"]
    world.clock.advance(timedelta(minutes=1))
    typed = world.clock.now()  # she types ACK for the alert she has seen...
    await world.say(PHONE, "blue kettle")  # ...as a second one is raised
    world.clock.advance(timedelta(seconds=1))
    await world.deliver()  # and sent, before her ACK is handled

    reply = await handle_practitioner_text(world.app, "sms", "+447700900001", f"ACK {ref}", pid(), received_at=typed)

    assert reply == Answer(f"Acknowledged 1 alert(s) for {ref}. Escalation stopped.")
    first, second = await alerts(world)
    assert first["acknowledged_by"] == world.idva and second["acknowledged_at"] is None
    # Neither was sent to the duty IDVA: an ACK by reference from her covers nothing.
    assert await handle_practitioner_text(world.app, "sms", "+447700900002", f"ACK {ref}", pid()) == Answer(
        f"No open alerts for {ref} had been sent to you."
    )
    assert (await alerts(world))[1]["acknowledged_at"] is None


async def test_a_redelivered_ack_acknowledges_nothing_new_and_gets_no_answer(world: World) -> None:
    await give_sms(world, world.idva, "+447700900001")
    await raise_codeword(world)
    ref = (await alerts(world))[0]["case"]
    sid = pid()
    assert await handle_practitioner_text(world.app, "sms", "+447700900001", f"ACK {ref}", sid) == Answer(
        f"Acknowledged 1 alert(s) for {ref}. Escalation stopped."
    )
    await world.say(PHONE, "blue kettle")
    await world.deliver()
    assert await handle_practitioner_text(world.app, "sms", "+447700900001", f"ACK {ref}", sid) == Answer(None)
    assert [a["acknowledged_at"] is None for a in await alerts(world)] == [False, True]


async def test_ack_for_a_case_of_another_service_is_refused(world: World) -> None:
    await raise_codeword(world)
    ref = (await alerts(world))[0]["case"]
    async with world.app.db.transaction() as tx:
        other = await services.create(tx, "other", "Another service", world.clock.now())
        await tx.commit()
    await commands.add_practitioner(world.app, other, "Olga", "idva", ["sms:+447700900002"])

    assert await handle_practitioner_text(world.app, "sms", "+447700900002", f"ACK {ref}", pid()) == Answer(
        f"No case {ref} in your service."
    )
    assert (await alerts(world))[0]["acknowledged_at"] is None


async def test_a_practitioner_gets_help_for_anything_else(world: World) -> None:
    await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["sms:+447700900001"])
    assert await handle_practitioner_text(world.app, "sms", "+447700900001", "hello?", pid()) == Answer(HELP)


async def button_for(world: World, alert_id: int, practitioner_id: int) -> str:
    async with world.app.db.transaction() as tx:
        token = await alert_store.new_button(tx, alert_id, practitioner_id, world.clock.now())
        await tx.commit()
    return token


async def test_acknowledge_button_checks_the_chat_and_the_service(world: World) -> None:
    alert_id = await raise_codeword(world)
    token = await button_for(world, alert_id, world.idva)
    pressed = await acknowledge_by_button(world.app, "telegram", CHAT, token, pid())
    assert pressed is not None and "not linked" in pressed.note
    async with world.app.db.transaction() as tx:
        other = await services.create(tx, "other", "Another service", world.clock.now())
        await tx.commit()
    await commands.add_practitioner(world.app, other, "Olga", "idva", ["telegram:777"])
    pressed = await acknowledge_by_button(world.app, "telegram", "777", token, pid())
    assert pressed is not None and pressed.note == "You cannot acknowledge this alert."
    assert (await alerts(world))[0]["acknowledged_at"] is None

    code = await commands.link_code(world.app, world.duty, "telegram")
    await handle_practitioner_text(world.app, "telegram", CHAT, f"LINK {code}", pid())
    pressed = await acknowledge_by_button(world.app, "telegram", CHAT, token, pid())
    assert pressed is not None and pressed.note.startswith("Acknowledged: case C-") and pressed.by == "Dan"
    assert (await alerts(world))[0]["acknowledged_by"] == world.duty
    pressed = await acknowledge_by_button(world.app, "telegram", CHAT, token, pid())
    assert pressed is not None and "already acknowledged" in pressed.note


async def test_a_made_up_button_token_acknowledges_nothing(world: World) -> None:
    alert_id = await raise_codeword(world)
    await button_for(world, alert_id, world.idva)
    code = await commands.link_code(world.app, world.idva, "telegram")
    await handle_practitioner_text(world.app, "telegram", CHAT, f"LINK {code}", pid())
    pressed = await acknowledge_by_button(world.app, "telegram", CHAT, "Yq3v0_Zt-9LmN2pQrS7uWx", pid())
    assert pressed is not None and pressed.note == "You cannot acknowledge this alert."
    assert (await alerts(world))[0]["acknowledged_at"] is None


async def test_an_exit_button_is_a_quick_exit(world: World) -> None:
    ref = await world.onboard()
    await world.say(PHONE, "1")  # nothing running; any message
    await world.deliver()

    handled = await handle_input(world.app, "simulator", PHONE, ExitPressed(), "tap-1")

    assert handled.outcome is Outcome.PROCESSED
    assert (await case_row(world, ref))["status"] == "paused"
    assert [a["reason"] for a in await alerts(world)] == ["quick_exit"]
    assert await world.deliver() == []  # nothing is said on the phone
    again = await handle_input(world.app, "simulator", PHONE, ExitPressed(), "tap-1")
    assert again.outcome is Outcome.DUPLICATE


class RecordingTransport:
    """A transport of the Transport protocol whose channels record what they are given."""

    name = "pigeon"
    capabilities = Capabilities()

    def __init__(self) -> None:
        self.survivor_channel = self
        self.practitioner_channel = self
        self.closed = False

    async def send(self, address: str, message: Outgoing) -> str:
        return "p-1"

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None

    def add_routes(self, web_app: web.Application) -> None:
        return None

    async def start(self, app: object) -> None:
        return None

    async def close(self) -> None:
        self.closed = True


async def test_open_app_registers_a_transports_channels_and_closes_it(world: World) -> None:
    transport = RecordingTransport()
    async with open_app(world.settings, transports=[transport]) as app:
        assert app.survivor_channels["pigeon"] is transport
        assert app.practitioner_channels["pigeon"] is transport
        assert app.transports == [transport]
    assert transport.closed


@pytest.mark.parametrize("bad", ["ftp://x.org", "https://", "https://x.org/?a=1", "safecheck.example.org"])
def test_a_bad_public_url_is_a_one_line_config_error(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SAFECHECK_PUBLIC_URL"):
        load({"SAFECHECK_PUBLIC_URL": bad, "SAFECHECK_DB": str(tmp_path / "x.db")})


def test_public_url_loses_its_trailing_slash_and_settings_keep_the_environment(tmp_path: Path) -> None:
    env = {"SAFECHECK_PUBLIC_URL": "https://safecheck.example.org/", "TELEGRAM_BOT_TOKEN": "t"}
    settings = load(env)
    assert settings.public_url == "https://safecheck.example.org"
    assert settings.env["TELEGRAM_BOT_TOKEN"] == "t"


async def test_an_unlinked_chat_is_never_guessed_the_alert_falls_back_to_the_next_channel(world: World) -> None:
    chat = RecordingTransport()
    sent: list[str] = []

    async def record(address: str, message: Outgoing) -> str:
        sent.append(address)
        return "tg-1"

    chat.send = record  # type: ignore[method-assign]
    world.app.practitioner_channels["telegram"] = chat
    newcomer = await commands.add_practitioner(world.app, world.service_id, "Nia", "idva", ["telegram", "inbox"])
    world.idva = newcomer  # the case is enrolled with her as its IDVA
    ref = await world.onboard()
    await world.say(PHONE, "blue kettle")
    await world.deliver()

    assert sent == []  # not linked yet: nothing goes to a chat id that is really a practitioner id
    outbox = await rows(
        world.app, "SELECT channel, status FROM outbox WHERE practitioner_id = ? ORDER BY id", (newcomer,)
    )
    assert outbox == [{"channel": "inbox", "status": "sent"}]
    assert ref.startswith("C-")
