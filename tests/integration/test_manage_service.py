"""Service settings over real HTTP: the CLI's checks, one-line errors, audited changes that take effect."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot import commands
from storage import services
from tests.conftest import World
from tests.integration.conftest import alerts, inbox, later, rows
from tests.integration.test_escalation import raise_codeword
from tests.webtools import Person, csrf_of, login, person, post_form, workspace

PAGE = "/manage/service"
SETTINGS = {
    "sender_name": "Alex",
    "timezone": "Europe/London",
    "retention_days": "90",
    "sent_content_days": "7",
    "digest_hour": "off",
    "marac_escalation_incidents": "3",
    "audit_retention_days": "2190",
    "closed_case_days": "365",
    "delivery_record_days": "400",
}


def ladder_form(**ladders: list[tuple[str, str]]) -> dict[str, str]:
    """The ladder form with each severity's (after minutes, role) rows; unnamed severities as the default."""
    default = {
        "urgent": [("0", "idva"), ("5", "duty"), ("10", "manager")],
        "high": [("0", "idva"), ("60", "duty")],
        "raised": [("0", "idva")],
    }
    form = {}
    for severity, steps in {**default, **ladders}.items():
        for i, (after, role) in enumerate(steps):
            form[f"{severity}-{i}-after"] = after
            form[f"{severity}-{i}-role"] = role
    return form


async def as_manager(world: World) -> Person:
    return await person(world, "meg", ("manager",), practitioner_id=world.manager)


async def test_a_managers_ladder_change_takes_effect_for_the_next_alert(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        # Urgent alerts: the IDVA at once, the managers after 2 minutes; no duty step.
        form = ladder_form(urgent=[("0", "idva"), ("2", "manager")])
        resp = await post_form(client, f"{PAGE}/ladder", form, token_from=PAGE)
        assert (resp.status, resp.headers["Location"]) == (303, f"{PAGE}?done=ladder")
    await raise_codeword(world)  # through the real pipeline
    await later(world, timedelta(minutes=1, seconds=59))  # TimerRunner on the pinned clock
    assert await inbox(world, world.manager) == []
    await later(world, timedelta(seconds=1))
    assert len(await inbox(world, world.manager)) == 1
    await later(world, timedelta(minutes=10))
    assert await inbox(world, world.duty) == []  # the old ladder's duty step is gone
    [alert] = await alerts(world)
    assert [n["role"] for n in alert["notified"]] == ["idva", "manager"]
    [row] = await rows(world.app, "SELECT actor, detail FROM audit_log WHERE action = 'alert_policy_set'")
    detail = json.loads(row["detail"])
    assert row["actor"] == f"practitioner:{world.manager}"
    assert detail["before"]["alert_policy"]["urgent"][1] == {"after_minutes": 5, "role": "duty"}
    assert detail["after"]["alert_policy"]["urgent"] == [
        {"after_minutes": 0, "role": "idva"},
        {"after_minutes": 2, "role": "manager"},
    ]


@pytest.mark.parametrize(
    ("ladder", "message"),
    [
        ([("3", "idva")], "The urgent ladder starts after 3 minutes; its first step must have after_minutes 0."),
        (
            [("0", "idva"), ("5", "duty"), ("5", "manager")],
            "The urgent ladder&#39;s step 3 (5 minutes) is not later than step 2 (5 minutes)",
        ),
        ([("0", "idva"), ("soon", "duty")], "Step 2: give the minutes as a number."),
        ([], "The urgent ladder is empty; give it at least one step with after_minutes 0."),
    ],
)
async def test_a_bad_ladder_is_one_line_next_to_it_and_nothing_changes(
    world: World, ladder: list[tuple[str, str]], message: str
) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/ladder", ladder_form(urgent=ladder), token_from=PAGE)
        page = await resp.text()
        assert resp.status == 400
        assert f'<p class="error" id="urgent-error" role="alert">{message}' in page
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).alert_policy == services.DEFAULT_ALERT_POLICY
    assert await rows(world.app, "SELECT id FROM audit_log WHERE action = 'alert_policy_set'") == []


async def test_settings_are_saved_and_audited_with_only_what_changed(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        form = {**SETTINGS, "sender_name": "Sam", "retention_days": "120", "cover_line": "on"}
        resp = await post_form(client, f"{PAGE}/settings", form, token_from=PAGE)
        assert resp.status == 303
    async with world.app.db.reading() as tx:
        s = await services.get(tx, world.service_id)
    assert (s.sender_name, s.retention_days, s.cover_line) == ("Sam", 120, True)
    [row] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'service_configured'")
    assert json.loads(row["detail"]) == {
        "before": {"cover_line": False, "retention_days": 90, "sender_name": "Alex"},
        "after": {"cover_line": True, "retention_days": 120, "sender_name": "Sam"},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sender_name", "Police", "The sender name &#39;Police&#39; would reveal the service"),
        ("sender_name", "", "The sender name must be 1-20 characters"),
        ("timezone", "Mars/Olympus", "Unknown time zone &#39;Mars/Olympus&#39;: use an IANA name like Europe/London."),
        ("retention_days", "3", "Retention must be between 7 and 3650."),
        ("retention_days", "a year", "Retention must be a whole number of days."),
        ("sent_content_days", "1", "Sent message text must be between 2 and 365"),
        ("digest_hour", "25", "The digest hour must be an hour 0-23, or off."),
        ("marac_escalation_incidents", "0", "The Marac incident threshold must be between 1 and 20."),
        ("marac_escalation_incidents", "three", "The Marac incident threshold must be a whole number."),
        ("audit_retention_days", "364", "Audit retention must be between 365 and 7300 (days audit entries are kept)."),
        ("audit_retention_days", "six years", "Audit retention must be a whole number of days."),
    ],
)
async def test_a_bad_setting_is_one_line_next_to_its_field_and_nothing_is_saved(
    world: World, field: str, value: str, message: str
) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        form = {**SETTINGS, "retention_days": "120", field: value}
        resp = await post_form(client, f"{PAGE}/settings", form, token_from=PAGE)
        page = await resp.text()
        assert resp.status == 400
        assert f'id="{field}-error" role="alert">{message}' in page
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).retention_days == 90  # the good field is not saved either


