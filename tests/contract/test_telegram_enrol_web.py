"""Enrolment for Telegram on the workspace page: the activation code once, and a QR code (inline SVG,
drawn by the server) of the t.me link that carries it; opening that link activates her case."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import segno

from bot.web.security import CSP
from storage import cases
from tests.fakes.telegram_api import BOT_USERNAME
from tests.fakes.telegram_world import TgWorld, telegram_world
from tests.webtools import login, person, post_form, workspace


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[TgWorld]:
    async with telegram_world(tmp_path) as world:
        yield world


def qr_path(svg: str) -> str:
    found = re.search(r'class="qrline"[^>]*? d="([^"]+)"', svg)
    assert found, svg
    return found.group(1)


async def test_a_telegram_case_shows_its_code_once_with_a_qr_code_of_the_deep_link_that_activates_it(
    w: TgWorld,
) -> None:
    ida = await person(w, "ida", ("idva",), practitioner_id=w.idva)  # type: ignore[arg-type]
    async with workspace(w) as client:  # type: ignore[arg-type]
        await login(client, w, ida)  # type: ignore[arg-type]
        # A number typed for Telegram is not taken as her chat: she is bound by the link.
        form = {"channel": "telegram", "address": "+447700900123", "intake": "medium", "timezone": "Europe/London"}
        form["thread_explained"] = "yes"
        resp = await post_form(client, "/cases/new", form)
        page = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Security-Policy"] == CSP
    code = re.search(r'<code id="activation-code">([^<]+)</code>', page)
    link = re.search(r'<code id="telegram-link">([^<]+)</code>', page)
    assert code and link
    assert html.unescape(link.group(1)) == f"https://t.me/{BOT_USERNAME}?start={code.group(1)}"
    svg = re.search(r'<figure class="qr">\s*(<svg role="img" aria-label="[^"]+".*?</svg>)', page, re.S)
    assert svg, page
    assert qr_path(svg.group(1)) == qr_path(segno.make(html.unescape(link.group(1)), error="m").svg_inline())
    assert "style=" not in page and "data:" not in page  # nothing the strict CSP would block
    async with w.app.db.reading() as tx:
        [case] = await cases.list_for_service(tx, w.service_id)
    assert case.address_enc is None and case.channel == "telegram"
    # Her phone opens the link: Telegram sends /start with the code, and her chat is bound to the case.
    chat = w.new_chat()
    assert await w.say(chat, f"/start {code.group(1)}") == 200
    async with w.app.db.reading() as tx:
        activated = await cases.get(tx, case.id)
    assert activated.status == "onboarding" and cases.address_of(w.app.crypto, activated) == str(chat)
