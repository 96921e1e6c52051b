"""The partner agency in bench.screenshots' made-up service (docs/sharing.md's pictures).

One Drive team works under an agreement that covers risk changes and urgent alerts. Its case manager
(an invented person, reached in the workspace inbox) is linked to the first survivor under Drive's own
reference. She agreed to risk changes being shared and said no to check-in summaries. The shares
themselves are made by the real pipeline when her answers raise her risk. The case manager acknowledges
each one a few minutes later through the same code as an `ACK S-n` reply (`bot.share_followup`), and
records what Drive did about one. The last day's share is left open, so the pages show one waiting.
"""

from __future__ import annotations

from datetime import timedelta

from bot import share_followup
from bot.app import App
from bot.clock import FixedClock
from bot.scheduler import TimerRunner
from bot.web.case_partner_view import CONSENT_TEXT_VERSION
from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.cases import by_ref
from storage.db import Tx

PARTNER = "Drive Northshire"
AGREEMENT = "ISA-2026-014"
CASE_MANAGER = "Carl Mensah"
DRIVE_REF = "DRV-0417"
# Minutes from a share to his acknowledgement, in turn: spread out, so the response times have a shape.
ACK_AFTER = (6, 14, 9, 37, 4, 22)


async def drive_team(app: App, service_id: int, case_ref: str) -> int:
    """The partner, its case manager, his link to the case and her consent; his practitioner id."""
    now = app.clock.now()

    async def unit(tx: Tx) -> int:
        case = await by_ref(tx, case_ref)
        assert case is not None
        agreement = Agreement(AGREEMENT, Basis.CONSENT, frozenset({Kind.RISK_CHANGES, Kind.URGENT_ALERTS}))
        partner_id = await partners.create(tx, service_id, PARTNER, "drive", agreement, now)
        inbox = [practitioners.ChannelAddress("inbox", None)]
        contact = await practitioners.add(
            tx, app.crypto, service_id, "partner", CASE_MANAGER, inbox, now, partner_id=partner_id
        )
        await partners.link(tx, app.crypto, case.id, partner_id, contact, DRIVE_REF, "bench", now)
        for kind, agreed in ((Kind.RISK_CHANGES, True), (Kind.URGENT_ALERTS, True), (Kind.CHECKIN_SUMMARIES, False)):
            await partners.record_consent(
                tx, case.id, partner_id, kind, agreed, CONSENT_TEXT_VERSION, "in_person", "bench", now
            )
        await tx.commit()
        return contact

    return await app.db.run(unit)


async def acknowledge_today(app: App, clock: FixedClock, runner: TimerRunner, contact: int) -> int:
    """He acknowledges the shares still open, each some minutes after it went (escalation timers that fall
    due first still fire); the first one also gets an action. How many he acknowledged."""
    async with app.db.reading() as tx:
        open_shares = [s for s in await share_followup.shares_for(tx, contact) if s.acknowledged_at is None]
        done = await tx.scalar("SELECT count(*) FROM shares WHERE acknowledged_at IS NOT NULL")
    for n, share in enumerate(sorted(open_shares, key=lambda s: s.id), start=int(done or 0)):
        at = share.created_at + timedelta(minutes=ACK_AFTER[n % len(ACK_AFTER)])
        clock.set(max(at, clock.now()))
        await runner.run_due()

        async def ack(tx: Tx, share_id: int = share.id, first: bool = n == 0) -> None:
            now = clock.now()
            if first:  # recording an action acknowledges it too, as a reply would
                note = "Home visit by the Drive case manager; the bail conditions were gone through again"
                await share_followup.record_action(tx, app.crypto, share_id, contact, "perpetrator_visited", note, now)
            else:
                await share_followup.acknowledge(tx, share_id, contact, now)
            await tx.commit()

        await app.db.run(ack)
    return len(open_shares)