async def test_the_marac_incident_threshold_is_the_services_own(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get(PAGE)).text()
        assert 'name="marac_escalation_incidents" type="number" min="1" max="20" value="3"' in page
        form = {**SETTINGS, "marac_escalation_incidents": "4"}
        assert (await post_form(client, f"{PAGE}/settings", form, token_from=PAGE)).status == 303
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).marac_escalation_incidents == 4
    [row] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'service_configured'")
    assert json.loads(row["detail"]) == {
        "before": {"marac_escalation_incidents": 3}, "after": {"marac_escalation_incidents": 4}
    }


async def test_audit_retention_is_the_services_own_and_audited(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get(PAGE)).text()
        assert 'name="audit_retention_days" type="number" min="365" max="7300" value="2190"' in page
        form = {**SETTINGS, "audit_retention_days": "3650"}
        assert (await post_form(client, f"{PAGE}/settings", form, token_from=PAGE)).status == 303
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).audit_retention_days == 3650
    [row] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'service_configured'")
    change = {"before": {"audit_retention_days": 2190}, "after": {"audit_retention_days": 3650}}
    assert json.loads(row["detail"]) == change


async def test_missed_check_in_rules_use_the_policy_checks(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        bad = {"reminder_after_minutes": "120", "grace_minutes": "60", "alert_each_missed": "on"}
        resp = await post_form(client, f"{PAGE}/missed", bad, token_from=PAGE)
        assert resp.status == 400
        assert "Grace_minutes (60) must be more than reminder_after_minutes (120)." in await resp.text()
        good = {"reminder_after_minutes": "30", "grace_minutes": "120"}
        assert (await post_form(client, f"{PAGE}/missed", good, token_from=PAGE)).status == 303
    async with world.app.db.reading() as tx:
        policy = (await services.get(tx, world.service_id)).missed_policy
    assert (policy.reminder_after, policy.grace, policy.alert_each_missed) == (
        timedelta(minutes=30),
        timedelta(minutes=120),
        False,
    )


async def test_languages_are_checked_like_the_cli_and_audited(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/languages", {"language": "cy", "default": "en_GB"}, token_from=PAGE)
        assert resp.status == 400
        assert "The default language must be one of those offered." in await resp.text()
        token = await csrf_of(client, PAGE)
        resp = await client.post(
            f"{PAGE}/languages",
            data=[("_csrf", token), ("language", "en_GB"), ("language", "cy"), ("default", "cy")],
            allow_redirects=False,
        )
        assert resp.status == 303, await resp.text()
    async with world.app.db.reading() as tx:
        s = await services.get(tx, world.service_id)
    assert (s.languages, s.default_language) == (("cy", "en_GB"), "cy")
    [row] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'service_languages'")
    assert json.loads(row["detail"]) == {
        "kept_by_open_cases": {},
        "before": {"languages": ["en_GB"], "default": "en_GB"},
        "after": {"languages": ["cy", "en_GB"], "default": "cy"},
    }


async def test_an_admin_configures_the_service_without_being_a_manager(world: World) -> None:
    ada = await person(world, "ada", ("admin",))
    async with workspace(world) as client:
        await login(client, world, ada)
        page = await (await client.get(PAGE)).text()
        assert "Alert escalation ladders" in page
        resp = await post_form(client, f"{PAGE}/settings", {**SETTINGS, "sender_name": "Sam"}, token_from=PAGE)
        assert resp.status == 303


async def test_a_default_schedule_set_on_the_page_plans_new_cases_that_fit_it(world: World) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        form = {"default_schedule": "tue,fri@11:00", "default_jitter": "0"}
        resp = await post_form(client, f"{PAGE}/schedule", form, token_from=PAGE)
        assert (resp.status, resp.headers["Location"]) == (303, f"{PAGE}?done=schedule")
    fits = await world.onboard(windows="1")  # mornings, 09:00-12:00: Tuesday 11:00 fits
    shown = await commands.show_schedule(world.app, world.service_id, fits)
    assert shown["next_checkin"] == "2026-11-24T11:00:00+00:00"
    # Evenings only: 11:00 is outside her safe times, so she keeps the built-in default (Mon/Thu in her window).
    evening = await world.onboard("+447700900456", windows="3")
    shown = await commands.show_schedule(world.app, world.service_id, evening)
    assert shown["next_checkin"] != "2026-11-24T11:00:00+00:00" and shown["next_checkin"] is not None
    [row] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'default_schedule_set'")
    assert json.loads(row["detail"]) == {
        "before": {"default_schedule": None},
        "after": {"default_schedule": "tue,fri@11:00"},
    }


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"default_schedule": "sometimes"}, "default_schedule", "Bad schedule &#39;sometimes&#39;"),
        ({"default_schedule": "daily@10:00", "default_jitter": "500"}, "default_jitter", "Jitter must be between 0"),
    ],
)
async def test_a_bad_default_schedule_is_one_line_and_not_saved(
    world: World, form: dict[str, str], field: str, message: str
) -> None:
    meg = await as_manager(world)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{PAGE}/schedule", form, token_from=PAGE)
        assert resp.status == 400
        assert f'id="{field}-error" role="alert">{message}' in await resp.text()
    async with world.app.db.reading() as tx:
        assert (await services.get(tx, world.service_id)).default_schedule is None
