"""Her words on her own channel, chosen at enrolment: offered only when the case is on Telegram, and only with
an auto-delete time (which is set on the case); over SMS, where the whole thread stays, never."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import cases
from storage import telegram as telegram_store
from tests.fakes.sms_harness import sms_world
from tests.fakes.telegram_world import TgWorld, telegram_world
from tests.webtools import login, person, post_form, workspace

TELEGRAM_CASE = {"channel": "telegram", "intake": "medium", "timezone": "Europe/London", "mode": "cover"}


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[TgWorld]:
    async with telegram_world(tmp_path) as world:
        yield world


async def test_on_telegram_she_may_set_her_words_there_with_auto_delete_on(w: TgWorld) -> None:
    ida = await person(w, "ida", ("idva",), practitioner_id=w.idva)  # type: ignore[arg-type]
    async with workspace(w) as client:  # type: ignore[arg-type]
        await login(client, w, ida)  # type: ignore[arg-type]
        page = await (await client.get("/cases/new")).text()
        assert "She will set her words on Telegram (auto-delete on)" in page
        # Without an auto-delete time: one line, nothing created.
        form = {**TELEGRAM_CASE, "theme": "salon", "secrets_on_channel": "yes", "autodelete": ""}
        resp = await post_form(client, "/cases/new", form)
        assert resp.status == 400
        assert re.search(
            r'id="autodelete-error" role="alert">Choose how soon her messages are deleted', await resp.text()
        )
        async with w.app.db.reading() as tx:
            assert await cases.list_for_service(tx, w.service_id) == []
        resp = await post_form(client, "/cases/new", {**form, "autodelete": "360"})
        page = await resp.text()
        assert resp.status == 200, page
        assert "She will set them on Telegram" in page
    async with w.app.db.reading() as tx:
        [case] = await cases.list_for_service(tx, w.service_id)
        minutes = await telegram_store.autodelete_minutes(tx, case.id)
        [detail] = await tx.all("SELECT detail FROM audit_log WHERE action = 'checkin_mode_set'")
    assert (case.secrets_on_channel, case.checkin_mode, case.cover_theme, minutes) == (True, "cover", "salon", 360)
    assert detail["detail"] == "mode=cover theme=salon secrets_on_channel=autodelete=360"


async def test_without_the_tick_a_telegram_case_sets_her_words_in_person(w: TgWorld) -> None:
    ida = await person(w, "ida", ("idva",), practitioner_id=w.idva)  # type: ignore[arg-type]
    async with workspace(w) as client:  # type: ignore[arg-type]
        await login(client, w, ida)  # type: ignore[arg-type]
        form = {**TELEGRAM_CASE, "mode": "direct", "autodelete": "60", "thread_explained": "yes"}
        resp = await post_form(client, "/cases/new", form)
        assert resp.status == 200
    async with w.app.db.reading() as tx:
        [case] = await cases.list_for_service(tx, w.service_id)
        assert await telegram_store.autodelete_minutes(tx, case.id) is None
    assert not case.secrets_on_channel


async def test_over_sms_her_words_on_the_channel_are_never_offered_nor_taken(tmp_path: Path) -> None:
    async with sms_world(tmp_path) as s:
        ida = await person(s, "ida", ("idva",), practitioner_id=s.idva)  # type: ignore[arg-type]
        async with workspace(s) as client:  # type: ignore[arg-type]
            await login(client, s, ida)  # type: ignore[arg-type]
            page = await (await client.get("/cases/new")).text()
            assert '<option value="sms"' in page and 'name="secrets_on_channel"' not in page
            form = {
                "channel": "sms",
                "address": "+447700900123",
                "intake": "high",
                "timezone": "Europe/London",
                "mode": "cover",
                "theme": "salon",
                "secrets_on_channel": "yes",
                "autodelete": "60",
            }
            resp = await post_form(client, "/cases/new", form)
            page = await resp.text()
        assert resp.status == 400
        assert 'id="secrets_on_channel-error" role="alert">Only on Telegram' in page
        async with s.app.db.reading() as tx:
            assert await cases.list_for_service(tx, s.service_id) == []
