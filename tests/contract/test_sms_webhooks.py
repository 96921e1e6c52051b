"""Twilio's inbound webhook, for real: signed POSTs over HTTP to our aiohttp server, checked and stored once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.sms_webhooks import EMPTY_TWIML
from storage import inbound
from tests.fakes.sms_harness import OUR_NUMBER, PUBLIC_URL, SURVIVOR, SmsWorld, sms_world
from tests.fakes.twilio_api import AUTH_TOKEN

NEUTRAL = "Sorry, this number does not accept replies."
STRANGER = "+447700900999"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def inbound_count(w: SmsWorld) -> int:
    [row] = await w.rows("SELECT count(*) AS n FROM inbound_messages WHERE channel = 'sms'")
    return int(row["n"])


async def test_a_signed_text_from_a_stranger_is_stored_and_answered_with_the_neutral_line(w: SmsWorld) -> None:
    status, ctype, body = await w.text(STRANGER, "hello?")
    assert (status, ctype, body) == (200, "text/xml", EMPTY_TWIML)
    assert await inbound_count(w) == 1
    [sent] = await w.deliver()
    assert (sent.to, sent.from_, sent.body) == (STRANGER, OUR_NUMBER, NEUTRAL)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("how", "headers_or_signature"),
    [
        ("forged", "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU="),
        ("missing", ""),
    ],
)
async def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(
    w: SmsWorld, caplog: pytest.LogCaptureFixture, how: str, headers_or_signature: str
) -> None:
    caplog.set_level(logging.INFO)
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "secret words here")
    status, _, body = await w.fake.post_signed(w.inbound_url, params, signature=headers_or_signature)
    assert (status, body) == (403, "invalid Twilio signature\n")
    assert await inbound_count(w) == 0
    assert await w.deliver() == []
    text = logged(caplog)
    assert "reason=bad_signature" in text
    assert "secret words" not in text and "900999" not in text
    assert not headers_or_signature or headers_or_signature not in text


async def test_a_signature_over_another_url_is_refused(w: SmsWorld) -> None:
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
    for signed_over in (
        f"http://127.0.0.1:{w.port}/sms/inbound",
        PUBLIC_URL + "/sms/status",
        "https://evil.example/sms/inbound",
    ):
        status, _, _ = await w.fake.post_signed(w.inbound_url, params, sign_url=signed_over)
        assert status == 403, signed_over
    assert await inbound_count(w) == 0


async def test_a_signature_made_with_another_token_or_for_another_account_is_refused(w: SmsWorld) -> None:
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
    forged = w.fake.sign(w.inbound_url, params, token="not-" + AUTH_TOKEN)
    assert (await w.fake.post_signed(w.inbound_url, params, signature=forged))[0] == 403
    other = {**params, "AccountSid": "AC" + "f" * 32}
    assert (await w.fake.post_signed(w.inbound_url, other))[0] == 403  # validly signed, but not our account
    assert await inbound_count(w) == 0


async def test_a_query_string_in_the_public_url_is_part_of_what_is_signed(w: SmsWorld) -> None:
    url = w.inbound_url + "?source=twilio&x=%2F"
    assert (await w.fake.post_signed(url, w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")))[0] == 200
    tampered = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
    status, _, _ = await w.fake.post_signed(url, tampered, sign_url=w.inbound_url)  # signed without the query
    assert status == 403
    assert await inbound_count(w) == 1


@pytest.mark.parametrize(
    "missing",
    ["MessageSid", "From", "Body"],
)
async def test_a_signed_post_without_the_fields_of_a_message_is_a_one_line_400(w: SmsWorld, missing: str) -> None:
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
    del params[missing]
    if missing == "MessageSid":
        del params["SmsSid"], params["SmsMessageSid"]
    status, _, body = await w.fake.post_signed(w.inbound_url, params)
    assert (status, body) == (400, "a Twilio message needs MessageSid, From and Body\n")
    assert await inbound_count(w) == 0


async def test_a_json_or_oversized_post_is_refused_in_one_line(w: SmsWorld) -> None:
    assert w.fake._session is not None
    local = f"http://127.0.0.1:{w.port}/sms/inbound"
    async with w.fake._session.post(local, json={"Body": "hi"}, headers={"X-Twilio-Signature": "x"}) as resp:
        assert (resp.status, await resp.text()) == (400, "expected a form-encoded Twilio webhook\n")
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "a" * 100_000)
    status, _, body = await w.fake.post_signed(w.inbound_url, params)
    assert (status, body) == (413, "request too large for a Twilio webhook\n")
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "a" * 7_000)  # fits the request, not Twilio's limit
    status, _, body = await w.fake.post_signed(w.inbound_url, params)
    assert (status, body) == (400, "message body longer than Twilio allows\n")
    assert await inbound_count(w) == 0


@pytest.mark.parametrize(
    "text",
    [
        "Fine 🙂👍🏽 thanks",
        "\u200fمرحبا، أنا بخير\u200f",
        "שלום \u202eevil\u202c ok",
        "Zażółć gęślą jaźń — ça va",
        "x" * 1600,
        "🙂" * 800,  # 1,600 UTF-16 units: Twilio's longest text
        "tab\there\u0000nul and\u0007bell",
    ],
)
async def test_strange_and_long_bodies_from_a_survivor_are_stored_exactly_once(w: SmsWorld, text: str) -> None:
    ref = await w.onboard()
    before = await inbound_count(w)
    replies = await w.say(SURVIVOR, text)
    assert replies == ["Thanks, got it. Reply HELP for options."]
    assert await inbound_count(w) == before + 1
    [row] = await w.rows(
        "SELECT m.id, m.body_enc FROM inbound_messages m JOIN cases c ON c.id = m.case_id WHERE c.ref = ? "
        "ORDER BY m.id DESC LIMIT 1",
        (ref,),
    )
    assert w.app.crypto.decrypt(row["body_enc"], inbound.BODY.at(row["id"])) == text


async def test_the_same_message_sid_posted_concurrently_is_processed_once(w: SmsWorld) -> None:
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hello?")
    results = await asyncio.gather(*(w.fake.post_signed(w.inbound_url, params) for _ in range(8)))
    assert [r[0] for r in results] == [200] * 8  # Twilio must not retry any of them
    assert await inbound_count(w) == 1
    assert [m.body for m in await w.deliver()] == [NEUTRAL]


async def test_a_storage_failure_answers_503_so_twilio_retries_and_the_retry_is_kept(w: SmsWorld) -> None:
    async with w.app.db.transaction() as tx:  # a real SQLite failure on every insert of a message
        await tx.execute(
            "CREATE TRIGGER refuse_inbound BEFORE INSERT ON inbound_messages "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        await tx.commit()
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hello?")
    status, _, body = await w.fake.post_signed(w.inbound_url, params)
    assert (status, body) == (503, "could not store the message, please retry\n")
    async with w.app.db.transaction() as tx:
        await tx.execute("DROP TRIGGER refuse_inbound")
        await tx.commit()
    assert await inbound_count(w) == 0
    assert (await w.fake.post_signed(w.inbound_url, params))[0] == 200  # Twilio's retry
    assert await inbound_count(w) == 1
    assert [m.body for m in await w.deliver()] == [NEUTRAL]


async def test_webhooks_signed_with_a_shared_key_and_hmac_sha256_are_accepted(tmp_path: Path) -> None:
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_01,algorithm=HMAC_SHA256"}
    async with sms_world(tmp_path, webhook_key="shared-key-secret-0123") as w:
        params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
        good = w.fake.sign(w.inbound_url, params, algorithm="HMAC_SHA256", token="shared-key-secret-0123")
        assert (await w.fake.post_signed(w.inbound_url, params, signature=good, headers=header))[0] == 200
        params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
        sha1 = w.fake.sign(w.inbound_url, params, token="shared-key-secret-0123")  # algorithm downgraded
        token = w.fake.sign(w.inbound_url, params, algorithm="HMAC_SHA256")  # the auth token is not the key
        for signature in (sha1, token):
            assert (await w.fake.post_signed(w.inbound_url, params, signature=signature, headers=header))[0] == 403
        assert await inbound_count(w) == 1


async def test_a_shared_key_signature_is_refused_when_no_shared_key_is_configured(w: SmsWorld) -> None:
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_01,algorithm=HMAC_SHA256"}
    params = w.fake.inbound_params(STRANGER, OUR_NUMBER, "hi")
    signature = w.fake.sign(w.inbound_url, params, algorithm="HMAC_SHA256")
    assert (await w.fake.post_signed(w.inbound_url, params, signature=signature, headers=header))[0] == 403
    assert await inbound_count(w) == 0


async def test_a_form_body_that_is_not_utf8_is_a_one_line_400_and_nothing_is_stored(
    w: SmsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert w.fake._session is not None
    local = f"http://127.0.0.1:{w.port}/sms/inbound"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
    for body in (b"Body=caf\xe9&From=%2B447700900999", b"\xff\xfe\x00B\x00o\x00d\x00y"):
        async with w.fake._session.post(local, data=body, headers=headers) as resp:
            assert (resp.status, await resp.text()) == (400, "the form body is not valid UTF-8\n")
    assert await inbound_count(w) == 0
    assert "Traceback" not in caplog.text and "reason=not_utf8" in caplog.text
