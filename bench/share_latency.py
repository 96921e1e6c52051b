"""Benchmark: from a survivor's answer that raises her risk to the partner's e-mail at an SMTP server.

    .venv/bin/python -m bench.share_latency --runs 20

In process, as the other benches: `open_app` on a SQLite file (WAL, synchronous=FULL) with real keys,
the real inbound pipeline (`handle_inbound`, simulator channel for her), a `Dispatcher.run_forever`
alongside as in `safecheck serve`, and a local SMTP server (tests/fakes/smtp_server.py: STARTTLS and
AUTH, real aiosmtplib client). One Drive team with a case manager reached by e-mail (and SMS for
acknowledging). Each run: a new survivor, onboarded, linked to the case manager with her consent to risk
changes, a check-in started and answered up to the incident question; then, timed, her answer
"choking" goes in and the clock stops when the SMTP server has accepted the mail for that share.
Then the case manager replies `ACK S-n` from his registered number through the same inbound
pipeline, timed until the acknowledgement is committed (the reply returns).

Wall time (perf_counter); the app's own clock is pinned, so no timer fires between steps. Prints
median / p95 / max of both, and a JSON line last. No assertion on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from bot import commands
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, handle_inbound
from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.fakes.smtp_server import SmtpServer, make_tls_files, smtp_server
from tests.integration.test_practitioner_fallback import mail_world

CM_MAIL = "cm@drive.example.org"
CM_PHONE = "+447700900555"
BEFORE_INCIDENT = ("1", "1", "1", "1")  # the standard check-in's answers up to the incident question
INCIDENT = "5"  # choking: urgent, a risk change, shared with Drive


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def drive(w: World) -> tuple[int, int]:
    async with w.app.db.transaction() as tx:
        agreement = Agreement("ISA-bench", Basis.CONSENT, frozenset({Kind.RISK_CHANGES, Kind.URGENT_ALERTS}))
        partner_id = await partners.create(tx, w.service_id, "Drive", "drive", agreement, w.clock.now())
        contact = await practitioners.add(
            tx, w.app.crypto, w.service_id, "partner", "Case Manager",
            [ChannelAddress("email", CM_MAIL), ChannelAddress("sms", CM_PHONE)], w.clock.now(), partner_id=partner_id,
        )
        await tx.commit()
    return partner_id, contact


async def ready_to_disclose(w: World, phone: str, partner_id: int, contact: int) -> None:
    ref = await w.onboard(phone)
    async with w.app.db.transaction() as tx:
        case = await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,))
        await partners.link(tx, w.app.crypto, case, partner_id, contact, "DRV-1", "bench", w.clock.now())
        for kind in (Kind.RISK_CHANGES, Kind.URGENT_ALERTS):
            await partners.record_consent(tx, case, partner_id, kind, True, "v1", "in_person", "bench", w.clock.now())
        await tx.commit()
    await commands.checkin_now(w.app, w.service_id, ref)
    await w.deliver()
    for answer in BEFORE_INCIDENT:
        await w.say(phone, answer)
        await w.deliver()


async def last_share(w: World) -> int:
    async with w.app.db.reading() as tx:
        return int(await tx.scalar("SELECT coalesce(max(id), 0) FROM shares"))


def mail_for(smtp: SmtpServer, share_id: int) -> bool:
    return any(CM_MAIL in r.rcpt_tos and f"S-{share_id} " in r.body for r in smtp.received)


async def one_run(w: World, smtp: SmtpServer, n: int, partner_id: int, contact: int) -> tuple[float, float]:
    phone = f"+4477009{n:05d}"
    await ready_to_disclose(w, phone, partner_id, contact)
    before = await last_share(w)
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(Dispatcher(w.app).run_forever(stop))
    try:
        t0 = time.perf_counter()
        await w.say(phone, INCIDENT)
        share_id = await last_share(w)
        if share_id <= before:
            raise SystemExit("no share was made: the bench's set-up no longer raises the risk")
        while not mail_for(smtp, share_id):
            await asyncio.sleep(0.0005)
        to_mail = time.perf_counter() - t0
    finally:
        stop.set()
        w.app.wake_dispatcher()
        await dispatcher
    t1 = time.perf_counter()
    await handle_inbound(w.app.core, InboundMessage("sms", CM_PHONE, f"ACK S-{share_id}", f"bench-ack-{n}"))
    to_ack = time.perf_counter() - t1
    with sqlite3.connect(w.settings.db_path) as conn:
        [(acked,)] = conn.execute("SELECT acknowledged_at FROM shares WHERE id = ?", (share_id,)).fetchall()
    if acked is None:
        raise SystemExit(f"share S-{share_id} was not acknowledged by the reply")
    await w.deliver()  # the rest of her check-in's replies and the IDVA's alert, before the next run
    return to_mail, to_ack


async def main(runs: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp:
        tls = make_tls_files(Path(tmp))
        async with smtp_server(tls) as smtp, mail_world(Path(tmp), smtp) as w:
            partner_id, contact = await drive(w)
            mails, acks = [], []
            for n in range(runs):
                to_mail, to_ack = await one_run(w, smtp, n + 1, partner_id, contact)
                mails.append(to_mail * 1000)
                acks.append(to_ack * 1000)
    figures: dict[str, float | int] = {"runs": runs}
    for name, values in (("answer_to_partner_mail_ms", mails), ("ack_reply_to_committed_ms", acks)):
        figures[f"{name}_median"] = round(statistics.median(values), 1)
        figures[f"{name}_p95"] = round(pct(values, 95), 1)
        figures[f"{name}_max"] = round(max(values), 1)
    return figures


if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="Session.login_data")  # aiosmtpd's, in the local SMTP server
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    result = asyncio.run(main(args.runs))
    print(f"runs: {result['runs']}")
    for label, key in (("answer -> partner's e-mail at SMTP", "answer_to_partner_mail_ms"),
                       ("ACK reply -> acknowledgement committed", "ack_reply_to_committed_ms")):
        print(f"{label}: median {result[key + '_median']} ms, p95 {result[key + '_p95']} ms, "
              f"max {result[key + '_max']} ms")
    print(json.dumps(result, sort_keys=True))
