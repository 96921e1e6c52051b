"""End-to-end fixtures: run the real `safecheck` CLI in subprocesses against a fresh directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Cli:
    folder: Path
    now: str = "2026-11-23T09:00:00Z"
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, stdin: str = "", now: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SAFECHECK_")}
        env = {
            **inherited,
            **self.env,
            "SAFECHECK_DB": str(self.folder / "safecheck.db"),
            "SAFECHECK_NOW": now or self.now,
        }
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=self.folder,
        )
        if ok and proc.returncode != 0:
            raise AssertionError(f"safecheck {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    def json_lines(self, *args: str, **kw: str) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.run(*args, **kw).stdout.splitlines() if line.strip()]


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    yield Cli(tmp_path)
