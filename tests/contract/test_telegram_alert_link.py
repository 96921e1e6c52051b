"""A Telegram alert points at the alert's page in the workspace when its URL is set: our alert id only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from bot import commands
from storage import alerts
from tests.contract.test_telegram_safety import codeword_alert
from tests.fakes.telegram_world import telegram_world

WORKSPACE = "https://workspace.example.org"


async def test_the_alert_links_to_its_workspace_page_and_the_button_still_acknowledges(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, workspace_url=WORKSPACE) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        alert_id = await codeword_alert(w, ida)
        [listed] = await commands.list_alerts(w.app, w.service_id, open_only=True)
        ref = listed["case"]

        shown = w.fake.last_bot_message(ida)
        link = f"{WORKSPACE}/alerts/{alert_id}"
        # The whole text: severity, case reference, reason and the link; nothing of hers, no CLI command.
        assert shown.text == f"[URGENT] Case {ref}: codeword.\nDetails: {link}"
        assert (urlsplit(link).path, urlsplit(link).query) == (f"/alerts/{alert_id}", "")
        [[button]] = shown.reply_markup["inline_keyboard"] if shown.reply_markup else [[{}]]
        assert button["text"] == "Acknowledge"  # acknowledging stays one tap in the chat

        await w.tap(ida, shown.message_id, button["callback_data"])
        async with w.app.db.reading() as tx:
            alert = await alerts.get(tx, alert_id)
        assert alert is not None and alert.acknowledged_by == w.idva


async def test_without_a_workspace_url_the_alert_still_names_the_command(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        await codeword_alert(w, ida)
        [listed] = await commands.list_alerts(w.app, w.service_id, open_only=True)
        ref = listed["case"]
        text = w.fake.last_bot_message(ida).text
        assert text == f"[URGENT] Case {ref}: codeword.\nDetails: safecheck case show {ref} --as <your id>"
