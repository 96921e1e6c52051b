"""Logs never hold personal data: run whole scenarios at DEBUG and search every record for planted values."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot import commands
from bot.channels.base import Capabilities, Outgoing
from tests.conftest import World
from tests.integration.conftest import PROMPT, FailingChannel, at, later

PHONE = "+447700900987"
NAME = "Jane Plantedname"
PRACTITIONER = "Priya Plantedidva"
FREE_TEXT = "my neighbour Zebedee saw everything"
CODEWORD = "purple teapot"
EXIT_WORD = "ravioli"
STRANGER = "+447700900444"
PLANTED = (PHONE, "7700900987", "7700 900987", NAME, "Plantedname", PRACTITIONER, "Plantedidva", FREE_TEXT, "Zebedee",
           CODEWORD, "teapot", EXIT_WORD, STRANGER, "7700900444")


def leaks(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    found = []
    for record in records:
        text = record.getMessage()
        for planted in PLANTED:
            if planted.lower() in text.lower():
                found.append((record.name, text))
    return found


async def test_a_whole_scenario_logs_no_personal_data(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await commands.add_practitioner(world.app, world.service_id, PRACTITIONER, "idva", ["log", "inbox"])
    ref = await world.onboard(PHONE, exit_word=EXIT_WORD, codeword=CODEWORD, name=NAME)
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await at(world, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)) == [PROMPT]
    # Afraid a lot, messages or calls, being hurt, "No" to both rotating questions, a call back urgently,
    # then her own words with her codeword in them.
    for text in ("1", "1", "3", "2", "4", "1", "1", "3", f"{FREE_TEXT} {CODEWORD}"):
        await world.say(PHONE, text)
        await world.deliver()
    await world.say(PHONE, "not sure what to say", provider_id="dup")
    await world.say(PHONE, "not sure what to say", provider_id="dup")  # a redelivery
    await world.say(STRANGER, f"hello, it's {NAME}")
    await later(world, timedelta(minutes=11))  # the ladder climbs to duty and manager
    [alert, *_] = await commands.list_alerts(world.app, world.service_id, open_only=True)
    await commands.ack(world.app, alert["id"], world.duty)
    await commands.show_case(world.app, world.service_id, ref, world.idva)

    # Providers fail: retries, fallback to the log channel, a dead survivor channel.
    world.app.practitioner_channels["inbox"] = FailingChannel("inbox", retryable=False)
    world.app.survivor_channels["simulator"] = FailingChannel("simulator", retryable=False)
    await at(world, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    await world.say(PHONE, f"{EXIT_WORD}!")
    await world.deliver()
    world.app.survivor_channels["simulator"] = world.sim
    await at(world, datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await world.say(PHONE, "STOP")
    await world.say(PHONE, CODEWORD)
    await world.deliver()

    records = caplog.records
    assert len(records) > 10  # the scenario did log: alerts, escalations, fallbacks, failures
    assert {"safecheck.alerts", "safecheck.dispatcher", "safecheck.pipeline"} <= {r.name for r in records}
    assert leaks(records) == []
    assert all(PHONE not in (r.exc_text or "") for r in records)


class CrashingChannel:
    """A provider client that fails with an unexpected error quoting the recipient, as HTTP clients do."""

    name = "simulator"
    capabilities = Capabilities()

    async def send(self, address: str, message: Outgoing) -> str:
        raise RuntimeError(f"400 Bad Request: 'To' number {address} is not a valid phone number; body={message.text!r}")

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None


async def test_unexpected_channel_crash_logs_no_address_or_message_text(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await world.onboard(PHONE, exit_word=EXIT_WORD, codeword=CODEWORD, name=NAME)
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.app.survivor_channels["simulator"] = CrashingChannel()
    caplog.set_level(logging.DEBUG)
    await at(world, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert any(r.name == "safecheck.dispatcher" for r in caplog.records)
    # Neither the record's message nor the traceback written with it may carry the number or the words.
    assert leaks(caplog.records) == []
    assert "7700900987" not in caplog.text
    assert "Is now a good time" not in caplog.text
