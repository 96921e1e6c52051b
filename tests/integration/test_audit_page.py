"""GET /audit over real HTTP: the manager's own service only, newest first, filters and pages."""

from __future__ import annotations

import html
import re
import sqlite3
from datetime import timedelta

from storage import audit, audit_retention, cases, services
from storage.db import Tx
from tests.conftest import World
from tests.webtools import login, person, workspace


def actions_on(page: str) -> list[str]:
    """The action column of the entries table, top to bottom."""
    return re.findall(r"<tr>\s*<td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", page)


async def write(world: World, *entries: tuple[str, str, int | None, int | None, timedelta]) -> None:
    """Audit rows as (actor, action, case_id, service_id, how long ago)."""

    async def unit(tx: Tx) -> None:
        for actor, action, case_id, service_id, ago in entries:
            await audit.log(tx, world.clock.now() - ago, actor, action, case_id, "", service_id)
        await tx.commit()

    await world.app.db.run(unit)


async def test_the_log_shows_only_this_service_newest_first(world: World) -> None:
    async with world.app.db.transaction() as tx:
        other = await services.create(tx, "other", "Other", world.clock.now())
        await tx.commit()
    await write(
        world,
        ("system", "first_here", None, world.service_id, timedelta(hours=2)),
        ("system", "elsewhere", None, other, timedelta(hours=1)),
        ("system", "second_here", None, world.service_id, timedelta(0)),
    )
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get("/audit")).text()
    shown = actions_on(page)
    assert "elsewhere" not in page
    assert shown.index("second_here") < shown.index("first_here")
    assert shown[0] == "login"  # meg's own login is the newest


async def test_filters_by_person_action_case_and_dates(world: World) -> None:
    ref, _ = await world.enrol()
    async with world.app.db.reading() as tx:
        case = await cases.by_ref(tx, ref)
    assert case is not None
    ida = f"practitioner:{world.idva}"
    await write(
        world,
        (ida, "case_viewed", case.id, None, timedelta(days=3)),
        (ida, "note_added", case.id, None, timedelta(days=1)),
        ("system", "alert_raised:urgent:codeword", case.id, None, timedelta(hours=1)),
        (ida, "login", None, world.service_id, timedelta(hours=1)),
    )
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)

        async def shown(query: str) -> list[str]:
            resp = await client.get(f"/audit?{query}")
            assert resp.status == 200
            return actions_on(await resp.text())

        assert await shown(f"actor={ida}") == ["login", "note_added", "case_viewed"]
        assert await shown("action=alert_raised") == ["alert_raised:urgent:codeword"]
        assert await shown(f"case={ref.lower()}&actor={ida}") == ["note_added", "case_viewed"]
        # 2026-11-20 is three days before the pinned clock; "to" includes its whole day.
        assert await shown(f"actor={ida}&from=2026-11-20&to=2026-11-22") == ["note_added", "case_viewed"]
        assert await shown(f"actor={ida}&from=2026-11-21") == ["login", "note_added"]
        assert await shown("case=NOSUCH") == []
        bad = await client.get("/audit?from=20/11/2026")
        assert bad.status == 400 and "Give the date as YYYY-MM-DD." in await bad.text()


async def test_the_log_pages_fifty_at_a_time(world: World) -> None:
    await write(
        world, *[("system", f"step_{n:03d}", None, world.service_id, timedelta(minutes=200 - n)) for n in range(120)]
    )
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        first = await (await client.get("/audit?action=step_119")).text()
        assert actions_on(first) == ["step_119"] and "Older entries" not in first
        pages = [await (await client.get("/audit")).text()]
        while older := re.search(r'href="([^"]+)" rel="next"', pages[-1]):
            pages.append(await (await client.get(html.unescape(older.group(1)))).text())
        assert len(pages) == 3 and [len(actions_on(p)) for p in pages[:2]] == [50, 50]
        assert 'rel="first"' in pages[2]
        # Every step once, newest first, across the pages, though each view adds a row to the log.
        steps = [a for p in pages for a in actions_on(p) if a.startswith("step_")]
        assert steps == [f"step_{n:03d}" for n in reversed(range(120))]


async def test_an_admin_who_is_not_a_manager_cannot_read_the_log(world: World) -> None:
    ada = await person(world, "ada", ("admin",))
    async with workspace(world) as client:
        await login(client, world, ada)
        assert (await client.get("/audit")).status == 403
        assert (await client.get("/manage/practitioners")).status == 200  # configuration is theirs


def chain_state(page: str) -> str:
    return html.unescape(page.split('id="chain-state"')[1].split(">", 1)[1].split("</p>")[0])


async def test_the_top_of_the_page_says_whether_the_chain_holds_and_warns_loudly_when_not(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get("/audit")).text()
        assert re.match(
            r"Chain intact: \d+ entries since the first\. Checked in full at 2026-11-23 09:00,", chain_state(page)
        )
        assert 'role="status"' in page.split('id="chain-state"')[1].split(">")[0]
        with sqlite3.connect(world.settings.db_path) as conn:
            conn.execute("DROP TRIGGER audit_log_no_update")
            conn.execute("UPDATE audit_log SET detail = 'edited' WHERE id = 2")
        # Between full checks a view checks only the entries written since: the edit shows at the next one.
        assert chain_state(await (await client.get("/audit")).text()).startswith("Chain intact")
        world.clock.advance(timedelta(days=1))
        await login(client, world, meg)
        resp = await client.get("/audit")
        page = await resp.text()
    assert resp.status == 200  # the log is still there to read, with the warning on top
    assert 'role="alert"' in page.split('id="chain-state"')[1].split(">")[0]
    assert chain_state(page).startswith("Warning: the audit log's chain is broken at entry 2 (its hash differs).")


async def test_after_retention_the_chain_is_intact_since_its_anchor(world: World) -> None:
    world.clock.advance(timedelta(days=2200))  # past the default six years: the first months go

    async def unit(tx: Tx) -> None:
        await audit_retention.run(tx, world.clock.now(), world.service_id)
        await tx.commit()

    await world.app.db.run(unit)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get("/audit")).text()
    day = world.clock.now().strftime("%Y-%m-%d")
    assert re.match(
        rf"Chain intact: \d+ entries since the retention anchor of {day} \(after entry \d+\)\.", chain_state(page)
    )


async def test_a_forged_entry_written_after_a_view_is_caught_at_the_next_view(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        assert chain_state(await (await client.get("/audit")).text()).startswith("Chain intact")
        with sqlite3.connect(world.settings.db_path) as conn:
            newest = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
            conn.execute(
                "INSERT INTO audit_log (id, at, actor, action, detail, row_hash) VALUES (?, ?, 'system', 'x', '', ?)",
                (newest + 1, "2026-11-23T09:00:00+00:00", b"\0" * 32),
            )
        page = await (await client.get("/audit")).text()
    assert chain_state(page).startswith(f"Warning: the audit log's chain is broken at entry {newest + 1}")
