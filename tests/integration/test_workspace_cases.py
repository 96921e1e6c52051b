"""The caseload and case pages over real HTTP on a real SQLite file: who reaches which case, search
within the caseload only, the duty worker's reason, notes, pause/resume/close/reassign, and the chart."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from bot import commands
from storage import alert_work, alerts
from storage.alert_work import Outcome
from storage.db import Tx
from tests.caseload_data import alert, checkin, enrol, other_service
from tests.conftest import START, World
from tests.webtools import Person, login, person, post_form, workspace

NAME_A, NAME_B = "Amy Able", "Bo Brown"
# The outcome at closure the close form asks for (tests/integration/test_closure_outcomes.py tests it).
OUTCOME = {
    "safety": "improved",
    "physical": "ceased",
    "sexual": "not_present",
    "harassment_stalking": "reduced",
    "jealous_controlling": "not_known",
    "quality_of_life": "no_change",
}
OUTCOME_DETAIL = " ".join(f"{k}={v}" for k, v in OUTCOME.items())


def audit_rows(world: World, action: str | None = None) -> list[dict[str, Any]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        sql = "SELECT * FROM audit_log" + (" WHERE action = ?" if action else "") + " ORDER BY id"
        return [dict(r) for r in conn.execute(sql, (action,) if action else ())]


def refs_on(page: str) -> set[str]:
    return set(re.findall(r'<a href="/cases/(C-[A-Z0-9]+)">', page))


class Team:
    """Two IDVAs with a case each, a duty worker and a manager, all able to sign in."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def build(self) -> Team:
        w = self.world
        bea = await commands.add_practitioner(w.app, w.service_id, "Bea", "idva", ["inbox"])
        self.ida = await person(w, "ida", ("idva",), practitioner_id=w.idva)
        self.bea = await person(w, "bea", ("idva",), practitioner_id=bea)
        self.dan = await person(w, "dan", ("duty",), practitioner_id=w.duty)
        self.meg = await person(w, "meg", ("manager",), practitioner_id=w.manager)
        self.ref_a, self.id_a = await enrol(w, "+447700900001", NAME_A)
        self.ref_b, self.id_b = await enrol(w, "+447700900002", NAME_B, idva=bea)
        return self


async def signed_in(client: TestClient, world: World, who: Person) -> TestClient:
    await login(client, world, who)
    return client


async def test_each_person_sees_their_own_caseload_on_the_cases_page(world: World) -> None:
    team = await Team(world).build()
    await alert(world, team.id_b, START)
    for who, expected in (
        (team.ida, {team.ref_a}),
        (team.bea, {team.ref_b}),
        (team.meg, {team.ref_a, team.ref_b}),
        (team.dan, {team.ref_b}),  # on duty: the case with an open alert
    ):
        async with workspace(world) as client:
            await signed_in(client, world, who)
            resp = await client.get("/cases")
            assert resp.status == 200 and refs_on(await resp.text()) == expected, who.login
    viewed = audit_rows(world, "caseload_viewed")
    assert [r["actor"] for r in viewed] == [
        f"practitioner:{p.practitioner_id}" for p in (team.ida, team.bea, team.meg, team.dan)
    ]


async def test_idva_a_opening_idva_bs_case_gets_403_and_the_attempt_is_audited(world: World) -> None:
    team = await Team(world).build()
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        resp = await client.get(f"/cases/{team.ref_b}")
        assert resp.status == 403 and NAME_B not in await resp.text()
        # Nor can she act on it.
        resp = await post_form(client, f"/cases/{team.ref_b}/notes", {"body": "x"}, token_from="/cases")
        assert resp.status == 403
        assert (await client.get(f"/cases/{team.ref_a}")).status == 200
    denied = audit_rows(world, "case_view_denied")
    assert [(r["actor"], r["case_id"]) for r in denied] == [(f"practitioner:{world.idva}", team.id_b)] * 2
    viewed = audit_rows(world, "case_viewed")
    assert [(r["actor"], r["case_id"]) for r in viewed] == [(f"practitioner:{world.idva}", team.id_a)]


