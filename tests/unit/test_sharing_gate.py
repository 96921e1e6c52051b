"""The consent gate of partner sharing, as properties: no share without matching consent and agreement,
or a recorded, approved override; and a table of the cases a person would check by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safety.model import AlertReason, Severity
from safety.sharing import (
    Agreement,
    Basis,
    Consent,
    Decision,
    Kind,
    Override,
    automatic,
    kinds_of_alert,
    overridden,
    shows_personal_details,
)

kinds = st.frozensets(st.sampled_from(list(Kind)))
consent = st.builds(Consent, consent_id=st.integers(1, 99), agreed=st.booleans(), text_version=st.just("v1"))
consents = st.dictionaries(st.sampled_from(list(Kind)), consent)
agreement = st.builds(
    Agreement,
    reference=st.just("ISA-1"),
    basis=st.sampled_from(list(Basis)),
    kinds=kinds,
    personal_details=st.booleans(),
)
people = st.integers(1, 6)
override = st.builds(
    Override,
    requested_by=people,
    reason=st.sampled_from(["", "   ", "imminent risk to life"]),
    basis=st.sampled_from(list(Basis)),
    approved_by=st.none() | people,
)


@given(kinds, agreement, consents)
def test_an_automatic_share_needs_a_kind_the_agreement_allows_and_she_agreed_to(
    what: frozenset[Kind], terms: Agreement, given_consents: dict[Kind, Consent]
) -> None:
    decision = automatic(what, terms, given_consents)
    allowed = {k for k in what if k in terms.kinds and k in given_consents and given_consents[k].agreed}
    assert (decision is not None) == bool(allowed)
    if decision is not None:
        assert decision.basis is Basis.CONSENT and decision.override is None and not decision.flagged
        assert decision.consent is not None and decision.consent.agreed
        assert decision.consent in [given_consents[k] for k in allowed]  # the consent on record is one that allows it


@given(override, st.frozensets(people))
def test_a_share_without_consent_needs_a_reason_an_override_basis_and_another_managers_approval(
    asked: Override, managers: frozenset[int]
) -> None:
    decision = overridden(asked, managers)
    ok = (
        asked.basis is not Basis.CONSENT
        and asked.reason.strip() != ""
        and asked.approved_by is not None
        and asked.approved_by != asked.requested_by
        and asked.approved_by in managers
    )
    assert (decision is not None) == ok
    if decision is not None:
        assert decision.flagged and decision.basis is asked.basis and decision.consent is None


@given(agreement, st.booleans(), consent, override)
def test_her_name_and_number_go_only_with_both_the_agreement_and_her_consent_and_never_on_an_override(
    terms: Agreement, details: bool, yes: Consent, asked: Override
) -> None:
    assert shows_personal_details(Decision(Basis.CONSENT, consent=yes), terms, details) == (
        terms.personal_details and details
    )
    assert not shows_personal_details(Decision(Basis.SAFEGUARDING, override=asked), terms, details)


@pytest.mark.parametrize(
    ("severity", "reason", "expected"),
    [
        (Severity.RAISED, AlertReason.RISK_RAISED, {Kind.RISK_CHANGES}),
        (Severity.HIGH, AlertReason.RISK_RAISED, {Kind.RISK_CHANGES}),
        (Severity.URGENT, AlertReason.RISK_RAISED, {Kind.RISK_CHANGES, Kind.URGENT_ALERTS}),  # e.g. not safe now
        (Severity.URGENT, AlertReason.CODEWORD, {Kind.URGENT_ALERTS}),
        (Severity.RAISED, AlertReason.MISSED_CHECKIN, set()),  # a missed check-in is not shared
        (Severity.RAISED, AlertReason.FEAR_RISING, set()),
    ],
)
def test_which_kinds_of_information_an_alert_is(severity: Severity, reason: AlertReason, expected: set[Kind]) -> None:
    assert kinds_of_alert(severity, reason) == frozenset(expected)


def test_a_withdrawn_consent_stops_the_automatic_share() -> None:
    terms = Agreement("ISA-7", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
    yes, no = Consent(1, True, "v1"), Consent(2, False, "v1")
    assert automatic(frozenset({Kind.RISK_CHANGES}), terms, {Kind.RISK_CHANGES: yes}) == Decision(Basis.CONSENT, yes)
    assert automatic(frozenset({Kind.RISK_CHANGES}), terms, {Kind.RISK_CHANGES: no}) is None  # her latest answer
