"""Audit entries carry ids and reasons, never personal data: a busy case (enrolled with a name and a number,
check-ins in her own words, a codeword, notes, an alert resolved with a note, a share with a justification)
leaves none of the values planted along the way in any column of the audit log, so erasure never has to
touch it and its chain stays whole."""

from __future__ import annotations

import sqlite3

from bot import commands
from safety.sharing import Agreement, Basis, Kind
from storage import cases, partners, practitioners
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.integration.test_workspace_shares import ida
from tests.webtools import login, post_form, workspace

PHONE = "+447700900777"
NAME = "Zelda Quillfeather"
WORDS = "marmalade otter"  # in her check-in answers
CODEWORD = "violet harbour"
NOTE = "Neighbour Xylophone-Smith saw him at the door"
ALERT_NOTE = "Rang Quokkaville police station"
WHY = "Pangolin-velvet risk: he is out on bail"
CONTACT_NAME = "Carla Tangerine-Drive"
CONTACT_MAIL = "carla.tangerine@drive.example.org"
CHECKIN_TIME = "10:37"  # her schedule: when it is safe to message her
PLANTED = (
    CHECKIN_TIME,
    *(PHONE, PHONE.removeprefix("+44"), NAME, "Quillfeather", WORDS, "marmalade", CODEWORD, "violet"),
    *(NOTE, "Xylophone", ALERT_NOTE, "Quokkaville", WHY, "Pangolin", CONTACT_NAME, "Tangerine", CONTACT_MAIL),
)


async def test_a_busy_case_leaves_no_planted_value_in_any_audit_column(world: World) -> None:
    ref = await world.onboard(PHONE, name=NAME, codeword=CODEWORD)
    await world.say(PHONE, f"all fine, {WORDS} on the windowsill")
    await world.say(PHONE, f"I'm fine, {CODEWORD}")  # raises an urgent alert, silently
    await world.deliver()
    await commands.set_schedule(world.app, world.service_id, ref, f"mon,thu@{CHECKIN_TIME}")
    now = world.clock.now()
    async with world.app.db.transaction() as tx:
        case = await cases.by_ref(tx, ref)
        assert case is not None
        alert_id = int(await tx.scalar("SELECT id FROM alerts WHERE case_id = ?", (case.id,)))
        agreement = Agreement("ISA-1", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        partner = await partners.create(tx, world.service_id, "Drive", "drive", agreement, now)
        contact = await practitioners.add(
            tx, world.app.crypto, world.service_id, "partner", CONTACT_NAME,
            [ChannelAddress("email", CONTACT_MAIL)], now, partner_id=partner,
        )  # fmt: skip
        await partners.link(tx, world.app.crypto, case.id, partner, contact, "DRV-1", "test", now)
        await partners.record_consent(
            tx, case.id, partner, Kind.RISK_CHANGES, True, "v1", "in_person", "test", now
        )
        await tx.commit()
    path = f"/cases/{ref}"
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        assert (await post_form(client, f"{path}/notes", {"body": NOTE}, token_from=path)).status == 303
        form = {"contact": str(contact), "kind": "risk_changes", "justification": WHY}
        assert (await post_form(client, f"{path}/partners/share", form, token_from=path)).status == 303
        resolution = {"outcome": "action", "action": "other", "note": ALERT_NOTE}
        alert_page = f"/alerts/{alert_id}"
        resp = await post_form(client, f"{alert_page}/resolve", resolution, token_from=alert_page)
        assert resp.status == 303
        assert (await client.get(path)).status == 200  # a view of her case, audited
    with sqlite3.connect(world.settings.db_path) as conn:
        actions = {row[0] for row in conn.execute("SELECT action FROM audit_log")}
        cells = [str(v) for row in conn.execute("SELECT * FROM audit_log") for v in row if v is not None]
    busy = {"case_enrolled", "secrets_set_in_person", "codeword_received", "alert_raised:urgent:codeword",
            "case_note_added", "shared", "alert_resolved", "case_viewed", "schedule_set"}  # fmt: skip
    assert busy <= actions
    leaks = sorted({p for p in PLANTED for cell in cells if p.lower() in cell.lower()})
    assert leaks == []