async def test_another_services_case_is_never_reachable_even_for_a_manager(world: World) -> None:
    team = await Team(world).build()
    _, _, elsewhere = await other_service(world)
    async with workspace(world) as client:
        await signed_in(client, world, team.meg)
        page = await (await post_form(client, "/cases", {"status": "all", "q": "Zara"})).text()
        assert refs_on(page) == set() and "No case matches." in page
        assert (await client.get(f"/cases/{elsewhere}")).status == 404
        resp = await post_form(client, f"/cases/{elsewhere}/close", {"reason": "other"}, token_from="/cases")
        assert resp.status == 404
    with sqlite3.connect(world.settings.db_path) as conn:
        assert conn.execute("SELECT status FROM cases WHERE ref = ?", (elsewhere,)).fetchone() == ("pending",)
    # The refusal is audited in the manager's own service, without pointing at the other service's case.
    denied = audit_rows(world, "case_view_denied")
    assert len(denied) == 2 and all(r["case_id"] is None and r["service_id"] == world.service_id for r in denied)


async def test_search_by_name_works_only_within_the_caseload(world: World) -> None:
    team = await Team(world).build()
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        assert refs_on(await (await post_form(client, "/cases", {"q": "amy"})).text()) == {team.ref_a}
        assert refs_on(await (await post_form(client, "/cases", {"q": "Brown"})).text()) == set()  # Bea's case
        # A search is posted, never put in a URL (history, proxy logs): a name in the query string is ignored.
        assert refs_on(await (await client.get("/cases?q=zzz")).text()) == {team.ref_a}
        assert 'method="post" action="/cases"' in await (await client.get("/cases")).text()
        assert refs_on(await (await post_form(client, "/cases", {"q": f"{team.ref_a.lower()}"})).text()) == {team.ref_a}
    async with workspace(world) as client:
        await signed_in(client, world, team.meg)
        assert refs_on(await (await post_form(client, "/cases", {"q": "brown"})).text()) == {team.ref_b}
        assert refs_on(await (await post_form(client, "/cases", {"q": "o"})).text()) == {team.ref_b}  # "Bo Brown" only
    # What was typed is not in the audit log: a search may be a name.
    details = " ".join(r["detail"] for r in audit_rows(world, "caseload_viewed"))
    assert "search=yes" in details and "amy" not in details.lower() and "brown" not in details.lower()


async def test_the_caseload_sorts_and_filters_with_plain_links(world: World) -> None:
    team = await Team(world).build()
    ref_c, id_c = await enrol(world, "+447700900003", "Cy Cole")
    await checkin(world, team.id_a, "s1", START, level="raised")
    await checkin(world, id_c, "s1", START, level="urgent")
    await alert(world, id_c, START)
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        page = await (await client.get("/cases")).text()
        # Default: open alerts first.
        assert page.index(ref_c) < page.index(team.ref_a)
        assert 'href="/cases?status=open&amp;risk=any&amp;sort=now&amp;dir=desc"' in page
        page = await (await client.get("/cases?sort=now&dir=asc")).text()
        assert page.index(team.ref_a) < page.index(ref_c) and 'aria-sort="ascending"' in page
        assert refs_on(await (await client.get("/cases?risk=urgent")).text()) == {ref_c}
        assert refs_on(await (await client.get("/cases?alerts=1")).text()) == {ref_c}
        assert refs_on(await (await client.get("/cases?status=closed")).text()) == set()
        # Nonsense in the query string falls back to the defaults, never an error page.
        resp = await client.get("/cases?sort=%27;drop&dir=sideways&status=x&risk=7")
        assert resp.status == 200 and refs_on(await resp.text()) == {team.ref_a, ref_c}
        # Every row has its trend as an image with a text alternative.
        page = await (await client.get("/cases")).text()
        assert 'aria-label="Risk at the last 1 check-ins, oldest first: urgent"' in page


