"""`safecheck case enrol --mode/--theme`, `case set-mode` and `service set --help-line`: her mode recorded as
chosen, and bad input one line on stderr (exit 2) with nothing changed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli, look, refused

pytestmark = pytest.mark.e2e

ENROL = ("case", "enrol", "--idva", "1", "--address", "+447700900124", "--intake", "high")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (("--mode", "cover"), ("cover mode needs a theme", "--theme")),
        (("--mode", "cover", "--theme", "opera"), ("unknown cover theme 'opera'", "salon")),
        (("--mode", "sideways"), ("direct or cover",)),
        (("--mode", "direct", "--theme", "salon"), ("--theme is only for --mode cover",)),
        (("--mode", "cover", "--theme", "salon", "--language", "pl"), ("not available in pl", "--mode direct")),
    ],
)
def test_a_bad_mode_at_enrolment_is_one_line_and_enrols_nothing(
    enrolled: tuple[Cli, str], extra: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    cli, _ = enrolled
    if "pl" in extra:
        cli.run("service", "languages", "--enable", "pl")
    refused(cli.run(*ENROL, *extra, ok=False), *fragments)
    assert look(cli, "SELECT count(*) FROM cases") == [(1,)]


def test_enrol_in_cover_then_set_mode_back_to_direct(enrolled: tuple[Cli, str]) -> None:
    cli, ref = enrolled
    out = cli.run(*ENROL, "--mode", "cover", "--theme", "salon").stdout
    assert look(cli, "SELECT checkin_mode, cover_theme FROM cases ORDER BY id") == [
        ("direct", None),  # the service's default when --mode is left out
        ("cover", "salon"),
    ]
    assert "case C-" in out
    assert cli.run("case", "set-mode", ref, "cover", "--theme", "catch_up").stdout.strip() == (
        f"case {ref}: cover (theme catch_up)"
    )
    refused(cli.run("case", "set-mode", ref, "cover", ok=False), "cover mode needs a theme")
    refused(cli.run("case", "set-mode", "C-NOPE", "direct", ok=False), "C-NOPE")
    assert cli.run("case", "set-mode", ref, "direct").stdout.strip() == f"case {ref}: direct"
    assert look(cli, "SELECT checkin_mode, cover_theme FROM cases ORDER BY id") == [
        ("direct", None),
        ("cover", "salon"),
    ]
    changes = look(cli, "SELECT actor, detail FROM audit_log WHERE action = 'checkin_mode_changed' ORDER BY id")
    assert [detail for _, detail in changes] == [
        '{"after": {"mode": "cover", "theme": "catch_up"}, "before": {"mode": "direct", "theme": null}}',
        '{"after": {"mode": "direct", "theme": null}, "before": {"mode": "cover", "theme": "catch_up"}}',
    ]
    assert all(actor.startswith("os:") for actor, _ in changes)


def test_a_help_line_that_names_the_police_is_refused_and_a_discreet_one_is_set(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    refused(cli.run("service", "set", "--help-line", "Call the police on 101", ok=False), "'police'", "HELP line")
    assert look(cli, "SELECT help_line FROM services") == [(None,)]
    refused(cli.run("service", "set", "--help-line", "Hi", "--timezone", "UTC", ok=False), "on its own")
    assert cli.run("service", "set", "--help-line", "Ring Sam on 0800 000 1234").stdout.strip() == "HELP line set"
    assert look(cli, "SELECT help_line FROM services") == [("Ring Sam on 0800 000 1234",)]
