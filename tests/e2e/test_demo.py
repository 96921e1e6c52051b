"""The README's first command: the demo runs on the embedded default and an alert reaches the IDVA."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_demo_without_a_terminal_plays_the_script_and_the_alert_reaches_the_idva_then_duty(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECHECK_")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "demo", "--pace", "0.05", "--fast", "20"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "playing a scripted survivor" in out
    assert "📱 All set." in out
    idva = out.index("🔔 [Sam (IDVA)] [URGENT] Case C-")
    duty = out.index("🔔 [Dee (duty IDVA)] [URGENT] Case C-")
    assert "📱 Thanks, that's everything. Take care." in out  # sent at the same moment as the alert
    assert idva < duty
    assert "alert 1 acknowledged" in out
    assert "🔔 [Max (manager)]" not in out
    assert "Traceback" not in proc.stderr
