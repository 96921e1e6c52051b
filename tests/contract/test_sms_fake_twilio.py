"""The fake Twilio API answers the real twilio client as Twilio does, so the SMS contract tests mean something."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from bot.channels.sms_http import RETRY_AFTER, TwilioHttp
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


async def client_for(fake: FakeTwilio, token: str = AUTH_TOKEN) -> tuple[Client, TwilioHttp]:
    http = TwilioHttp()
    client = Client(ACCOUNT_SID, token, http_client=http)
    client.api.base_url = fake.base_url
    return client, http


async def test_the_real_client_sends_and_gets_a_message_sid(fake: FakeTwilio) -> None:
    client, http = await client_for(fake)
    try:
        msg = await client.messages.create_async(to="+447700900123", from_="+447700900000", body="Hello")
    finally:
        await http.close()
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert msg.status == "queued" and msg.num_segments == "1"
    assert [(m.to, m.from_, m.body) for m in fake.messages] == [("+447700900123", "+447700900000", "Hello")]


async def test_wrong_credentials_are_refused_like_twilio(fake: FakeTwilio) -> None:
    client, http = await client_for(fake, token="wrong")
    try:
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(to="+447700900123", from_="+447700900000", body="Hello")
    finally:
        await http.close()
    assert (info.value.status, info.value.code) == (401, 20003)
    assert fake.messages == []


async def test_injected_and_natural_errors_carry_twilio_codes(fake: FakeTwilio) -> None:
    fake.fail_next(429, 20429, message="Too Many Requests")
    fake.opted_out.add("+447700900999")
    client, http = await client_for(fake)
    codes = []
    try:
        for to in ("+447700900123", "+447700900999", "not-a-number"):
            with pytest.raises(TwilioRestException) as info:
                await client.messages.create_async(to=to, from_="+447700900000", body="Hello")
            codes.append((info.value.status, info.value.code))
    finally:
        await http.close()
    assert codes == [(429, 20429), (400, 21610), (400, 21211)]
    assert fake.messages == []


async def test_webhooks_are_signed_over_the_public_url_and_reach_the_local_server(fake: FakeTwilio) -> None:
    seen: list[bool] = []

    async def receive(request: web.Request) -> web.Response:
        form = await request.post()
        url = "https://public.example.org" + request.path_qs
        seen.append(RequestValidator(AUTH_TOKEN).validate(url, form, request.headers["X-Twilio-Signature"]))
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/sms/inbound", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.proxy["https://public.example.org"] = f"http://127.0.0.1:{port}"
    try:
        status, ctype, body = await fake.text_in(
            "https://public.example.org/sms/inbound?x=1", "+447700900123", "+447700900000", "Hi 🙂 \u200f"
        )
    finally:
        await runner.cleanup()
    assert (status, ctype, body, seen) == (200, "text/xml", "<Response/>", [True])


async def test_a_429_retry_after_header_reaches_the_sender(fake: FakeTwilio) -> None:
    fake.fail_next(429, 20429, message="Too Many Requests", retry_after=7)
    client, http = await client_for(fake)
    try:
        with pytest.raises(TwilioRestException):
            await client.messages.create_async(to="+447700900123", from_="+447700900000", body="Hello")
        assert RETRY_AFTER.get() == "7"
        await client.messages.create_async(to="+447700900123", from_="+447700900000", body="Hello")
        assert RETRY_AFTER.get() is None
    finally:
        await http.close()
