"""End-to-end fixtures: run the real `safecheck` CLI in subprocesses against a fresh directory."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from storage import services
from storage.db import Database
from tests.fakes.telegram_world import free_port

COMMAND = [sys.executable, "-m", "bot.cli.main"]
T = TypeVar("T")


@dataclass
class Cli:
    folder: Path
    now: str = "2026-11-23T09:00:00Z"
    env: dict[str, str] = field(default_factory=dict)

    def environ(self, now: str | None = None, **extra: str) -> dict[str, str]:
        """The environment of one CLI process: ours without SAFECHECK_*, then this service's settings."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SAFECHECK_")}
        return {
            **inherited,
            **self.env,
            "SAFECHECK_DB": str(self.folder / "safecheck.db"),
            "SAFECHECK_NOW": now or self.now,
            **extra,
        }

    def run(
        self, *args: str, stdin: str = "", now: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*COMMAND, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environ(now),
            timeout=120,
            cwd=self.folder,
        )
        if ok and proc.returncode != 0:
            raise AssertionError(f"safecheck {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    async def arun(
        self, *args: str, stdin: str = "", now: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`run` without blocking the test's event loop, for commands that talk to a fake server in it."""
        proc = await asyncio.create_subprocess_exec(
            *COMMAND,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.environ(now),
            cwd=self.folder,
        )
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=120)
        done = subprocess.CompletedProcess(list(args), proc.returncode or 0, out.decode(), err.decode())
        if ok and done.returncode != 0:
            raise AssertionError(f"safecheck {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done

    def json_lines(self, *args: str, **kw: str) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.run(*args, **kw).stdout.splitlines() if line.strip()]

    def start(self, *args: str, **extra: str) -> Background:
        """A long-running command (serve) in the background on a free port, its stderr kept in a file."""
        extra.setdefault("SAFECHECK_PORT", str(free_port()))
        log = self.folder.parent / f"{self.folder.name}-{args[0]}-{time.monotonic_ns()}.log"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [*COMMAND, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=self.environ(**extra),
                cwd=self.folder,
            )
        return Background(proc, log)


@dataclass
class Background:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def stderr(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, seconds: float = 60) -> None:
        """Wait until `text` is in its stderr; fail if it exits first or the bound passes."""
        deadline = time.monotonic() + seconds
        while text not in self.stderr:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode} before {text!r}: {self.stderr}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {seconds} s: {self.stderr}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    folder = tmp_path / "service"  # its own folder: logs of background processes go beside it
    folder.mkdir()
    yield Cli(folder)


@pytest.fixture
def background() -> Iterator[list[Background]]:
    """Processes a test started; whatever is still running at the end is killed."""
    started: list[Background] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)


def refused(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Assert the CLI refused with exit 2 and exactly one stderr line holding each fragment; return the line."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def look(cli: Cli, sql: str) -> list[tuple[Any, ...]]:
    """Read the database the CLI wrote, read-only: what a refused command must have left alone."""
    with sqlite3.connect(f"file:{cli.folder / 'safecheck.db'}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def add_service(cli: Cli, slug: str) -> None:
    """A second service in the same database (the CLI's init makes only the first one)."""

    async def create() -> None:
        db = await Database.open(cli.folder / "safecheck.db")
        try:
            async with db.transaction() as tx:
                await services.create(tx, slug, f"Service {slug}", datetime.now(UTC))
                await tx.commit()
        finally:
            await db.close()

    asyncio.run(create())


@pytest.fixture(scope="session")  # every test copies it: one set-up serves every module
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Set up once per session: an initialised service with an IDVA and one enrolled case (CLI processes are slow)."""
    cli = Cli(tmp_path_factory.mktemp("template"))
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    out = cli.run("case", "enrol", "--idva", "1", "--address", "+447700900123", "--intake", "high").stdout
    ref = re.search(r"case (C-\w+)", out)
    assert ref
    yield cli.folder, ref.group(1)


@pytest.fixture
def enrolled(template: tuple[Path, str], tmp_path: Path) -> tuple[Cli, str]:
    """A private copy of the set-up service (database and key file) and its case reference."""
    folder, ref = template
    shutil.copytree(folder, tmp_path / "service")
    return Cli(tmp_path / "service"), ref


@dataclass(frozen=True)
class Prepared(Generic[T]):
    """A service folder the real CLI set up once, what setting it up returned, and the settings it ran with."""

    folder: Path
    made: T
    env: dict[str, str]

    def copy_to(self, cli: Cli) -> T:
        """Give `cli` its own copy of the files (database, key file) and settings; the set-up's result."""
        shutil.copytree(self.folder, cli.folder, dirs_exist_ok=True)
        cli.env.update(self.env)
        return self.made


def prepare(factory: pytest.TempPathFactory, set_up: Callable[[Cli], T]) -> Prepared[T]:
    """Run `set_up` once against a fresh folder: tests that only need its result copy the folder, as
    running the same few CLI processes again before every test made the e2e tests the slowest part."""
    cli = Cli(factory.mktemp("prepared"))
    made = set_up(cli)
    return Prepared(cli.folder, made, dict(cli.env))


@pytest.fixture(scope="session")
def scenario_case(tmp_path_factory: pytest.TempPathFactory) -> Prepared[str]:
    """`set_up_case` (init, IDVA, duty, manager, an onboarded case), run and checked once per session."""
    from tests.e2e.test_cli_scenario import set_up_case  # that module imports this one

    return prepare(tmp_path_factory, set_up_case)


@pytest.fixture
def case_ref(cli: Cli, scenario_case: Prepared[str]) -> str:
    """`cli` holding its own copy of the set-up case, as `set_up_case(cli)` would leave it; her reference."""
    return scenario_case.copy_to(cli)
