"""A partner agency's person in the workspace, over real HTTP on a real SQLite file (pinned clock).

A manager invites them from Manage → Partners (the staff invitation, keyed by their practitioner row:
password and the same second factor). Signed in, they land on /shares: the shares sent to them (and
those escalated to them as duty contact), with their own reference and the alert's words, never our case
reference or her details. They acknowledge and record an action there, which stops the escalation as an
ACK reply does and shows on the IDVA's case page. Every staff page refuses them; another agency's share
does not exist for them. Messages to partners link to the share when the public URL is set.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from bot import commands
from bot.web.passwords import hash_password, new_totp_secret
from safety.sharing import ACTION_LABELS
from storage import accounts, partners
from storage.db import Tx
from tests.conftest import World
from tests.integration.conftest import PHONE, answer_all, inbox, later, rows
from tests.integration.test_share_escalation import ACK_MINUTES, POLLY, partner_with_people, shared_case
from tests.webtools import PASSWORD, Person, csrf_of, invitation_form, login, person, post_form, workspace

SURVIVOR = "Test Survivor"  # the name World.enrol gives her


async def partner_account(world: World, pid: int, login_name: str) -> Person:
    """A workspace account for an existing partner's person (their role is already 'partner')."""
    secret = new_totp_secret()
    hashed = await hash_password(PASSWORD)

    async def unit(tx: Tx) -> None:
        await accounts.create_account(tx, world.app.crypto, pid, login_name, hashed, secret, world.clock.now())
        await tx.commit()

    await world.app.db.run(unit)
    return Person(pid, login_name, PASSWORD, secret, world.service_id)


def leaks(page: str, ref: str) -> list[str]:
    """Anything of ours or hers on a partner's page."""
    return [x for x in (ref, SURVIVOR, PHONE, "/cases/") if x in page]


async def test_only_shares_sent_to_the_person_show_with_their_reference_and_the_alerts_words(world: World) -> None:
    share, carl, _, ref = await shared_case(world)
    cm = await partner_account(world, carl, "carl")
    async with workspace(world) as client:
        await login(client, world, cm)
        home = await client.get("/", allow_redirects=False)
        assert home.status == 303 and home.headers["Location"] == "/shares"
        page = await (await client.get("/shares")).text()
        one = await (await client.get(f"/shares/S-{share}")).text()
    row = page.split(f'id="share-{share}"')[1].split("</tr>")[0]
    assert f"S-{share}" in row and "DRV-889" in row and "Risk-level change" in row
    assert "strangulation disclosed" in row and "not yet" in row and "none recorded" in row
    assert "DRV-889" in one and "strangulation disclosed" in one and 'id="ack-share"' in one
    assert leaks(page, ref) == [] and leaks(one, ref) == []
    assert 'href="/shares"' in page and 'href="/alerts"' not in page  # the partner's navigation
    audit = await rows(
        world.app,
        "SELECT action, case_id, detail FROM audit_log WHERE actor = ? ORDER BY id",
        (f"practitioner:{carl}",),
    )
    assert [a["action"] for a in audit if a["action"].startswith("share")] == ["shares_viewed", "share_viewed"]
    assert audit[-1]["detail"] == f"share={share}"


async def test_the_duty_contact_sees_a_share_only_once_it_escalated_to_them(world: World) -> None:
    share, _, dora, _ = await shared_case(world)
    duty = await partner_account(world, dora, "dora")
    async with workspace(world) as client:
        await login(client, world, duty)
        assert f"S-{share}" not in await (await client.get("/shares")).text()
        assert (await client.get(f"/shares/S-{share}")).status == 404
    await later(world, timedelta(minutes=ACK_MINUTES))
    async with workspace(world) as client:
        await login(client, world, duty)
        assert f'id="share-{share}"' in await (await client.get("/shares")).text()
        assert (await client.get(f"/shares/S-{share}")).status == 200


async def test_another_agencys_share_does_not_exist_for_them(world: World) -> None:
    share, _, _, ref = await shared_case(world)
    _, [polly] = await partner_with_people(world, "West Mercia Police DAU", "police", [("Polly", POLLY, True)])
    officer = await partner_account(world, polly, "polly")
    await later(world, timedelta(minutes=3 * ACK_MINUTES))  # escalated all the way: still not theirs
    async with workspace(world) as client:
        await login(client, world, officer)
        listing = await (await client.get("/shares")).text()
        theirs = await client.get(f"/shares/S-{share}")
        none = await client.get("/shares/S-999")
        token = await csrf_of(client, "/shares")
        ack = await client.post(f"/shares/S-{share}/ack", data={"_csrf": token}, allow_redirects=False)
        act = await client.post(
            f"/shares/S-{share}/action", data={"_csrf": token, "action": "no_action_needed"}, allow_redirects=False
        )
        assert (theirs.status, none.status, ack.status, act.status) == (404, 404, 404, 404)
        assert await theirs.text() == await none.text()  # no hint that it exists
    assert f"S-{share}" not in listing and leaks(listing, ref) == []
    [row] = await rows(world.app, "SELECT acknowledged_at, action FROM shares")
    assert row == {"acknowledged_at": None, "action": None}
    denied = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'share_view_denied'")
    assert [d["detail"] for d in denied] == [
        f"share={share} tried=view",
        "share=999 tried=view",
        f"share={share} tried=ack",
        f"share={share} tried=action",
    ]


