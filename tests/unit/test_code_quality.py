"""The project's own promises about its code: ruff-clean, mypy --strict clean, and a pure core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IO_MODULES = {"bot", "storage", "aiosqlite", "telegram", "twilio", "aiohttp", "apscheduler", "sqlite3", "socket",
              "asyncio", "os", "subprocess", "time", "random", "logging"}


def test_ruff_finds_nothing() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_passes_on_the_configured_packages() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_flows_and_safety_import_no_io_and_read_no_clock() -> None:
    offences = []
    for path in [*ROOT.joinpath("flows").rglob("*.py"), *ROOT.joinpath("safety").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offences += [f"{path.name}: import {n}" for n in names if n.split(".")[0] in IO_MODULES]
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today") and isinstance(
                node.value, ast.Name
            ) and node.value.id in ("datetime", "date"):
                offences.append(f"{path.name}: reads the clock ({node.value.id}.{node.attr})")
    assert offences == []
