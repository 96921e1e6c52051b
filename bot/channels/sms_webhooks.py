"""Twilio's webhooks on our aiohttp server: inbound texts and delivery status callbacks.

Every request is checked in one fixed order: a form body, a valid signature over the public URL
Twilio called (403 otherwise, nothing stored), the fields we need (400), then it is stored durably
before we answer 200 — or 503, so that Twilio tries again rather than the message being lost.
Logs carry outcomes and reason codes only: never a number, a text or a signature.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from xml.sax.saxutils import escape

from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import (  # type: ignore[import-untyped]
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot.channels.sms_channel import SmsChannel
from bot.channels.sms_settings import INBOUND_PATH, STATUS_PATH, SmsSettings
from bot.inbound import DeliveryReport, Host, Inbound, Text
from bot.web.host_key import HOST_KEY

log = logging.getLogger("safecheck.sms.webhook")

FORM = "application/x-www-form-urlencoded"
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
ADDRESS = re.compile(r"\+?[0-9A-Za-z]{2,32}")  # E.164, or a short code / alphanumeric sender
# Twilio adds statuses now and then (e.g. partially_delivered): any such word is recorded, and
# only "failed" and "undelivered" are acted on.
STATUS = re.compile(r"[a-z_]{3,32}")
MAX_BODY = 1600 * 4  # Twilio's longest text, with room for characters we may count differently
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

Params = MultiDictProxy[str]


def twiml(message: str | None = None) -> web.Response:
    body = EMPTY_TWIML if message is None else f"<Response><Message>{escape(message)}</Message></Response>"
    return web.Response(text=body, content_type="text/xml")


def refuse(status: int, line: str) -> web.Response:
    return web.Response(status=status, text=line + "\n", content_type="text/plain")


class SmsWebhooks:
    def __init__(self, settings: SmsSettings, channel: SmsChannel) -> None:
        self.settings = settings
        self.channel = channel
        self._token = RequestValidator(settings.auth_token)
        self._shared = RequestValidator(settings.webhook_key) if settings.webhook_key else None

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_post(INBOUND_PATH, self._guarded(self.inbound))
        web_app.router.add_post(STATUS_PATH, self._guarded(self.status))

    def signed(self, request: web.Request, params: Params) -> bool:
        """Whether Twilio signed this request, over the public URL it called (we may sit behind a proxy)."""
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            return False
        url = self.settings.public_url + request.raw_path
        settings_header = request.headers.get(SIGNATURE_SETTINGS_HEADER)
        if settings_header:  # signed with a Webhooks SharedKey, HMAC-SHA1 or HMAC-SHA256
            if self._shared is None:
                return False
            return bool(self._shared.validate(url, params, signature, get_signature_algorithm(settings_header)))
        return bool(self._token.validate(url, params, signature))

    def _guarded(
        self, handler: Callable[[Host, Params], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def checked(request: web.Request) -> web.Response:
            kind = request.path.rsplit("/", 1)[-1]
            if request.content_type != FORM:
                return refuse(400, "expected a form-encoded Twilio webhook")
            try:
                params: Params = await request.post()  # type: ignore[assignment]
            except web.HTTPRequestEntityTooLarge:
                log.warning("sms webhook refused kind=%s reason=too_large", kind)
                return refuse(413, "request too large for a Twilio webhook")
            except (UnicodeDecodeError, LookupError):  # bytes that are not UTF-8, or an unknown charset
                log.warning("sms webhook refused kind=%s reason=not_utf8", kind)
                return refuse(400, "the form body is not valid UTF-8")
            if not self.signed(request, params):
                # Someone who is not Twilio, or a wrong token or URL: say nothing of what was sent.
                log.warning("sms webhook refused kind=%s reason=bad_signature", kind)
                return refuse(403, "invalid Twilio signature")
            if params.get("AccountSid") != self.settings.account_sid:
                log.warning("sms webhook refused kind=%s reason=other_account", kind)
                return refuse(403, "not for this Twilio account")
            try:
                return await handler(request.app[HOST_KEY], params)
            except Exception as exc:  # the database is down or locked: Twilio must try again
                log.error("sms webhook failed kind=%s error=%s", kind, type(exc).__name__)
                return refuse(503, "could not store the message, please retry")

        return checked

    async def inbound(self, host: Host, params: Params) -> web.Response:
        sid, sender, body = params.get("MessageSid", ""), params.get("From", ""), params.get("Body")
        if not MESSAGE_SID.fullmatch(sid) or not ADDRESS.fullmatch(sender) or body is None:
            log.warning("sms inbound refused reason=malformed")
            return refuse(400, "a Twilio message needs MessageSid, From and Body")
        if len(body) > MAX_BODY:
            log.warning("sms inbound refused reason=too_long")
            return refuse(400, "message body longer than Twilio allows")
        # Deduplicated by MessageSid, survivor or practitioner, before anything acts: a replayed
        # signed `ACK` acknowledges nothing (and gets no answer).
        handled = await host.receive(Inbound("sms", sender, sid, Text(body), host.core.clock.now()))
        if handled.reply is not None:  # an IDVA acknowledging: Twilio sends the answer from our number
            log.info("sms inbound from practitioner")
            return twiml(handled.reply)
        log.info("sms inbound outcome=%s", handled.outcome.value)
        return twiml()

    async def status(self, host: Host, params: Params) -> web.Response:
        sid = params.get("MessageSid", "")
        status = params.get("MessageStatus") or params.get("SmsStatus") or ""
        code = params.get("ErrorCode", "")
        if not MESSAGE_SID.fullmatch(sid) or not STATUS.fullmatch(status) or not (code == "" or code.isdigit()):
            log.warning("sms status refused reason=malformed")
            return refuse(400, "a Twilio status callback needs MessageSid and MessageStatus")
        await host.receive(Inbound("sms", "", sid, DeliveryReport(status, int(code) if code else None)))
        return twiml()
