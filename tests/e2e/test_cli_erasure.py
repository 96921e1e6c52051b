"""`safecheck case erase REF --reason CODE` and the retention settings on the command line: the erasure and
its purge record, audited as the operator with the reason code; bad input is one line and changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli, look, refused

pytestmark = pytest.mark.e2e


def test_case_erase_erases_her_data_closes_the_case_and_records_the_purge(enrolled: tuple[Cli, str]) -> None:
    cli, ref = enrolled
    out = cli.run("case", "erase", ref.lower(), "--reason", "her_request").stdout
    assert out.startswith(f"{ref} erased (purge 1): ") and "cases_erased=1" in out and "cases_closed=1" in out
    assert look(cli, f"SELECT status, address_enc, address_hash, erase_reason FROM cases WHERE ref = '{ref}'") == [
        ("closed", None, None, "her_request")
    ]
    assert look(cli, "SELECT kind, reason, case_refs FROM purges") == [("request", "her_request", f'["{ref}"]')]
    [(actor, detail)] = look(cli, "SELECT actor, detail FROM audit_log WHERE action = 'case_erased'")
    assert actor.startswith("os:") and detail == "reason=her_request purge=1"


def test_case_erase_refuses_an_unknown_reason_or_case_in_one_line(enrolled: tuple[Cli, str]) -> None:
    cli, ref = enrolled
    refused(cli.run("case", "erase", ref, "--reason", "because", ok=False), "--reason must be one of her_request")
    refused(cli.run("case", "erase", "C-NOPE1", "--reason", "other", ok=False), "no case 'C-NOPE1'")
    assert look(cli, "SELECT erased_at, address_hash IS NOT NULL FROM cases") == [(None, 1)]
    assert look(cli, "SELECT COUNT(*) FROM purges") == [(0,)]


def test_service_set_takes_the_retention_periods_within_their_range(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    cli.run("service", "set", "--closed-case-days", "90", "--delivery-record-days", "120")
    assert look(cli, "SELECT closed_case_days, delivery_record_days FROM services") == [(90, 120)]
    refused(cli.run("service", "set", "--closed-case-days", "29", ok=False), "--closed-case-days must be between 30")
    refused(cli.run("service", "set", "--delivery-record-days", "4000", ok=False), "--delivery-record-days")
    assert look(cli, "SELECT closed_case_days, delivery_record_days FROM services") == [(90, 120)]
