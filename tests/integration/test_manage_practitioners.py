"""The manager's practitioners page over real HTTP: invite, set roles, deactivate, and who may."""

from __future__ import annotations

import json
import re

import pytest

from storage import accounts, practitioners, services
from tests.conftest import World
from tests.integration.conftest import rows
from tests.webtools import csrf_of, login, person, post_form, workspace

PAGE = "/manage/practitioners"


async def audit_details(world: World, action: str) -> list[dict[str, object]]:
    found = await rows(world.app, "SELECT detail FROM audit_log WHERE action = ? ORDER BY id", (action,))
    return [json.loads(r["detail"]) for r in found]


async def test_a_manager_invites_someone_and_sees_the_link_once(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/invite", {"name": "Nia Jones", "role": "duty"}, token_from=PAGE)
        page = await resp.text()
        assert resp.status == 200, page
        link = re.search(r'id="invitation-link">(http://127\.0\.0\.1/invite/[\w-]+)<', page)
        assert link
        again = await (await client.get(PAGE)).text()
        assert link.group(1) not in again  # shown once
        token = link.group(1).rsplit("/", 1)[1]
        assert "Nia Jones" in await (await client.get(f"/invite/{token}")).text()
    assert await audit_details(world, "invitation_created") == [{"before": {}, "after": {"roles": ["duty"]}}]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "role": "idva"}, "Give the person&#39;s name."),
        ({"name": "Nia"}, "Choose at least one role."),
        ({"name": "Nia", "role": "admin"}, "Only an admin can give or take away the admin role."),
        ({"name": "Nia", "role": "owner"}, "Choose roles from the list."),
    ],
)
async def test_invitation_errors_are_one_line_and_create_nothing(
    world: World, form: dict[str, str], message: str
) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/invite", form, token_from=PAGE)
        assert resp.status == 400
        assert message in await resp.text()
    async with world.app.db.reading() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM invitations") == 0


