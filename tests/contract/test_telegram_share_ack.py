"""A partner's person acknowledges a share on Telegram (python-telegram-bot against the fake Bot API): the
share reaches the chat they linked, `ACK S-<n>` typed there is acknowledged in one line, and the share
message carries neither our case reference nor anything of hers."""

from __future__ import annotations

from pathlib import Path

from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from tests.fakes.telegram_world import TgWorld, telegram_world

DRIVE_REF = "DRV-889"


async def drive_case_manager_on_telegram(w: TgWorld, chat: int) -> tuple[int, int]:
    now = w.clock.now()
    async with w.app.db.transaction() as tx:
        agreement = Agreement("ISA-2026-014", Basis.CONSENT, frozenset({Kind.URGENT_ALERTS}))
        drive = await partners.create(tx, w.service_id, "Drive West Mercia", "drive", agreement, now)
        carl = await practitioners.add(tx, w.app.crypto, w.service_id, "partner", "Carl", [], now, partner_id=drive)
        await tx.commit()
    await w.link_practitioner(carl, chat)
    return drive, carl


async def test_a_share_reaches_the_partners_telegram_chat_and_a_typed_ack_acknowledges_it(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        carl_chat, survivor = w.new_chat(), w.new_chat()
        drive, carl = await drive_case_manager_on_telegram(w, carl_chat)
        ref = await w.onboard(survivor)
        async with w.app.db.transaction() as tx:
            case_id = await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,))
            await partners.link(tx, w.app.crypto, case_id, drive, carl, DRIVE_REF, "test", w.clock.now())
            await partners.record_consent(
                tx, case_id, drive, Kind.URGENT_ALERTS, True, "v1", "in_person", "test", w.clock.now()
            )
            await tx.commit()

        await w.say(survivor, "I'm fine, blue kettle")  # her codeword: an urgent alert, shared with Drive
        await w.deliver()
        async with w.app.db.reading() as tx:
            share_id = await tx.scalar("SELECT id FROM shares")
        shared = w.fake.bot_texts(carl_chat)[-1]
        assert shared.startswith(f"[URGENT] Safecheck share S-{share_id} for your reference {DRIVE_REF}: codeword")
        assert ref not in shared and "kettle" not in shared

        await w.say(carl_chat, f"ACK S-{share_id}")
        await w.deliver()
        assert w.fake.bot_texts(carl_chat)[-1] == f"Acknowledged share S-{share_id}. Thank you."
        async with w.app.db.reading() as tx:
            assert await tx.scalar("SELECT acknowledged_by FROM shares WHERE id = ?", (share_id,)) == carl
