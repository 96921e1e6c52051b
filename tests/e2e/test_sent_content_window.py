"""`safecheck service set --sent-content-days`: how long sent messages keep their text, per service."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli, add_service, look, refused

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("days", ["1", "366", "-3", "week"])
def test_a_window_out_of_range_or_not_a_number_is_refused_and_nothing_changes(
    enrolled: tuple[Cli, str], days: str
) -> None:
    cli, _ = enrolled
    refused(cli.run("service", "set", "--sent-content-days", days, ok=False), "--sent-content-days")
    assert look(cli, "SELECT sent_content_days FROM services") == [(7,)]


def test_the_window_is_set_for_the_chosen_service_only_and_shown(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    add_service(cli, "north")
    assert cli.run("--service", "north", "service", "set", "--sent-content-days", "2").stdout.strip() == (
        "updated sent_content_days"
    )
    assert look(cli, "SELECT slug, sent_content_days FROM services ORDER BY id") == [("default", 7), ("north", 2)]
    assert "sent_content_days: 2" in cli.run("--service", "north", "service", "show").stdout.splitlines()
