"""A fake Twilio REST API on 127.0.0.1, for the real twilio client to talk to, plus signed webhooks.

It speaks the Messages API as Twilio does (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form
fields, HTTP Basic auth, 201 with the message resource as JSON, errors as `{"code", "message",
"more_info", "status"}`), records every message, and can inject 429/20429, 5xx, slow answers and
21610 (opted out). It also plays Twilio's side of webhooks: inbound messages and status callbacks,
signed with `RequestValidator` and POSTed over HTTP, through a "proxy" map from the public URL
(what Twilio signs) to the local test server (where the request really goes).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
import yarl
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from bot.channels.segments import segments

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
API_VERSION = "2010-04-01"
E164 = re.compile(r"\+[1-9]\d{6,14}")
MAX_BODY = 1600
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN_WORDS = frozenset({"start", "unstop", "yes"})


@dataclass(frozen=True)
class Sent:
    """One message Twilio accepted."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    num_segments: int


@dataclass
class Fault:
    """An answer to inject instead of accepting the next message(s)."""

    status: int
    code: int | None = None
    message: str = "injected"
    delay: float = 0.0  # seconds before answering: longer than the client's bound looks like a timeout
    retry_after: int | None = None


def error_body(status: int, code: int | None, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    # Public URL prefix -> local URL prefix: Twilio signs the public URL, the request goes to the local one.
    proxy: dict[str, str] = field(default_factory=dict)
    messages: list[Sent] = field(default_factory=list)
    requests: int = 0
    opted_out: set[str] = field(default_factory=set)
    not_mobile: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    callbacks: list[tuple[str, int]] = field(default_factory=list)  # (url, HTTP status) of each webhook sent
    port: int = 0
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- what tests inject ---

    def fail_next(self, status: int, code: int | None = None, *, times: int = 1, **kw: Any) -> None:
        self.faults.extend(Fault(status, code, **kw) for _ in range(times))

    def to(self, number: str) -> list[Sent]:
        return [m for m in self.messages if m.to == number]

    # --- the REST API ---

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    async def _create_message(self, request: web.Request) -> web.Response:
        self.requests += 1
        if not self._authorised(request) or request.match_info["sid"] != self.account_sid:
            return web.json_response(error_body(401, 20003, "Authenticate"), status=401)
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        if self.faults:
            fault = self.faults.pop(0)
            if fault.delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), fault.delay)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return web.json_response(
                error_body(fault.status, fault.code, fault.message), status=fault.status, headers=headers
            )
        return self._accept(params)

    def _accept(self, params: dict[str, str]) -> web.Response:
        to, body = params.get("To", ""), params.get("Body")
        from_, service = params.get("From"), params.get("MessagingServiceSid")
        if not E164.fullmatch(to):
            return web.json_response(
                error_body(400, 21211, f"The 'To' number {to} is not a valid phone number."), status=400
            )
        if not from_ and not service:
            return web.json_response(error_body(400, 21603, "A 'From' phone number is required."), status=400)
        if not body:
            return web.json_response(error_body(400, 21602, "Message body is required."), status=400)
        if len(body) > MAX_BODY:
            return web.json_response(
                error_body(400, 21617, "The concatenated message body exceeds the 1600 character limit."), status=400
            )
        if to in self.opted_out:
            return web.json_response(error_body(400, 21610, "Attempt to send to unsubscribed recipient"), status=400)
        if to in self.not_mobile:
            return web.json_response(
                error_body(400, 21614, f"'To' number {to} is not a valid mobile number"), status=400
            )
        sid = f"SM{next(self._ids):032x}"
        parts = segments(body).count
        self.messages.append(Sent(sid, to, from_, service, body, params.get("StatusCallback"), parts))
        now = format_datetime(datetime.now(UTC), usegmt=True)
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(parts),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not from_ else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return web.json_response(resource, status=201)

    # --- Twilio's side of webhooks ---

    def local(self, public_url: str) -> str:
        for public, local in self.proxy.items():
            if public_url.startswith(public):
                return local + public_url[len(public) :]
        return public_url

    def sign(self, url: str, params: dict[str, str], algorithm: str | None = None, token: str | None = None) -> str:
        return str(RequestValidator(token or self.auth_token).compute_signature(url, params, algorithm))

    async def post_signed(
        self,
        url: str,
        params: dict[str, str],
        *,
        signature: str | None = None,
        sign_url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        """POST a webhook as Twilio does: form-encoded, signed over the public URL. Returns (status, type, body)."""
        assert self._session is not None
        sig = signature if signature is not None else self.sign(sign_url or url, params)
        all_headers = {"X-Twilio-Signature": sig, "User-Agent": "TwilioProxy/1.1", **(headers or {})}
        if signature == "":
            del all_headers["X-Twilio-Signature"]
        # encoded=True: the path and query go out byte for byte as signed (yarl would decode "%2F").
        target = yarl.URL(self.local(url), encoded=True)
        async with self._session.post(target, data=params, headers=all_headers) as resp:
            text = await resp.text()
            self.callbacks.append((url, resp.status))
            return resp.status, resp.content_type, text

    def inbound_params(self, from_: str, to: str, body: str, sid: str | None = None) -> dict[str, str]:
        sid = sid or f"SM{secrets.token_hex(16)}"
        return {
            "ToCountry": "GB",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "FromCountry": "GB",
            "To": to,
            "NumSegments": str(segments(body).count),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }

    async def text_in(self, url: str, from_: str, to: str, body: str, sid: str | None = None) -> tuple[int, str, str]:
        """A person texts our number: Twilio POSTs the signed inbound webhook.

        Like Twilio on a long code, an opt-out word blocks further sends to the person (21610)
        and an opt-in word lifts the block, before the webhook is called.
        """
        word = body.strip().lower()
        if word in OPT_OUT_WORDS:
            self.opted_out.add(from_)
        elif word in OPT_IN_WORDS:
            self.opted_out.discard(from_)
        return await self.post_signed(url, self.inbound_params(from_, to, body, sid))

    async def status(self, sid: str, status: str, error_code: int | None = None) -> tuple[int, str, str]:
        """Report a delivery status for a message we accepted, to the callback URL it was sent with."""
        sent = next(m for m in self.messages if m.sid == sid)
        assert sent.status_callback, "the message was sent without a status callback"
        params = {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": sent.to,
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": sent.from_ or "",
            "ApiVersion": API_VERSION,
        }
        if sent.messaging_service_sid:
            params["MessagingServiceSid"] = sent.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return await self.post_signed(sent.status_callback, params)