async def test_acknowledging_in_the_workspace_stops_the_escalation_as_a_reply_does(world: World) -> None:
    share, carl, dora, _ = await shared_case(world)
    cm = await partner_account(world, carl, "carl")
    await later(world, timedelta(minutes=ACK_MINUTES - 1))
    async with workspace(world) as client:
        await login(client, world, cm)
        page = f"/shares/S-{share}"
        forged = await client.post(f"{page}/ack", data={"_csrf": "forged"}, allow_redirects=False)
        assert forged.status == 403
        resp = await post_form(client, f"{page}/ack", {}, token_from=page)
        assert resp.status == 303 and resp.headers["Location"] == f"{page}?done=ack"
        shown = await (await client.get(resp.headers["Location"])).text()
    assert "Acknowledged. Thank you." in shown and 'id="ack-share"' not in shown
    assert "by Carl" in shown.split('id="share-ack"')[1].split("</dd>")[0]
    await later(world, timedelta(minutes=3 * ACK_MINUTES))
    assert await inbox(world, dora) == []
    assert [x for x in await inbox(world, world.manager) if "has not acknowledged" in x] == []
    [row] = await rows(world.app, "SELECT acknowledged_at, acknowledged_by FROM shares")
    assert row == {"acknowledged_at": "2026-11-23T09:19:00.000000Z", "acknowledged_by": carl}
    audit = await rows(world.app, "SELECT actor, detail FROM audit_log WHERE action = 'share_acknowledged'")
    assert audit == [{"actor": f"practitioner:{carl}", "detail": f"share={share} partner=1"}]


async def test_the_action_is_recorded_with_an_encrypted_note_and_shows_on_the_idvas_case_page(world: World) -> None:
    share, carl, _, ref = await shared_case(world)
    cm = await partner_account(world, carl, "carl")
    page = f"/shares/S-{share}"
    async with workspace(world) as client:
        await login(client, world, cm)
        bad = await post_form(client, f"{page}/action", {"action": "arrested", "note": ""}, token_from=page)
        assert bad.status == 400 and "Choose what you did from the list." in await bad.text()
        long = await post_form(client, f"{page}/action", {"action": "other", "note": "x" * 501}, token_from=page)
        assert long.status == 400 and "Keep the note to 500 printable characters." in await long.text()
        assert (await rows(world.app, "SELECT action, acknowledged_at FROM shares")) == [
            {"action": None, "acknowledged_at": None}
        ]
        note = {"action": "perpetrator_visited", "note": "Home visit, bail conditions reread"}
        resp = await post_form(client, f"{page}/action", note, token_from=page)
        assert resp.status == 303 and resp.headers["Location"] == f"{page}?done=action"
        shown = await (await client.get(resp.headers["Location"])).text()
    assert "Perpetrator visited" in shown and "Home visit, bail conditions reread" in shown
    [row] = await rows(world.app, "SELECT action, action_note_enc, acknowledged_by FROM shares")
    assert (row["action"], row["acknowledged_by"]) == ("perpetrator_visited", carl)  # an action acknowledges
    assert b"bail" not in row["action_note_enc"]
    audit = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'share_action_recorded'")
    assert audit == [{"detail": f"share={share} action=perpetrator_visited"}]  # the code, never the note
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        case = await (await client.get(f"/cases/{ref}")).text()
    shares = case.split(f'id="share-{share}"')[1].split("</tr>")[0]
    assert "not yet acknowledged" not in shares and "Perpetrator visited" in shares and "(Carl)" in shares


def test_the_action_list_is_the_one_storage_accepts() -> None:
    assert tuple(ACTION_LABELS) == partners.ACTION_CODES


STAFF_PAGES = [
    "/alerts",
    "/alerts/fragment",
    "/alerts/events",
    "/alerts/{alert}",
    "/cases",
    "/cases/new",
    "/cases/{ref}",
    "/cases/{ref}/dash",
    "/cases/{ref}/card",
    "/manage",
    "/manage/partners",
    "/manage/practitioners",
    "/audit",
]