async def test_a_duty_worker_gives_a_recorded_reason_before_opening_a_case_without_an_alert(world: World) -> None:
    team = await Team(world).build()
    await alert(world, team.id_b, START)
    reason = "Her IDVA is off sick and the police called about a welfare check"
    async with workspace(world) as client:
        await signed_in(client, world, team.dan)
        assert (await client.get(f"/cases/{team.ref_b}")).status == 200  # open alert: no reason needed
        resp = await client.get(f"/cases/{team.ref_a}")
        page = await resp.text()
        assert resp.status == 403 and 'name="reason"' in page and NAME_A not in page
        resp = await post_form(
            client, f"/cases/{team.ref_a}/reason", {"reason": "  "}, token_from=f"/cases/{team.ref_a}"
        )
        assert resp.status == 400 and "Say why you need to open this case." in await resp.text()
        resp = await post_form(
            client, f"/cases/{team.ref_a}/reason", {"reason": reason}, token_from=f"/cases/{team.ref_a}"
        )
        assert (resp.status, resp.headers["Location"]) == (303, f"/cases/{team.ref_a}")
        resp = await client.get(f"/cases/{team.ref_a}")
        assert resp.status == 200 and NAME_A in await resp.text()
    actions = [(r["action"], r["case_id"]) for r in audit_rows(world) if r["actor"] == f"practitioner:{world.duty}"]
    assert actions[-4:] == [
        ("case_view_denied", team.id_a),
        ("case_view_denied", team.id_a),  # the page the reason form was read from
        ("case_access_reason", team.id_a),
        ("case_viewed", team.id_a),
    ]
    assert reason.encode() not in world.settings.db_path.read_bytes()
    # The reason lasts the session only: a new login asks again.
    world.clock.advance(timedelta(seconds=30))  # a TOTP code works once
    async with workspace(world) as client:
        await signed_in(client, world, team.dan)
        assert (await client.get(f"/cases/{team.ref_a}")).status == 403


