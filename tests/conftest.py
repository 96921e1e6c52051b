"""Shared fixtures: a real SQLite file, real keys and a pinned clock, wired by the composition root."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.pipeline import Handled, InboundMessage, handle_inbound
from bot.scheduler import TimerRunner
from bot.web import passwords
from storage import services
from storage.db import Database
from storage.keys import create_key_file
from tests.databases import fresh_database
from tests.fakes.smtp_server import SmtpServer, TlsFiles, make_tls_files, smtp_server

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 09:00 in London


@dataclass
class World:
    """A running Safecheck on a temporary SQLite file: one service, an IDVA, a duty IDVA and a manager."""

    app: App
    sim: SimulatorChannel
    clock: FixedClock
    settings: Settings
    service_id: int
    idva: int
    duty: int
    manager: int
    _n: int = 0

    async def say(self, address: str, text: str, provider_id: str | None = None) -> Handled:
        self._n += 1
        return await handle_inbound(
            self.app, InboundMessage("simulator", address, text, provider_id or f"test-{self._n}")
        )

    async def deliver(self) -> list[str]:
        """Fire due timers, drain the outbox, and return the texts the simulator phone received."""
        await TimerRunner(self.app).run_due()
        await Dispatcher(self.app).drain()
        return [d.message.text for d in self.sim.take()]

    async def enrol(self, address: str = "+447700900123", intake: str = "high", **kw: object) -> tuple[str, str]:
        return await commands.enrol(
            self.app,
            self.service_id,
            idva=self.idva,
            channel="simulator",
            address=address,
            name=kw.pop("name", "Test Survivor"),
            intake=intake,
            **kw,
        )  # type: ignore[arg-type]

    async def onboard(
        self,
        address: str = "+447700900123",
        *,
        pin: str | None = None,
        duress: str | None = None,
        windows: str = "1 2 3",
        exit_word: str = "pasta",
        codeword: str = "blue kettle",
        missed_consent: str = "1",
        intake: str = "high",
        **kw: object,
    ) -> str:
        """Enrol, set her secrets in person, activate and complete set-up; return the case reference."""
        ref, code = await self.enrol(address, intake, **kw)
        secrets = {"exit_word": exit_word, "codeword": codeword, "pin": pin or "", "duress_pin": duress or ""}
        await commands.set_secrets(self.app, self.service_id, ref, secrets)
        for line in [code, "YES", windows, missed_consent]:
            await self.say(address, line)
        await self.deliver()
        return ref


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under `-n 2` (the README's test command, pytest-xdist): each module runs whole on one worker, so its
    set-up (a serve, an onboarded case) is made once, and the browser tests all run on one worker, last in
    its queue (tests/browser/conftest.py orders them and says why; the axe coverage guard counts what they
    all checked). `--no-loadscope-reorder` keeps the collection's order. (xdist's own `loadgroup` cannot do
    this with this pytest: it renames nodeids through a private attribute that pytest no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndTheBrowser(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "tests/browser" if module.startswith("tests/browser/") else module

    return ModulesAndTheBrowser(config, log)


@pytest.fixture(scope="session", autouse=True)
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Let the CLI and serve subprocesses cache their bytecode, once per session and outside the tree.

    With PYTHONDONTWRITEBYTECODE set, every `safecheck` process compiled ~120 modules from source again:
    a third of each command's start-up, hundreds of times over in the e2e and browser tests.
    """
    with pytest.MonkeyPatch.context() as env:
        env.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        env.setenv("PYTHONPYCACHEPREFIX", str(tmp_path_factory.mktemp("pycache")))
        yield


PRODUCTION_HASHER = passwords.HASHER
# argon2id at its lowest cost, for this process only: some 600 workspace sign-ins would otherwise spend
# minutes of the suite hashing. The production parameters are tested where they matter (`production_hasher`),
# and serve processes started by the tests hash as production does.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "HASHER", CHEAP_HASHER)
        yield


@pytest.fixture
def production_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test about the hash itself: argon2id with the parameters production uses."""
    monkeypatch.setattr(passwords, "HASHER", PRODUCTION_HASHER)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    os.environ.pop("SAFECHECK_KEY", None)
    settings = Settings(db_path=tmp_path / "safecheck.db", key_file=tmp_path / "safecheck.key")
    create_key_file(settings.key_file)
    fresh_database(settings.db_path)
    db = await Database.open(settings.db_path)
    async with db.transaction() as tx:
        service_id = await services.create(tx, "test", "Test service", START)
        await tx.commit()
    await db.close()
    clock = FixedClock(START)
    sim = SimulatorChannel()
    async with open_app(settings, clock=clock, simulator=sim, seed=7) as app:
        ids = [
            await commands.add_practitioner(app, service_id, name, role, ["inbox", "log"])
            for name, role in (("Ida", "idva"), ("Dan", "duty"), ("Meg", "manager"))
        ]
        yield World(app, sim, clock, settings, service_id, *ids)


# A real SMTP server with STARTTLS, for every test that sends e-mail.
@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def smtp(tls: TlsFiles) -> AsyncIterator[SmtpServer]:
    async with smtp_server(tls) as server:
        yield server