async def test_setting_roles_is_audited_with_before_and_after(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        token = await csrf_of(client, PAGE)
        resp = await client.post(
            f"{PAGE}/{world.duty}/roles",
            data=[("_csrf", token), ("role", "duty"), ("role", "idva")],
            allow_redirects=False,
        )
        assert (resp.status, resp.headers["Location"]) == (303, f"{PAGE}?done=roles")
    async with world.app.db.reading() as tx:
        assert await accounts.roles_of(tx, world.duty) == {"duty", "idva"}
    assert await audit_details(world, "practitioner_roles_set") == [
        {"practitioner": world.duty, "before": {"roles": ["duty"]}, "after": {"roles": ["duty", "idva"]}}
    ]


async def test_the_last_manager_cannot_be_removed_or_deactivated(world: World) -> None:
    meg = await person(world, "meg", ("manager", "admin"), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/{world.manager}/roles", {"role": "admin"}, token_from=PAGE)
        assert resp.status == 400
        assert "This is the service&#39;s last manager: give someone else that role first." in await resp.text()
    async with world.app.db.reading() as tx:
        assert await accounts.roles_of(tx, world.manager) == {"manager", "admin"}


async def test_an_idva_with_open_cases_keeps_the_role_until_they_are_reassigned(world: World) -> None:
    await world.enrol()
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/{world.idva}/deactivate", {}, token_from=PAGE)
        assert resp.status == 400
        assert "They are the assigned IDVA of 1 open case(s): reassign those cases first." in await resp.text()
    async with world.app.db.reading() as tx:
        assert await tx.scalar("SELECT active FROM practitioners WHERE id = ?", (world.idva,)) == 1


async def test_deactivating_someone_ends_their_sessions_at_once(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as dans_client, workspace(world) as megs_client:
        await login(dans_client, world, dan)
        assert (await (await dans_client.get("/session", allow_redirects=False)).json())["signed_in"]
        await login(megs_client, world, meg)
        resp = await post_form(megs_client, f"{PAGE}/{world.duty}/deactivate", {}, token_from=PAGE)
        assert (resp.status, resp.headers["Location"]) == (303, f"{PAGE}?done=deactivated")
        after = await dans_client.get("/session", allow_redirects=False)
        assert (after.status, after.headers["Location"]) == (303, "/login")
        # And the password no longer opens a session.
        resp = await post_form(dans_client, "/login", {"login": dan.login, "password": dan.password})
        assert resp.status == 401
    async with world.app.db.reading() as tx:
        assert await accounts.live_sessions(tx, world.duty) == []
    [detail] = await audit_details(world, "practitioner_deactivated")
    assert detail == {
        "practitioner": world.duty,
        "sessions_ended": 1,
        "before": {"active": True},
        "after": {"active": False},
    }


async def test_a_practitioner_of_another_service_is_not_found(world: World) -> None:
    async with world.app.db.transaction() as tx:
        other = await services.create(tx, "other", "Other", world.clock.now())
        outsider = await practitioners.add(tx, world.app.crypto, other, "idva", "Olga", [], world.clock.now())
        await tx.commit()
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        assert "Olga" not in await (await client.get(PAGE)).text()
        resp = await post_form(client, f"{PAGE}/{outsider}/deactivate", {}, token_from=PAGE)
        assert resp.status == 404
    async with world.app.db.reading() as tx:
        assert await tx.scalar("SELECT active FROM practitioners WHERE id = ?", (outsider,)) == 1


@pytest.mark.parametrize("path", ["/manage", PAGE, "/manage/rota", "/manage/service", "/manage/questions", "/audit"])
async def test_idva_and_duty_staff_get_403_on_every_manager_page(world: World, path: str) -> None:
    dan = await person(world, "dan", ("idva", "duty"), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, dan)
        assert (await client.get(path, allow_redirects=False)).status == 403


async def test_a_non_manager_cannot_post_a_change_either(world: World) -> None:
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, dan)
        # A valid CSRF token of their own session (the second-factor page has a form): only the role stops them.
        resp = await post_form(client, f"{PAGE}/{world.duty}/roles", {"role": "manager"}, token_from="/login/second")
        assert resp.status == 403
    async with world.app.db.reading() as tx:
        assert await accounts.roles_of(tx, world.duty) == {"duty"}


async def test_an_admin_without_the_manager_role_sees_no_case_content_on_any_manager_page(world: World) -> None:
    ref = await world.onboard(name="Jo Survivor")
    ada = await person(world, "ada", ("admin",))
    async with workspace(world) as client:
        await login(client, world, ada)
        for path in ("/manage", PAGE, "/manage/rota", "/manage/service", "/manage/questions"):
            resp = await client.get(path)
            page = await resp.text()
            assert resp.status == 200, path
            assert ref not in page and "Jo Survivor" not in page and "+447700900123" not in page, path
        assert (await client.get("/audit")).status == 403  # it names cases and who opened them
        # The preview is a practice survivor on a throw-away database, not hers.
        resp = await post_form(client, "/manage/questions/preview", {"text": ""}, token_from="/manage/questions")
        assert ref not in await resp.text()


async def test_an_admin_resets_a_locked_out_persons_sign_in_with_a_one_time_link(world: World) -> None:
    meg = await person(world, "meg", ("manager", "admin"), practitioner_id=world.manager)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/{dan.practitioner_id}/reset", {}, token_from=PAGE)
        page = await resp.text()
        link = re.search(r'id="invitation-link">http://127\.0\.0\.1/invite/([\w-]+)<', page)
        assert resp.status == 200 and link, page
        assert link.group(1) not in await (await client.get(PAGE)).text()  # shown once
        reset_page = await (await client.get(f"/invite/{link.group(1)}")).text()
        assert "Set a new password and second factor" in reset_page
        # Someone without an account cannot be reset, only invited.
        resp = await post_form(client, f"{PAGE}/{world.idva}/reset", {}, token_from=PAGE)
        assert resp.status == 400 and "They have no workspace account: invite them." in await resp.text()
    found = await rows(world.app, "SELECT actor, detail FROM audit_log WHERE action = 'account_reset_link'")
    assert [(r["actor"], r["detail"]) for r in found] == [
        (f"practitioner:{world.manager}", f"practitioner={world.duty}")
    ]


async def test_an_admin_cannot_give_anyone_a_role_that_reads_cases_nor_take_over_such_an_account(
    world: World,
) -> None:
    """Admin is configuration without case content. Giving herself duty (the rota is hers to edit too),
    inviting an IDVA, or resetting an IDVA's sign-in to become her would each reach case content."""
    ada = await person(world, "ada", ("admin",))
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, ada)
        for role in ("duty", "idva", "manager"):
            form = {"role": ["admin", role]}
            resp = await post_form(client, f"{PAGE}/{ada.practitioner_id}/roles", form, token_from=PAGE)
            assert resp.status == 400 and f"Only a manager can give or take away the {role} role." in await resp.text()
            resp = await post_form(client, f"{PAGE}/invite", {"name": "Fake Duty", "role": role}, token_from=PAGE)
            assert resp.status == 400
        resp = await post_form(client, f"{PAGE}/{dan.practitioner_id}/reset", {}, token_from=PAGE)
        assert resp.status == 400 and "Only a manager can give or take away the duty role." in await resp.text()
        resp = await post_form(client, f"{PAGE}/{dan.practitioner_id}/deactivate", {}, token_from=PAGE)
        assert resp.status == 400
    async with world.app.db.reading() as tx:
        assert await accounts.roles_of(tx, ada.practitioner_id) == {"admin"}
        assert await tx.scalar("SELECT COUNT(*) FROM invitations WHERE reset_of IS NULL") == 0
        assert await tx.scalar("SELECT COUNT(*) FROM invitations WHERE reset_of IS NOT NULL") == 0
        assert await tx.scalar("SELECT active FROM practitioners WHERE id = ?", (world.duty,)) == 1
