"""/healthz over HTTP: 200 while every part makes progress, 503 naming the part that is stuck.

The heartbeats are read from the app's pinned clock, so "stuck for a minute" needs no real minute:
the test moves the clock, and keeps the other parts' heartbeats fresh as serve's loops would.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.health import OUTBOX_BOUND, POLL_MARGIN, TIMERS_BOUND
from tests.contract.test_telegram_transport import until
from tests.fakes.telegram_world import TgWorld, telegram_world


async def healthz(w: TgWorld) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{w.web_url}/healthz") as resp:
        return resp.status, await resp.json()


def stuck_parts(body: dict[str, Any]) -> list[str]:
    return [s["part"] for s in body["stuck"]]


async def test_healthz_is_503_naming_telegram_polling_when_no_getupdates_completes_in_its_bound(
    tmp_path: Path,
) -> None:
    async with telegram_world(tmp_path, webhook=False) as w:
        status, body = await healthz(w)
        assert (status, body["ok"], body["stuck"]) == (200, True, [])

        calls = len(w.fake.calls_of("getUpdates"))
        w.fake.fail("getUpdates", 502, "Bad Gateway", times=10_000)  # Telegram unreachable from here

        async def failing() -> bool:
            return len(w.fake.calls_of("getUpdates")) >= calls + 2  # one already failed: no beat since

        await until(failing)
        # TELEGRAM_POLL_TIMEOUT=1 and TELEGRAM_TIMEOUT=2 in the test world.
        bound = timedelta(seconds=1 + 2) + POLL_MARGIN
        w.clock.advance(bound + timedelta(seconds=1))
        await w.deliver()  # the timer loop ran just now
        status, body = await healthz(w)
        assert status == 503 and body["ok"] is False
        assert body["stuck"] == [
            {
                "part": "telegram.polling",
                "reason": "no getUpdates call completed",
                "waited_seconds": int(bound.total_seconds()) + 1,
                "bound_seconds": int(bound.total_seconds()),
            }
        ]

        w.fake.clear_faults("getUpdates")  # Telegram is back: the loop, still running, gets through

        async def healthy() -> bool:
            return (await healthz(w))[0] == 200

        await until(healthy)


async def test_a_webhook_with_no_traffic_is_healthy(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        w.clock.advance(timedelta(days=2))
        await w.deliver()
        status, body = await healthz(w)
        assert (status, body["stuck"]) == (200, [])


async def test_healthz_is_503_when_the_timer_loop_has_not_run_within_its_bound(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        w.clock.advance(TIMERS_BOUND)
        assert (await healthz(w))[0] == 200  # at the bound, not over it
        w.clock.advance(timedelta(seconds=1))
        status, body = await healthz(w)
        assert status == 503 and stuck_parts(body) == ["timers"]
        assert body["stuck"][0]["reason"] == "the timer loop has not run"
        await w.deliver()
        assert (await healthz(w))[0] == 200


async def test_healthz_is_503_when_a_due_message_waits_longer_than_its_bound(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        assert await w.say(chat, "hello") == 200  # the neutral line is queued, due at once
        w.clock.advance(OUTBOX_BOUND + timedelta(seconds=1))
        assert w.timers is not None
        await w.timers.run_due()  # the timer loop is fine: only the outbox waits
        status, body = await healthz(w)
        assert status == 503 and stuck_parts(body) == ["outbox"]
        assert body["outbox"] == {"pending": 1}
        assert str(chat) not in str(body)  # parts, reasons and counts: nothing about anyone
        await w.deliver()
        status, body = await healthz(w)
        assert (status, body["outbox"]) == (200, {"sent": 1})