async def test_a_note_is_encrypted_at_rest_and_shown_in_the_timeline_with_its_author(world: World) -> None:
    team = await Team(world).build()
    text = "Called her at the refuge; she has moved to a safe address"
    page_path = f"/cases/{team.ref_a}"
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        resp = await post_form(client, f"{page_path}/notes", {"body": "   "}, token_from=page_path)
        page = await resp.text()
        assert resp.status == 400 and page.count('class="error"') == 1 and "Write the note before saving it." in page
        resp = await post_form(client, f"{page_path}/notes", {"body": text}, token_from=page_path)
        assert (resp.status, resp.headers["Location"]) == (303, f"{page_path}?done=note")
        page = await (await client.get(f"{page_path}?done=note")).text()
        assert "Note saved." in page and text in page
        event = page[page.index('class="event event-note"') :]
        assert "Ida" in event[: event.index(text)]
    with sqlite3.connect(world.settings.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM case_notes").fetchone() == (1,)
    stored = b"".join(p.read_bytes() for p in world.settings.db_path.parent.glob("safecheck.db*"))
    assert text.encode() not in stored and b"safe address" not in stored
    [added] = audit_rows(world, "case_note_added")
    assert (added["actor"], added["case_id"]) == (f"practitioner:{world.idva}", team.id_a) and text not in added[
        "detail"
    ]


async def test_pause_until_a_date_then_resume_then_close_are_applied_and_audited(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref = await world.onboard()
    page_path = f"/cases/{ref}"
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        for form, message in (
            ({"length": "until", "until": "2026-12-01", "reason": ""}, "Choose why check-ins pause."),
            ({"length": "until", "until": "2026-12-01", "reason": "bored"}, "Choose why check-ins pause."),
            ({"length": "until", "until": ""}, "Choose the date check-ins start again"),
            ({"length": "until", "until": "24/12/2026"}, "Give the date as year-month-day"),
            ({"length": "until", "until": "2026-11-01"}, "Choose a date after today."),
            ({"length": "until", "until": "2027-06-01"}, "at most 90 days ahead"),
        ):
            form = {"reason": "her_request", **form}
            resp = await post_form(client, f"{page_path}/pause", form, token_from=page_path)
            assert resp.status == 400 and message in await resp.text()
        assert (await case_status(world, ref)) == ("active", None)
        form = {"length": "until", "until": "2026-12-01", "reason": "safe_place"}
        resp = await post_form(client, f"{page_path}/pause", form, token_from=page_path)
        assert resp.headers["Location"] == f"{page_path}?done=paused"
        status, until = await case_status(world, ref)
        assert status == "paused" and until is not None and until.startswith("2026-12-01T00:00")
        page = await (await client.get(page_path)).text()
        assert "Check-ins are paused." not in page and "paused" in page and "Resume check-ins" in page
        resp = await post_form(client, f"{page_path}/resume", {}, token_from=page_path)
        assert resp.status == 400 and "Choose why check-ins start again." in await resp.text()
        resp = await post_form(client, f"{page_path}/resume", {"reason": "break_over"}, token_from=page_path)
        assert resp.headers["Location"] == f"{page_path}?done=resumed"
        assert (await case_status(world, ref)) == ("active", None)
        # Resuming an active case is refused in one line, and changes nothing.
        resp = await post_form(client, f"{page_path}/resume", {"reason": "other"}, token_from=page_path)
        assert resp.status == 409 and "not paused: nothing to resume" in await resp.text()
        resp = await post_form(client, f"{page_path}/close", {"reason": ""}, token_from=page_path)
        assert resp.status == 400 and "Choose why the case is closing." in await resp.text()
        form = {"reason": "support_ended", **OUTCOME}
        resp = await post_form(client, f"{page_path}/close", form, token_from=page_path)
        assert resp.headers["Location"] == f"{page_path}?done=closed"
        assert (await case_status(world, ref))[0] == "closed"
    done = [(r["action"], r["detail"]) for r in audit_rows(world) if r["actor"] == f"practitioner:{world.idva}"]
    changes = [(a, d) for a, d in done if a in ("case_pause", "case_resume", "case_close")]
    assert changes == [
        ("case_pause", "status=active->paused until=2026-12-01T00:00:00+00:00 reason=safe_place"),
        ("case_resume", "status=paused->active reason=break_over"),
        ("case_close", f"status=active->closed reason=support_ended {OUTCOME_DETAIL}"),
    ]
    with sqlite3.connect(world.settings.db_path) as conn:
        left = conn.execute(
            "SELECT COUNT(*) FROM timers WHERE case_id = (SELECT id FROM cases WHERE ref = ?) AND done_at IS NULL",
            (ref,),
        ).fetchone()
    assert left == (0,)  # closed: nothing more is planned


async def test_pause_until_resumed_sets_no_end(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ref = await world.onboard()
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        form = {"length": "indefinite", "reason": "phone_unsafe"}
        resp = await post_form(client, f"/cases/{ref}/pause", form, token_from=f"/cases/{ref}")
        assert resp.status == 303
        assert "until resumed" in await (await client.get(f"/cases/{ref}")).text()
    assert await case_status(world, ref) == ("paused", None)
    world.clock.advance(timedelta(days=120))
    await world.deliver()
    assert (await case_status(world, ref))[0] == "paused"  # no resume timer: it waits for a person


async def test_a_manager_reassigns_a_case_to_another_active_idva_of_the_service_only(world: World) -> None:
    team = await Team(world).build()
    _, olu, _ = await other_service(world)
    page_path = f"/cases/{team.ref_a}"
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        page = await (await client.get(page_path)).text()
        assert "/reassign" not in page
        resp = await post_form(
            client, f"{page_path}/reassign", {"idva": str(team.bea.practitioner_id)}, token_from=page_path
        )
        assert resp.status == 403
    async with workspace(world) as client:
        await signed_in(client, world, team.meg)
        for chosen in (str(olu), str(world.duty), str(world.idva), "x"):
            resp = await post_form(client, f"{page_path}/reassign", {"idva": chosen}, token_from=page_path)
            assert resp.status == 409 and "Choose another active IDVA of this service." in await resp.text()
        resp = await post_form(
            client, f"{page_path}/reassign", {"idva": str(team.bea.practitioner_id)}, token_from=page_path
        )
        assert resp.headers["Location"] == f"{page_path}?done=reassigned"
    with sqlite3.connect(world.settings.db_path) as conn:
        assert conn.execute("SELECT idva_id FROM cases WHERE id = ?", (team.id_a,)).fetchone() == (
            team.bea.practitioner_id,
        )
    [moved] = audit_rows(world, "case_reassign")
    assert (moved["actor"], moved["detail"]) == (
        f"practitioner:{world.manager}",
        f"idva=practitioner:{world.idva}->practitioner:{team.bea.practitioner_id}",
    )
    # Now it is Bea's: Ida no longer reaches it.
    world.clock.advance(timedelta(seconds=30))
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        assert (await client.get(page_path)).status == 403


async def test_the_case_page_shows_the_risk_chart_with_a_text_alternative_and_a_table(world: World) -> None:
    team = await Team(world).build()
    await checkin(world, team.id_a, "s1", START, level="standard")
    await checkin(world, team.id_a, "s2", START + timedelta(days=2), level="urgent", signals=("choking",), score=9)
    await alert(world, team.id_a, START + timedelta(days=2), reason="urgent_signal", severity="urgent")
    dealt = await alert(world, team.id_a, START, reason="risk_raised")

    async def resolve(tx: Tx) -> None:
        await alerts.acknowledge(tx, dealt, world.idva, START)
        await alert_work.resolve(tx, world.app.crypto, dealt, world.idva, Outcome.SAFE, None, "Rang her back", START)
        await tx.commit()

    await world.app.db.run(resolve)
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        page = await (await client.get(f"/cases/{team.ref_a}")).text()
    svg = page[page.index('<svg class="chart"') : page.index("</svg>", page.index('<svg class="chart"'))]
    assert 'role="img" aria-labelledby="risk-chart-title risk-chart-desc"' in svg
    assert '<title id="risk-chart-title">Risk level over time</title>' in svg
    desc = re.search(r'<desc id="risk-chart-desc">([^<]+)</desc>', svg)
    assert desc and desc.group(1) == (
        "2 assessed check-ins from 23 Nov 2026 to 25 Nov 2026. Highest: urgent on 25 Nov 2026 (choking). "
        "Latest: urgent on 25 Nov 2026."
    )
    table = page[page.index("Risk over time as a table") :]
    assert '<th scope="col">Key signals</th>' in table and "<td>choking</td>" in table
    assert "urgent signal" in page  # the alert in the timeline
    assert "Not acknowledged yet" in page
    assert "Resolved by Ida" in page and "Spoke to her: safe" in page and "Rang her back" in page


async def case_status(world: World, ref: str) -> tuple[str, str | None]:
    with sqlite3.connect(world.settings.db_path) as conn:
        row = conn.execute("SELECT status, paused_until FROM cases WHERE ref = ?", (ref,)).fetchone()
    return row[0], row[1]


async def test_the_timeline_shows_the_latest_events_and_links_to_older_ones(world: World) -> None:
    team = await Team(world).build()
    for n in range(105):
        await checkin(world, team.id_a, f"s{n}", START + timedelta(hours=n), level="standard")
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        page = await (await client.get(f"/cases/{team.ref_a}?show=checkins")).text()
        assert page.count('class="event event-checkin"') == 100
        link = f'href="/cases/{team.ref_a}?show=checkins&amp;events=200#timeline"'
        assert link in page and "Show older events" in page
        page = await (await client.get(f"/cases/{team.ref_a}?show=checkins&events=200")).text()
        assert page.count('class="event event-checkin"') == 105 and "Show older events" not in page
        # A nonsense count is the default page, not an error.
        assert (await client.get(f"/cases/{team.ref_a}?events=-3")).status == 200


async def test_a_pause_from_her_exit_word_resumes_only_once_she_has_asked(world: World) -> None:
    """Someone may have been with her when she used the exit word: a message now could be read by them."""
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref = await world.onboard()
    await world.say("+447700900123", "pasta")
    await world.deliver()
    assert (await case_status(world, ref))[0] == "paused"
    page_path = f"/cases/{ref}"
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        page = await (await client.get(page_path)).text()
        assert "She paused check-ins with her exit word on" in page and 'id="resume-confirm"' in page
        resp = await post_form(client, f"{page_path}/resume", {"reason": "her_request"}, token_from=page_path)
        assert resp.status == 400 and "tick that she has asked you to restart" in await resp.text()
        assert (await case_status(world, ref))[0] == "paused"
        form = {"reason": "her_request", "confirm": "1"}
        resp = await post_form(client, f"{page_path}/resume", form, token_from=page_path)
        assert resp.headers["Location"] == f"{page_path}?done=resumed"
    assert (await case_status(world, ref))[0] == "active"
