"""Settings from the environment and the command line; bad values fail loudly in one line."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting is wrong (one line: what, and how to fix it)."""


@dataclass(frozen=True)
class Settings:
    db_path: Path
    key_file: Path
    now: datetime | None = None  # a pinned start time for rehearsals and tests
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    # The public base URL providers call (webhooks), e.g. https://safecheck.example.org; behind a
    # proxy it is what signatures are computed over, so it cannot be guessed from the request.
    public_url: str | None = None
    # Where staff reach the workspace (SAFECHECK_WORKSPACE_URL), if not at the public URL: its origin is
    # the one the CSRF check and passkeys accept, and the base of invitation, reset and alert links.
    workspace_url: str | None = None
    # Rehearsals and tests: the clock is real time plus the seconds in this file (`serve --clock-file`).
    clock_file: Path | None = None
    # The workspace's session limits (OWASP: idle and absolute timeouts).
    session_idle_minutes: int = 15
    session_absolute_hours: int = 8
    # The environment the settings came from: each transport reads its own variables from it.
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def workspace_base(self) -> str | None:
        """The workspace's base URL: its own setting, else the public URL (one host for both)."""
        return self.workspace_url or self.public_url


def parse_instant(text: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ConfigError(f"{name} needs a time zone, e.g. 2026-11-23T10:00:00Z")
        if not 2000 <= when.year <= 2200:
            raise ConfigError(f"{name} must be a date between the years 2000 and 2200, not {text!r}")
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ConfigError(f"{name} must be an ISO date-time like 2026-11-23T10:00:00Z, not {text!r}") from None


def number_setting(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """A numeric setting within [low, high]; unset or blank gives the default."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number between {low:g} and {high:g}, not {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {text!r}")
    return value


def refuse_half_configured(
    env: Mapping[str, str], prefixes: tuple[str, ...], what: str, missing: Sequence[str]
) -> None:
    """A channel whose key setting is unset is off only if none of its settings is set: half a set is a mistake."""
    given = sorted(name for name, value in env.items() if name.startswith(prefixes) and value.strip())
    if given:
        raise ConfigError(
            f"{what} is half configured: {', '.join(given)} set but not {', '.join(missing)}; "
            f"set the rest, or unset {' and '.join(p + ('*' if p.endswith('_') else '') for p in prefixes)} "
            f"to leave {what} off"
        )


def parse_public_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"SAFECHECK_PUBLIC_URL must be a base URL like https://safecheck.example.org, not {text!r}")
    return text.strip().rstrip("/")


def parse_workspace_url(text: str) -> str:
    """An origin (scheme://host[:port]): the workspace's pages, cookies and passkeys live at its root."""
    parts = urlsplit(text.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a port that is not a number, or out of range
        port_ok = False
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or not port_ok
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"SAFECHECK_WORKSPACE_URL must be an origin like https://workspace.example.org (no path), not {text!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _minutes(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, str(default)).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def load(
    env: Mapping[str, str] | None = None,
    db: str | None = None,
    key_file: str | None = None,
    now: str | None = None,
    clock_file: str | None = None,
) -> Settings:
    env = os.environ if env is None else env
    db_path = Path(db or env.get("SAFECHECK_DB") or "safecheck.db").expanduser()
    key = Path(key_file or env.get("SAFECHECK_KEY_FILE") or db_path.with_suffix(".key")).expanduser()
    pinned = now or env.get("SAFECHECK_NOW")
    port_text = env.get("SAFECHECK_PORT", "8080")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"SAFECHECK_PORT must be a port number 1-65535, not {port_text!r}")
    level = env.get("SAFECHECK_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"SAFECHECK_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    public = env.get("SAFECHECK_PUBLIC_URL")
    workspace = env.get("SAFECHECK_WORKSPACE_URL", "").strip()
    clock_path = clock_file or env.get("SAFECHECK_CLOCK_FILE")
    return Settings(
        db_path=db_path,
        key_file=key,
        now=parse_instant(pinned, "SAFECHECK_NOW / --now") if pinned else None,
        host=env.get("SAFECHECK_HOST", "127.0.0.1"),
        port=int(port_text),
        log_level=level,
        public_url=parse_public_url(public) if public else None,
        workspace_url=parse_workspace_url(workspace) if workspace else None,
        clock_file=Path(clock_path) if clock_path else None,
        session_idle_minutes=_minutes(env, "SAFECHECK_SESSION_IDLE_MINUTES", 15, 1, 240),
        session_absolute_hours=_minutes(env, "SAFECHECK_SESSION_ABSOLUTE_HOURS", 8, 1, 24),
        env=dict(env),
    )
