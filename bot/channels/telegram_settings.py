"""Telegram settings from the environment: every TELEGRAM_* variable, checked at start-up in one line each."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config import ConfigError, number_setting, refuse_half_configured

# PTB 22 warns (a DeprecationWarning) whenever it builds a RetryAfter unless one opts in to the
# form its next major version will use: retry_after as a timedelta. We read both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")

DEFAULT_API = "https://api.telegram.org/bot"
WEBHOOK_PATH = "/telegram/webhook"
TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # Telegram allows 1-256 of these; we ask for a real secret


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_base_url: str = DEFAULT_API
    api_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None  # for deep links printed by `case enrol`
    webhook_url: str | None = None  # None: long polling
    webhook_secret: str | None = None
    global_rate: float = 30.0  # messages per second, all chats together
    chat_rate: float = 1.0  # messages per second to one chat
    timeout: float = 10.0  # seconds for one Bot API request
    poll_timeout: int = 30  # seconds a getUpdates long poll may wait

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    def deep_link(self, code: str) -> str | None:
        """The link a survivor taps to start the bot with her activation code (None without a username)."""
        if self.bot_username is None:
            return None
        return f"https://t.me/{self.bot_username}?start={code}"


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    text = env.get(name, "").strip() or default
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be a URL like {default}, not {text!r}")
    return text.rstrip("/")


def load_telegram(env: Mapping[str, str], public_url: str | None) -> TelegramSettings | None:
    """The Telegram settings, or None when no TELEGRAM_* variable is set (Telegram is then off)."""
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        refuse_half_configured(env, ("TELEGRAM_",), "Telegram", ["TELEGRAM_BOT_TOKEN"])
        return None
    if not TOKEN.fullmatch(token):
        # Never echo the token: error messages end up in terminals and logs.
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token from @BotFather (digits:letters)")
    api = _url(env, "TELEGRAM_API_BASE_URL", DEFAULT_API)
    default_files = api[: -len("/bot")] + "/file/bot" if api.endswith("/bot") else api + "/file"
    files = _url(env, "TELEGRAM_API_FILE_URL", default_files)
    username = env.get("TELEGRAM_BOT_USERNAME", "").strip().removeprefix("@") or None
    if username is not None and not USERNAME.fullmatch(username):
        raise ConfigError(
            f"TELEGRAM_BOT_USERNAME must be the bot's @username (5-32 letters, digits, _), not {username!r}"
        )
    mode = env.get("TELEGRAM_MODE", "").strip().lower() or None
    if mode not in (None, "polling", "webhook"):
        raise ConfigError(f"TELEGRAM_MODE must be polling or webhook, not {mode!r}")
    webhook: str | None = None
    if mode != "polling":
        explicit = env.get("TELEGRAM_WEBHOOK_URL", "").strip()
        if explicit:
            webhook = _url(env, "TELEGRAM_WEBHOOK_URL", "https://safecheck.example.org" + WEBHOOK_PATH)
        elif public_url:
            webhook = public_url.rstrip("/") + WEBHOOK_PATH
        elif mode == "webhook":
            raise ConfigError("TELEGRAM_MODE=webhook needs SAFECHECK_PUBLIC_URL or TELEGRAM_WEBHOOK_URL")
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
    if webhook is None and secret is not None and mode != "polling":
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET is set but there is no webhook URL: set SAFECHECK_PUBLIC_URL or "
            "TELEGRAM_WEBHOOK_URL for webhook mode, or TELEGRAM_MODE=polling"
        )
    if webhook is not None:
        if secret is None:
            raise ConfigError("Telegram webhook mode needs TELEGRAM_WEBHOOK_SECRET (16-256 of A-Z a-z 0-9 _ -)")
        if not SECRET.fullmatch(secret):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z a-z 0-9 _ - only")
        if not webhook.startswith("https://") and api == DEFAULT_API:
            # Only a self-hosted Bot API server (TELEGRAM_API_BASE_URL) may call a plain-http webhook.
            raise ConfigError("Telegram only calls https webhooks: SAFECHECK_PUBLIC_URL / TELEGRAM_WEBHOOK_URL")
    return TelegramSettings(
        token=token,
        api_base_url=api,
        api_file_url=files,
        bot_username=username,
        webhook_url=webhook,
        webhook_secret=secret,
        global_rate=number_setting(env, "TELEGRAM_GLOBAL_RATE", 30.0, 0.1, 1000.0),
        chat_rate=number_setting(env, "TELEGRAM_CHAT_RATE", 1.0, 0.01, 100.0),
        timeout=number_setting(env, "TELEGRAM_TIMEOUT", 10.0, 1.0, 120.0),
        poll_timeout=int(number_setting(env, "TELEGRAM_POLL_TIMEOUT", 30, 0, 50)),
    )
