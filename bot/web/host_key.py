"""The key under which serve's web app keeps the pipeline, for the providers' signed webhooks.

Apart from bot.web.keys (which needs the whole App) so that a webhook module can import it without
importing the app that imports the transports that import it.
"""

from __future__ import annotations

from aiohttp import web

from bot.inbound import Host

HOST_KEY = web.AppKey("safecheck.host", Host)
