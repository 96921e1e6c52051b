"""Hostile input to the workspace gets a clear answer, never a 500 or a traceback in the log: bad ids and
query values, forms that are not UTF-8, oversized and malformed fields, on every kind of page."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import World
from tests.webtools import csrf_of, login, person, workspace

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_hostile_requests_get_a_clear_answer_and_log_no_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ref = await world.onboard()
    async with workspace(world) as client:
        await login(client, world, meg)
        token = await csrf_of(client, "/login/second")
        gets = [
            "/alerts/abc",
            "/alerts/99999999999999999999999",
            "/alerts/fragment?v=abc",
            "/cases/C-ZZZZZ",
            f"/cases/{ref}?page=-1&show=x",
            f"/cases/{ref}?before=abc",
            "/cases?sort=x&dir=y",
            "/audit?from=2026-99-99&to=x&actor=zz&case=%00",
            "/manage/rota?week=abc",
            "/invite/%ff%fe",
            "/cases/new?idva=abc",
        ]
        answers = {path: (await client.get(path, allow_redirects=False)).status for path in gets}
        posts: list[tuple[str, bytes]] = [
            (f"/cases/{ref}/notes", b"body=\xff\xfe&_csrf=" + token.encode()),  # not UTF-8
            ("/login", b"login=\xff&password=\xfe&_csrf=" + token.encode()),
            (f"/cases/{ref}/pause", f"length=until&until=99999-01-01&reason=other&_csrf={token}".encode()),
            ("/manage/practitioners/abc/roles", f"role=idva&_csrf={token}".encode()),
            ("/manage/rota", f"_csrf={token}&start=2026-13-45T99:99&end=x&practitioner=abc".encode()),
            ("/cases/new", f"_csrf={token}&channel=sms&address=%00%00&intake=x&windows=99:99-00:00".encode()),
            ("/cases", f"_csrf={token}&q={'%ff' * 50}".encode()),
        ]
        for path, body in posts:
            resp = await client.post(path, data=body, headers=FORM, allow_redirects=False)
            answers[path] = resp.status
            if b"\xff" in body:
                assert resp.status == 400
                assert await resp.text() == "This form could not be read: send it again from the page."
    assert all(status < 500 for status in answers.values()), answers
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