async def test_every_staff_page_refuses_a_partners_person_and_shows_no_case_data(world: World) -> None:
    _, carl, _, ref = await shared_case(world)
    [alert] = await rows(world.app, "SELECT id FROM alerts")
    cm = await partner_account(world, carl, "carl")
    async with workspace(world) as client:
        await login(client, world, cm)
        for path in STAFF_PAGES:
            resp = await client.get(path.format(ref=ref, alert=alert["id"]), allow_redirects=False)
            body = await resp.text()
            assert resp.status == 403, path
            assert leaks(body, ref) == [] and "strangulation" not in body, path
        token = await csrf_of(client, "/shares")
        note = await client.post(f"/cases/{ref}/notes", data={"_csrf": token, "note": "x"}, allow_redirects=False)
        ack = await client.post(f"/alerts/{alert['id']}/ack", data={"_csrf": token}, allow_redirects=False)
        assert (note.status, ack.status) == (403, 403)
        assert (await client.get("/account")).status == 200  # their own account, passkeys and sessions
    refused = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'partner_refused'")
    assert len(refused) == len(STAFF_PAGES) + 2
    assert "route=/cases/{ref}" in [r["detail"] for r in refused]
    assert not any(ref in r["detail"] for r in refused)  # the route's pattern, not the path
    [row] = await rows(world.app, "SELECT acknowledged_at FROM alerts")
    assert row["acknowledged_at"] is None


async def test_staff_have_no_shares_page(world: World) -> None:
    share, *_ = await shared_case(world)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        assert (await client.get("/shares")).status == 403
        assert (await client.get(f"/shares/S-{share}")).status == 403


async def test_a_manager_invites_a_partners_person_who_sets_a_password_and_second_factor(world: World) -> None:
    share, carl, _, _ = await shared_case(world)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get("/manage/partners")).text()
        assert f'id="invite-person-{carl}"' in page
        resp = await post_form(client, f"/manage/partners/people/{carl}/invite", {}, token_from="/manage/partners")
        shown = await resp.text()
    assert resp.status == 200 and "shown only once" in shown
    token = shown.split("/invite/")[1].split("<")[0]
    [made] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'invitation_created'")
    assert made["detail"] == f"practitioner={carl} roles=partner"
    people = await rows(world.app, "SELECT count(*) AS n FROM practitioners")
    async with workspace(world) as client:
        form = await invitation_form(client, world, token, login="carl@drive.example.org")
        done = await post_form(client, f"/invite/{token}", form)
        assert done.status == 200 and "recovery" in (await done.text()).lower()
    assert await rows(world.app, "SELECT count(*) AS n FROM practitioners") == people  # no second person
    assert await rows(world.app, "SELECT role FROM practitioner_roles WHERE practitioner_id = ?", (carl,)) == [
        {"role": "partner"}
    ]
    world.clock.advance(timedelta(seconds=30))  # the next authenticator code
    cm = Person(carl, "carl@drive.example.org", form["password"], form["secret"], world.service_id)
    async with workspace(world) as client:
        await login(client, world, cm)
        assert f'id="share-{share}"' in await (await client.get("/shares")).text()
    async with workspace(world) as client:  # a second invitation for someone with an account is refused
        await login(client, world, meg, pyotp.TOTP(meg.totp_secret).at(world.clock.now()))
        again = await post_form(client, f"/manage/partners/people/{carl}/invite", {}, token_from="/manage/partners")
        assert again.status == 400 and "already have a workspace account" in await again.text()


async def test_only_a_manager_of_the_service_may_invite_a_partners_person(world: World) -> None:
    _, carl, _, _ = await shared_case(world)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, ida)
        token = await csrf_of(client, "/account")
        resp = await client.post(f"/manage/partners/people/{carl}/invite", data={"_csrf": token}, allow_redirects=False)
        assert resp.status == 403
    async with workspace(world) as client:
        await login(client, world, meg)
        staff = await post_form(
            client, f"/manage/partners/people/{world.idva}/invite", {}, token_from="/manage/partners"
        )
        assert staff.status == 404  # staff are invited from Manage → Practitioners
    assert await rows(world.app, "SELECT id FROM invitations") == []


@pytest.mark.parametrize("url", [None, "https://safecheck.example.org"])
async def test_the_share_message_links_to_the_share_when_the_public_url_is_set(world: World, url: str | None) -> None:
    world.app.workspace_url = url
    share, carl, _, _ = await shared_case(world)
    [sent] = await inbox(world, carl)
    if url is None:
        assert sent.endswith(f"Acknowledge: reply ACK S-{share}")
    else:
        assert sent.endswith(f"Acknowledge: reply ACK S-{share} or at {url}/shares/S-{share}")
    assert len(sent) <= 306  # two SMS segments at most


