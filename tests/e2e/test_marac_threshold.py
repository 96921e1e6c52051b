"""`safecheck service set --marac-incidents`: the incidents in 12 months that meet Marac's "potential
escalation" criterion, per service (local thresholds vary)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli, look, refused

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("count", ["0", "21", "three"])
def test_a_threshold_out_of_range_or_not_a_number_is_refused_and_nothing_changes(
    enrolled: tuple[Cli, str], count: str
) -> None:
    cli, _ = enrolled
    refused(cli.run("service", "set", "--marac-incidents", count, ok=False), "--marac-incidents")
    assert look(cli, "SELECT marac_escalation_incidents FROM services") == [(3,)]


def test_the_threshold_is_set_and_shown(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    assert cli.run("service", "set", "--marac-incidents", "5").stdout.strip() == "updated marac_escalation_incidents"
    assert look(cli, "SELECT marac_escalation_incidents FROM services") == [(5,)]
    assert "marac_escalation_incidents: 5" in cli.run("service", "show").stdout.splitlines()
