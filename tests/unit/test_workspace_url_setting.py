"""SAFECHECK_WORKSPACE_URL: where staff reach the workspace, if not at the public URL the providers call."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load

PUBLIC = "https://hooks.example.org"
WORKSPACE = "https://workspace.example.org"


def test_unset_the_workspace_is_at_the_public_url() -> None:
    settings = load({"SAFECHECK_PUBLIC_URL": PUBLIC})
    assert (settings.public_url, settings.workspace_url, settings.workspace_base) == (PUBLIC, None, PUBLIC)


def test_set_it_is_the_workspace_and_the_public_url_stays_the_webhooks() -> None:
    settings = load({"SAFECHECK_PUBLIC_URL": PUBLIC, "SAFECHECK_WORKSPACE_URL": WORKSPACE + "/"})
    assert (settings.public_url, settings.workspace_base) == (PUBLIC, WORKSPACE)
    assert load({"SAFECHECK_WORKSPACE_URL": "http://localhost:8080"}).workspace_base == "http://localhost:8080"
    assert load({}).workspace_base is None


@pytest.mark.parametrize(
    "value",
    [
        "workspace.example.org",  # no scheme
        "ftp://workspace.example.org",
        "https://",
        "https://workspace.example.org/safecheck",  # the pages, cookies and passkeys live at the root
        "https://workspace.example.org/?next=1",
        "https://workspace.example.org/#top",
        "https://workspace.example.org:99999",
        "https://workspace.example.org:port",
        "https://staff@workspace.example.org",
    ],
)
def test_a_wrong_workspace_url_is_refused_in_one_line_that_names_the_setting(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load({"SAFECHECK_WORKSPACE_URL": value})
    message = str(caught.value)
    assert "\n" not in message and message.startswith("SAFECHECK_WORKSPACE_URL must be an origin like https://")
    assert repr(value) in message
