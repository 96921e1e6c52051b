"""Outcomes at closure: the case page's Close form records them with the close, in one unit; each question
must be answered ("not known" is an answer); the CLI still closes without them; the closed case shows them."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot import commands
from tests.caseload_data import alert, enrol
from tests.conftest import START, World
from tests.integration.test_workspace_cases import OUTCOME, OUTCOME_DETAIL, audit_rows
from tests.webtools import login, person, post_form, workspace


def case_row(world: World, case_id: int) -> tuple[str, Any]:
    with sqlite3.connect(world.settings.db_path) as conn:
        return conn.execute("SELECT status, closed_at FROM cases WHERE id = ?", (case_id,)).fetchone()  # type: ignore[no-any-return]


def outcome_rows(world: World) -> list[dict[str, Any]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM case_outcomes ORDER BY case_id")]


async def test_closing_records_the_outcome_with_the_close_and_the_page_shows_it(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    path = f"/cases/{ref}"
    async with workspace(world) as client:
        await login(client, world, ida)
        page = await (await client.get(path)).text()
        assert 'id="close-form"' in page and 'id="close-jealous_controlling"' in page
        assert 'id="closure-outcome"' not in page  # open: nothing to show yet
        resp = await post_form(client, f"{path}/close", {"reason": "risk_reduced", **OUTCOME}, token_from=path)
        assert (resp.status, resp.headers["Location"]) == (303, f"{path}?done=closed")
        page = await (await client.get(path)).text()
    assert case_row(world, case_id)[0] == "closed"
    [row] = outcome_rows(world)
    assert row == {
        "case_id": case_id,
        "recorded_at": case_row(world, case_id)[1],  # the same instant as the close: one unit
        "recorded_by": world.idva,
        "close_reason": "risk_reduced",
        **OUTCOME,
    }
    [closed] = audit_rows(world, "case_close")
    assert closed["detail"] == f"status=pending->closed reason=risk_reduced {OUTCOME_DETAIL}"
    shown = page[page.index('id="closure-outcome"') :]
    shown = shown[: shown.index("</dl>")]
    for words in ("Risk reduced", "Improved", "Ceased", "Not present", "Reduced", "Not known", "No change", "Ida"):
        assert words in shown, words
    assert 'id="close-form"' not in page  # closed: the form is gone


MISSING = [
    ("reason", "case_close", "Choose why the case is closing."),
    ("safety", "close_safety", "Choose how her safety changed"),
    ("physical", "close_physical", "Choose what happened to physical abuse"),
    ("sexual", "close_sexual", "Choose what happened to sexual abuse"),
    ("harassment_stalking", "close_harassment_stalking", "Choose what happened to harassment and stalking"),
    ("jealous_controlling", "close_jealous_controlling", "Choose what happened to jealous and controlling"),
    ("quality_of_life", "close_quality_of_life", "Choose how her quality of life changed"),
]


@pytest.mark.parametrize(("field", "key", "message"), MISSING, ids=[m[0] for m in MISSING])
@pytest.mark.parametrize("bad", ["", "improved_a_lot"], ids=["missing", "invalid"])
async def test_each_unanswered_question_gives_its_own_line_and_the_case_stays_open(
    world: World, field: str, key: str, message: str, bad: str
) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    path = f"/cases/{ref}"
    form = {"reason": "support_ended", **OUTCOME, field: bad}
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await post_form(client, f"{path}/close", form, token_from=path)
        page = await resp.text()
    assert resp.status == 400 and message in page
    # The line sits next to its field, tied to it for a screen reader; the other answers are kept.
    assert f'<p class="error" id="{key}-error" role="alert">' in page
    assert page.count('class="error"') == 1
    if field != "reason":
        assert f'aria-describedby="{key}-error"' in page[page.index(f'id="close-{field}"') - 10 :][:200]
        assert '<option value="support_ended" selected>' in page
    assert case_row(world, case_id) == ("pending", None)
    assert outcome_rows(world) == [] and audit_rows(world, "case_close") == []


async def test_not_known_everywhere_is_a_full_answer(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref, _ = await enrol(world, "+447700900001", "Amy Able")
    unknown = dict.fromkeys(OUTCOME, "not_known")
    async with workspace(world) as client:
        await login(client, world, ida)
        form = {"reason": "other", **unknown}
        resp = await post_form(client, f"/cases/{ref}/close", form, token_from=f"/cases/{ref}")
        assert resp.status == 303
    [row] = outcome_rows(world)
    assert {k: row[k] for k in OUTCOME} == unknown


async def test_only_the_cases_idva_or_a_manager_closes_it(world: World) -> None:
    bea = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    other_idva = await person(world, "bea", ("idva",), practitioner_id=bea)
    duty = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    await alert(world, case_id, START)  # so the duty worker may open it without a reason
    path = f"/cases/{ref}"
    form = {"reason": "transferred", **OUTCOME}
    for who, status in ((other_idva, 403), (duty, 403)):
        async with workspace(world) as client:
            await login(client, world, who)
            resp = await post_form(client, f"{path}/close", form, token_from="/cases")
            assert resp.status == status, who.login
        assert case_row(world, case_id)[0] == "pending" and outcome_rows(world) == []
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{path}/close", form, token_from=path)
        assert resp.status == 303
        # A closed case does not close again, and its outcome stays as first recorded.
        again = {**form, "safety": "worse"}
        resp = await post_form(client, f"{path}/close", again, token_from=path)
        assert resp.status == 409 and "is closed: nothing to close" in await resp.text()
    [row] = outcome_rows(world)
    assert (row["recorded_by"], row["close_reason"], row["safety"]) == (world.manager, "transferred", "improved")


async def test_the_cli_still_closes_a_case_and_records_no_outcome(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    assert await commands.set_status(world.app, world.service_id, ref, "close") == f"{ref} closed"
    assert case_row(world, case_id)[0] == "closed" and outcome_rows(world) == []
    [closed] = audit_rows(world, "case_close")
    assert closed["detail"] == "status=pending->closed"
    async with workspace(world) as client:
        await login(client, world, ida)
        page = await (await client.get(f"/cases/{ref}")).text()
    assert "No outcome was recorded when this case closed." in page