async def test_an_admin_cannot_reset_a_partners_person_to_sign_in_as_them(world: World) -> None:
    _, carl, _, _ = await shared_case(world)
    await partner_account(world, carl, "carl")
    ada = await person(world, "ada", ("admin",))
    async with workspace(world) as client:
        await login(client, world, ada)
        resp = await post_form(client, f"/manage/practitioners/{carl}/reset", {}, token_from="/manage/practitioners")
        assert resp.status == 400 and "Only a manager can reset a partner agency&#39;s person." in await resp.text()
    assert await rows(world.app, "SELECT id FROM invitations") == []


async def shared_with_details(world: World) -> tuple[int, int, str, int, int]:
    """As shared_case, but Drive's agreement and her consent allow her name and number: share, carl, ref,
    case id, partner id."""
    drive, [carl] = await partner_with_people(world, "Drive West Mercia", "drive", [("Carl", "+447700900301", False)])
    ref = await world.onboard(PHONE)
    [case] = await rows(world.app, "SELECT id FROM cases WHERE ref = ?", (ref,))
    now = world.clock.now()
    async with world.app.db.transaction() as tx:
        await tx.execute("UPDATE partners SET personal_details = 1 WHERE id = ?", (drive,))
        await partners.link(tx, world.app.crypto, case["id"], drive, carl, "DRV-889", "test", now)
        for kind in ("risk_changes", "personal_details"):
            await partners.record_consent(tx, case["id"], drive, kind, True, "v1", "in_person", "test", now)
        await tx.commit()
    await commands.checkin_now(world.app, world.service_id, ref)
    await world.deliver()
    await answer_all(world, ["1", "1", "1", "1", "5"])  # the incident question: choking
    [share] = await rows(world.app, "SELECT id FROM shares")
    return share["id"], carl, ref, case["id"], drive


async def test_her_name_and_number_show_on_the_share_only_while_the_agreement_and_her_consent_allow(
    world: World,
) -> None:
    share, carl, ref, case_id, drive = await shared_with_details(world)
    [sent] = await inbox(world, carl)
    assert SURVIVOR not in sent and PHONE not in sent  # never in a message
    cm = await partner_account(world, carl, "carl")
    async with workspace(world) as client:
        await login(client, world, cm)
        one = await (await client.get(f"/shares/S-{share}")).text()
        listing = await (await client.get("/shares")).text()
        assert SURVIVOR in one.split('id="share-name"')[1] and PHONE in one.split('id="share-number"')[1]
        assert ref not in one and SURVIVOR not in listing and PHONE not in listing  # the list stays minimal
        async with world.app.db.transaction() as tx:  # she withdraws that consent through her IDVA
            await partners.record_consent(
                tx, case_id, drive, "personal_details", False, "v1", "through_idva", "test", world.clock.now()
            )
            await tx.commit()
        again = await (await client.get(f"/shares/S-{share}")).text()
    assert SURVIVOR not in again and PHONE not in again
    viewed = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'share_viewed' ORDER BY id")
    assert [v["detail"] for v in viewed] == [f"share={share} personal_details=1", f"share={share}"]


async def test_once_the_agreement_ends_their_people_are_signed_out_and_cannot_sign_in(world: World) -> None:
    """Seeing what was shared rests on the agreement: when the service ends it, the partner's people lose the
    workspace at once (their sessions end) and for good (sign-in refused as for a wrong password). What was
    shared stays on record."""
    share, carl, _ref, _case_id, drive = await shared_with_details(world)
    cm = await partner_account(world, carl, "carl")
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as partner, workspace(world) as manager:
        await login(partner, world, cm)
        assert (await partner.get(f"/shares/S-{share}")).status == 200
        await login(manager, world, meg)
        ended = await post_form(
            manager, f"/manage/partners/{drive}/end", {"confirm": "yes"}, token_from="/manage/partners"
        )
        assert ended.status == 303
        gone = await partner.get(f"/shares/S-{share}", allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"].startswith("/login")
        refused = await post_form(partner, "/login", {"login": "carl", "password": PASSWORD})
        assert refused.status == 401
    assert await rows(world.app, "SELECT id FROM shares WHERE id = ?", (share,)) == [{"id": share}]
    last = "SELECT end_reason FROM sessions WHERE practitioner_id = ? ORDER BY id DESC LIMIT 1"
    assert await rows(world.app, last, (carl,)) == [{"end_reason": "agreement_ended"}]  # the one he was in
