"""Service settings and case schedules: bounded, checked before saving, and kept per service and per case."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot import commands, daily
from safety.policy import DEFAULT_ALERT_POLICY, PolicyError, alert_policy_to_json
from storage import services
from tests.conftest import World
from tests.integration.conftest import (
    CALM_ANSWERS,
    PHONE,
    PROMPT,
    alerts,
    answer_all,
    at,
    case_row,
    inbox,
    rows,
    scalar,
)

COVER_LINE = "No problem, talk soon."
OTHER_PHONE = "+447700900456"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def one_line(exc: pytest.ExceptionInfo[Exception]) -> str:
    text = str(exc.value)
    assert text and "\n" not in text
    return text


# ---- the cover line ----


async def test_quick_exit_with_the_cover_line_on_sends_exactly_the_cover_line(world: World) -> None:
    ref = await world.onboard()
    assert await commands.configure_service(world.app, world.service_id, cover_line="on") == "updated cover_line"
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    await world.say(PHONE, "1")  # its reply, the next question, is queued but not sent

    await world.say(PHONE, "pasta")

    assert await world.deliver() == [COVER_LINE]
    survivor = await rows(world.app, "SELECT status, message FROM outbox WHERE recipient = 'survivor' "
                                     "AND created_at >= '2026-11-23T10' ORDER BY id")
    assert [s["status"] for s in survivor] == ["sent", "cancelled", "sent"]
    assert json.loads(survivor[-1]["message"])["key"] == COVER_LINE
    assert await world.deliver() == []


# ---- the sender name ----


@pytest.mark.parametrize("name", ["Refuge", "Safety Team", "  refuge  "])
async def test_sender_name_that_reveals_the_service_is_refused_in_one_line(world: World, name: str) -> None:
    with pytest.raises(commands.UserError) as refused:
        await commands.configure_service(world.app, world.service_id, sender_name=name)
    assert "sender name" in one_line(refused)
    assert (await commands.show_service(world.app, world.service_id))["sender_name"] == "Alex"


async def test_neutral_sender_name_is_accepted_and_opens_the_next_check_in(world: World) -> None:
    ref = await world.onboard()
    assert await commands.configure_service(world.app, world.service_id, sender_name=" Sam ") == "updated sender_name"
    assert (await commands.show_service(world.app, world.service_id))["sender_name"] == "Sam"
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    [prompt] = await at(world, utc(2026, 11, 23, 10, 0))
    assert prompt == PROMPT.replace("Alex", "Sam")


# ---- pausing, resuming and policy bounds ----


@pytest.mark.parametrize("days", [0, -1, 91, 99_999_999, None])
async def test_practitioner_pause_outside_one_to_ninety_days_is_refused(world: World, days: int | None) -> None:
    ref = await world.onboard()
    with pytest.raises(commands.UserError) as refused:
        await commands.set_status(world.app, world.service_id, ref, "pause", days=days)
    assert "between 1 and 90" in one_line(refused)
    case = await case_row(world, ref)
    assert (case["status"], case["paused_until"]) == ("active", None)


@pytest.mark.parametrize(("days", "until"), [(1, "2026-11-24T09:00:00+00:00"), (90, "2027-02-21T09:00:00+00:00")])
async def test_practitioner_pause_at_the_bounds_is_accepted(world: World, days: int, until: str) -> None:
    ref = await world.onboard()
    out = await commands.set_status(world.app, world.service_id, ref, "pause", days=days)
    assert out == f"{ref} paused until {until}"


async def test_resuming_a_case_that_is_not_paused_is_refused(world: World) -> None:
    ref = await world.onboard()
    before = await commands.show_schedule(world.app, world.service_id, ref)
    with pytest.raises(commands.UserError) as refused:
        await commands.set_status(world.app, world.service_id, ref, "resume")
    assert "not paused" in one_line(refused)
    assert await commands.show_schedule(world.app, world.service_id, ref) == before


async def test_pausing_a_case_that_has_not_finished_onboarding_is_refused_and_activation_still_works(
    world: World,
) -> None:
    # Paused before the survivor ever texted the code, the case could never be activated, and a
    # later resume would make it "active" with no consent, no exit word and no codeword.
    ref, code = await world.enrol()
    with pytest.raises(commands.UserError) as refused:
        await commands.set_status(world.app, world.service_id, ref, "pause", days=7)
    one_line(refused)
    assert (await case_row(world, ref))["status"] == "pending"
    await world.say(PHONE, code)
    assert (await case_row(world, ref))["status"] == "onboarding"


async def test_resuming_a_paused_case_plans_its_next_check_in(world: World) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    await commands.set_status(world.app, world.service_id, ref, "pause", days=7)
    assert (await commands.show_schedule(world.app, world.service_id, ref))["next_checkin"] is None
    out = await commands.set_status(world.app, world.service_id, ref, "resume")
    assert out == f"{ref} resumed; next check-in 2026-11-23T10:00:00+00:00"


@pytest.mark.parametrize("minutes", [1e300, 7 * 24 * 60 + 1, float("1e15")])
async def test_alert_policy_with_an_absurd_delay_is_refused_in_one_line(
    world: World, tmp_path: Path, minutes: float
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"urgent": [{"after_minutes": 0, "role": "idva"},
                                             {"after_minutes": minutes, "role": "duty"}]}))
    with pytest.raises(PolicyError) as refused:
        await commands.configure_service(world.app, world.service_id, alert_policy=str(policy))
    assert "more than a week" in one_line(refused)
    shown = await commands.show_service(world.app, world.service_id)
    assert shown["alert_policy"] == alert_policy_to_json(DEFAULT_ALERT_POLICY)


# ---- a schedule that cannot fit ----


async def test_schedule_set_before_onboarding_that_fits_no_chosen_window_alerts_the_idva(world: World) -> None:
    ref, code = await world.enrol()
    out = await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert out.endswith("next check-in after onboarding")
    for line in [code, "YES", "3", "1"]:  # evenings only; missed check-ins may be flagged
        await world.say(PHONE, line)
    await world.deliver()

    assert (await case_row(world, ref))["status"] == "active"
    assert (await commands.show_schedule(world.app, world.service_id, ref))["next_checkin"] is None
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("raised", "schedule_unfit")
    [text] = await inbox(world, world.idva)
    assert text.startswith(f"[RAISED] Case {ref}: no check-in time fits the survivor's safe times")


async def test_onboarding_with_the_default_schedule_raises_no_schedule_alert(world: World) -> None:
    ref = await world.onboard(windows="3")
    assert (await commands.show_schedule(world.app, world.service_id, ref))["next_checkin"] == (
        "2026-11-23T17:30:00+00:00"  # Mondays and Thursdays, half an hour into the evening window
    )
    assert await alerts(world) == []


# ---- every N days counts from the day it was set ----


def epoch_phase_next(day: date, every: int) -> date:
    """Where a count from 1 January 1970 would put the first check-in on or after `day`."""
    while (day - date(1970, 1, 1)).days % every:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(
    ("set_at", "first", "second"),
    [
        (utc(2026, 11, 23, 9, 0), "2026-11-23T10:00:00+00:00", "2026-11-26T10:00:00+00:00"),
        (utc(2026, 11, 25, 8, 0), "2026-11-25T10:00:00+00:00", "2026-11-28T10:00:00+00:00"),
        (utc(2026, 7, 7, 7, 0), "2026-07-07T09:00:00+00:00", "2026-07-10T09:00:00+00:00"),  # 10:00 BST
    ],
)
async def test_every_three_days_counts_from_the_day_it_was_set(
    world: World, set_at: datetime, first: str, second: str
) -> None:
    world.clock.set(set_at)
    ref = await world.onboard()
    assert epoch_phase_next(set_at.date(), 3) != set_at.date()  # a 1970-based count would pick another day

    out = await commands.set_schedule(world.app, world.service_id, ref, "every 3 days@10:00")

    assert out.endswith(f"next check-in {first}")
    assert (await commands.show_schedule(world.app, world.service_id, ref))["next_checkin"] == first
    assert await at(world, datetime.fromisoformat(first)) == [PROMPT]
    assert (await commands.show_schedule(world.app, world.service_id, ref))["next_checkin"] == second


# ---- retention, per service ----


async def second_service(world: World, retention_days: int) -> World:
    """Another service on the same database, with its own IDVA, duty IDVA and manager."""
    async with world.app.db.transaction() as tx:
        svc = await services.create(tx, "other", "Another service", world.clock.now())
        await tx.commit()
    ids = [await commands.add_practitioner(world.app, svc, name, role, ["inbox"])
           for name, role in (("Olga", "idva"), ("Dora", "duty"), ("Mona", "manager"))]
    await commands.configure_service(world.app, svc, retention_days=retention_days)
    # Its own provider ids, so the two services' messages never look like redeliveries of each other.
    return dataclasses.replace(world, service_id=svc, idva=ids[0], duty=ids[1], manager=ids[2], _n=10_000)


async def free_text_checkin(world: World, address: str, words: str) -> None:
    ref = await world.onboard(address)
    await commands.checkin_now(world.app, world.service_id, ref)
    assert await world.deliver() == [PROMPT]
    await answer_all(world, [*CALM_ANSWERS[:-1], words], address)  # words instead of SKIP


async def kept_words(world: World, service_id: int) -> tuple[int, int]:
    """(answers with free text, inbound messages with a body) of one service's cases."""
    in_service = "case_id IN (SELECT id FROM cases WHERE service_id = ?)"
    texts = await scalar(world.app, f"SELECT count(*) FROM answers WHERE text_enc IS NOT NULL AND {in_service}",
                         (service_id,))
    bodies = await scalar(world.app,
                          f"SELECT count(*) FROM inbound_messages WHERE body_enc IS NOT NULL AND {in_service}",
                          (service_id,))
    return texts, bodies


async def test_retention_purge_of_one_service_leaves_another_services_free_text(world: World) -> None:
    await commands.configure_service(world.app, world.service_id, retention_days=7)
    other = await second_service(world, retention_days=30)
    await free_text_checkin(world, PHONE, "Zebedee came by")
    await free_text_checkin(other, OTHER_PHONE, "Yolanda came by")
    assert (await kept_words(world, world.service_id))[0] == 1
    other_before = await kept_words(world, other.service_id)
    assert other_before[0] == 1 and other_before[1] > 0

    world.clock.set(world.clock.now() + timedelta(days=10))  # older than 7 days, younger than 30
    async with world.app.db.transaction() as tx:
        await daily.run(tx, await services.get(tx, world.service_id), world.clock.now())
        await tx.commit()

    assert await kept_words(world, world.service_id) == (0, 0)
    assert await kept_words(world, other.service_id) == other_before
    [purge] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'retention_purge'")
    assert str(purge["detail"]).startswith(f"service={world.service_id} values=")
