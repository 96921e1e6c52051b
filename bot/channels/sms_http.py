"""twilio's aiohttp client, adjusted: Basic auth as a plain header, quiet logs, Retry-After kept per task."""

from __future__ import annotations

import base64
import logging
from contextvars import ContextVar

from twilio.http.async_http_client import AsyncTwilioHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]

# The Retry-After of the last answer in this task: twilio's exceptions drop the headers, and each
# send runs in its own task, so a context variable carries it to the error mapping safely.
RETRY_AFTER: ContextVar[str | None] = ContextVar("twilio_retry_after", default=None)

_quiet = logging.getLogger("safecheck.sms.http")
_quiet.setLevel(logging.WARNING)  # twilio logs every request and response header at INFO


class TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The async client with the credentials sent as an Authorization header.

    twilio passes them as `aiohttp.BasicAuth`, which aiohttp 3.14 deprecates (a warning on every send).
    """

    def __init__(self) -> None:
        super().__init__(logger=_quiet)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        RETRY_AFTER.set(None)
        response = await super().request(method, url, params, data, headers, None, timeout, allow_redirects)
        RETRY_AFTER.set(response.headers.get("Retry-After") if response.headers else None)
        return response
