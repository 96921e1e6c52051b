"""`safecheck invite` prints a link on the workspace's host (SAFECHECK_WORKSPACE_URL), not the webhooks' host;
a wrong SAFECHECK_WORKSPACE_URL stops every command in one line."""

from __future__ import annotations

import re

from tests.e2e.conftest import Cli

PUBLIC = "https://hooks.example.org"
WORKSPACE = "https://workspace.example.org"


def test_the_invitation_link_is_on_the_workspace_url(cli: Cli) -> None:
    cli.env.update({"SAFECHECK_PUBLIC_URL": PUBLIC, "SAFECHECK_WORKSPACE_URL": WORKSPACE})
    cli.run("init")
    link = cli.run("invite", "--name", "Meg Manager", "--role", "manager").stdout
    assert re.fullmatch(r"invitation \(valid 3 days, once\): https://workspace\.example\.org/invite/[\w-]{43}\n", link)


def test_without_it_the_invitation_link_is_on_the_public_url(cli: Cli) -> None:
    cli.env.update({"SAFECHECK_PUBLIC_URL": PUBLIC})
    cli.run("init")
    link = cli.run("invite", "--name", "Meg Manager", "--role", "manager").stdout
    assert link.startswith(f"invitation (valid 3 days, once): {PUBLIC}/invite/")


def test_a_workspace_url_with_a_path_is_refused_in_one_line(cli: Cli) -> None:
    cli.run("init")
    cli.env.update({"SAFECHECK_WORKSPACE_URL": "https://example.org/workspace"})
    proc = cli.run("invite", "--name", "Meg Manager", "--role", "manager", ok=False)
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "SAFECHECK_WORKSPACE_URL must be an origin like https://workspace.example.org (no path)" in proc.stderr
