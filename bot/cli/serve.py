"""`safecheck serve`: scheduler, dispatcher and web server in one process until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot import pruning
from bot.bootstrap import open_app
from bot.commands import operator
from bot.config import ConfigError, Settings
from bot.dispatcher import Dispatcher
from bot.scheduler import TimerRunner, Waker
from bot.web import make_web_app, workspace_settings
from bot.web.keys import WorkspaceSettings
from storage import audit

log = logging.getLogger("safecheck.serve")


def workspace_for(settings: Settings) -> WorkspaceSettings:
    """The workspace as staff reach it: SAFECHECK_WORKSPACE_URL, else the public URL, else the bound address.
    Its origin is what the CSRF check and passkeys accept; the webhooks keep the public URL."""
    origin = settings.workspace_base or f"http://{settings.host}:{settings.port}"
    return workspace_settings(origin, settings.session_idle_minutes, settings.session_absolute_hours)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_app(settings, moving_clock=True, lock="serve") as app:
        async with app.db.transaction() as tx:  # who started it, as every CLI command
            await audit.log(tx, app.clock.now(), operator(), "cli_command", None, "serve")
            await tx.commit()
        runner = TimerRunner(app.core)
        # Bind first: a port in use must fail before anything is sent.
        web_app = make_web_app(app, timers=runner.heartbeat, workspace=workspace_for(settings))
        for transport in app.transports:
            transport.add_routes(web_app)
        site_runner = web.AppRunner(web_app, access_log=None)
        await site_runner.setup()
        try:
            await web.TCPSite(site_runner, settings.host, settings.port).start()
        except OSError as exc:
            await site_runner.cleanup()
            raise ConfigError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
        log.info("listening on http://%s:%d", settings.host, settings.port)
        for transport in app.transports:
            await transport.start(app)
            log.info("%s started", transport.name)
        # Which channels are on (names only): a channel left off by mistake shows here, not at the first alert.
        log.info(
            "channels survivor=%s practitioner=%s",
            ",".join(sorted(app.survivor_channels)),
            ",".join(sorted(app.practitioner_channels)),
        )
        await runner.prepare()
        caught_up = await runner.run_due()  # whatever fell due while we were down
        log.info("started; %d timer(s) caught up", caught_up)
        waker = Waker(runner)
        waker.start()
        dispatcher = asyncio.create_task(Dispatcher(app).run_forever(stop))
        pruner = asyncio.create_task(pruning.run_forever(app.db, app.clock, stop))
        try:
            await stop.wait()
        finally:
            await waker.stop()
            await dispatcher
            await pruner
            await site_runner.cleanup()
    log.info("stopped")
    return 0
