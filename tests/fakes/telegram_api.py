"""A fake Telegram Bot API server on 127.0.0.1, for the real python-telegram-bot client to talk to.

It speaks the Bot API over HTTP (`POST /bot<TOKEN>/<method>`, form fields, `{"ok": ..., "result": ...}`),
records every call, keeps each chat's messages (so deletion is observable), enforces Telegram's
sending limits (429 with `retry_after` when exceeded), and can inject 429s, 5xx, delays and
403 "blocked". Incoming updates are queued for getUpdates or POSTed to the registered webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

# PTB 22 warns when a RetryAfter is built unless one opts in to its future timedelta form (the
# bot's own Telegram module does the same).
os.environ.setdefault("PTB_TIMEDELTA", "1")

BOT_ID = 7000001
BOT_USERNAME = "neutral_helper_bot"
DELETE_WINDOW = 48 * 3600  # Telegram lets a bot delete messages in private chats for 48 h
SEND_METHODS = frozenset({"sendMessage"})  # what the sending limits count
JSON_FIELDS = frozenset({"reply_markup", "message_ids", "allowed_updates", "entities", "link_preview_options"})
INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "user_id"})
BOOL_FIELDS = frozenset({"protect_content", "disable_notification", "drop_pending_updates", "show_alert"})


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class ChatMessage:
    message_id: int
    from_bot: bool
    text: str | None
    date: int
    reply_markup: dict[str, Any] | None = None
    protect_content: bool = False
    silent: bool = False


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0
    chat_id: int | None = None
    result: Any = None  # with status 200: answer {"ok": true, "result": result} instead of the real one


class OddAnswer(Exception):
    """Answer this result, with ok: true, instead of the method's own."""

    def __init__(self, result: Any) -> None:
        super().__init__("odd answer")
        self.result = result


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class FakeTelegram:
    """The fake server. `await start()` it in the test's loop; `base_url` then points PTB at it."""

    token: str = "123456:AAH-fake_token_for_tests_0123456789"
    global_rate: float | None = 30.0  # sendMessage per second, any chat (None: no limit)
    chat_rate: float | None = 1.0  # sendMessage per second, one chat
    calls: list[Call] = field(default_factory=list)
    chats: dict[int, dict[int, ChatMessage]] = field(default_factory=lambda: defaultdict(dict))
    deleted: list[tuple[int, int]] = field(default_factory=list)
    left_chats: list[int] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    known: set[int] = field(default_factory=set)  # chats that wrote to the bot: only they can be written to
    rejected_429: int = 0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    clock_offset: float = 0.0  # seconds added to "now" (to age messages past the delete window)

    def __post_init__(self) -> None:
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._recent_sends: deque[float] = deque()
        self._recent_by_chat: dict[int, deque[float]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def now(self) -> float:
        return time.time() + self.clock_offset

    # ----- fault injection ---------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        description: str = "",
        *,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) fail with this error."""
        text = description or {429: "Too Many Requests: retry after", 500: "Internal Server Error"}.get(status, "Error")
        for _ in range(times):
            self._faults[method].append(Fault(status, text, retry_after, chat_id=chat_id))

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer only after `seconds` (a timeout, for a short client)."""
        for _ in range(times):
            self._faults[method].append(Fault(200, "", delay=seconds))

    def answer_oddly(self, method: str, result: Any, *, times: int = 1) -> None:
        """The next `times` calls of `method` get `ok: true` with this result, whatever its shape."""
        for _ in range(times):
            self._faults[method].append(Fault(200, "", result=result))

    def clear_faults(self, method: str) -> None:
        """Forget the failures still waiting for `method`: it works again."""
        self._faults[method].clear()

    def meet(self, *chat_ids: int) -> None:
        """These users have started the bot (a bot cannot write first)."""
        self.known.update(chat_ids)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends to the chat get 403 from now on."""
        self.blocked.add(chat_id)

    # ----- what was said -------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int) -> list[Call]:
        return [c for c in self.calls_of("sendMessage") if c.params.get("chat_id") == chat_id]

    def visible(self, chat_id: int) -> list[ChatMessage]:
        """The chat as its user sees it now: every message not deleted, oldest first."""
        return sorted(self.chats[chat_id].values(), key=lambda m: m.message_id)

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m.text or "" for m in self.visible(chat_id) if m.from_bot]

    def last_bot_message(self, chat_id: int) -> ChatMessage:
        return [m for m in self.visible(chat_id) if m.from_bot][-1]

    # ----- incoming updates ----------------------------------------------------------------------

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"}

    def _chat(self, chat_id: int, kind: str = "private") -> dict[str, Any]:
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": "Sam"}
        return {"id": chat_id, "type": kind, "title": "Some group"}

    def _user_message(self, chat_id: int, extra: dict[str, Any], kind: str = "private") -> dict[str, Any]:
        message_id = next(self._message_ids[chat_id])
        date = int(self.now())
        self.known.add(chat_id)
        self.chats[chat_id][message_id] = ChatMessage(message_id, False, extra.get("text"), date)
        return {"message_id": message_id, "date": date, "chat": self._chat(chat_id, kind), "from": self._user(chat_id)}

    def make_update(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **body}

    def text_update(self, chat_id: int, text: str) -> dict[str, Any]:
        return self.make_update({"message": {**self._user_message(chat_id, {"text": text}), "text": text}})

    def message_update(self, chat_id: int, content: dict[str, Any], kind: str = "private") -> dict[str, Any]:
        """A message of any other kind: `content` is e.g. {"sticker": {...}} or {"photo": [...]}."""
        return self.make_update({"message": {**self._user_message(chat_id, {}, kind), **content}})

    # Updates the real client cannot parse, as an older or newer Bot API might shape them.
    UNPARSABLE = ("date_as_text", "no_message_id", "entity_without_offset", "chat_as_text")

    def unparsable_update(
        self, chat_id: int, text: str, shape: str = "date_as_text", first_name: str = "Sam"
    ) -> dict[str, Any]:
        """A private text message that python-telegram-bot cannot parse; `shape` says what is off."""
        update = self.text_update(chat_id, text)
        message = update["message"]
        message["from"]["first_name"] = message["chat"]["first_name"] = first_name
        if shape == "date_as_text":
            message["date"] = "2026-11-23T09:00:00Z"
        elif shape == "no_message_id":
            del message["message_id"]
        elif shape == "entity_without_offset":
            message["entities"] = [{"type": "bold", "length": 2}]
        elif shape == "chat_as_text":
            message["chat"] = str(chat_id)  # our reader cannot find the chat either
        else:
            raise ValueError(f"unknown shape {shape!r}")
        return update

    def tap_update(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """The user taps an inline button with `data` under the bot's message `message_id`."""
        shown = self.chats[chat_id][message_id]
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": shown.date,
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            "text": shown.text or "",
        }
        if shown.reply_markup:
            message["reply_markup"] = shown.reply_markup
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        }
        return self.make_update({"callback_query": query})

    def edited_update(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        edited = {
            "message_id": message_id,
            "date": int(self.now()) - 10,
            "edit_date": int(self.now()),
            "chat": self._chat(chat_id),
            "from": self._user(chat_id),
            "text": text,
        }
        return self.make_update({"edited_message": edited})

    def member_update(self, chat_id: int, new_status: str, kind: str = "private") -> dict[str, Any]:
        """my_chat_member: the bot's status in a chat changed ("kicked" = blocked, "member" = added)."""
        old = "member" if new_status == "kicked" else "left"
        body = {
            "chat": self._chat(chat_id, kind),
            "from": self._user(abs(chat_id)),
            "date": int(self.now()),
            "old_chat_member": {"status": old, "user": self._bot_user()},
            "new_chat_member": {"status": new_status, "user": self._bot_user(), "until_date": 0}
            if new_status == "kicked"
            else {"status": new_status, "user": self._bot_user()},
        }
        return self.make_update({"my_chat_member": body})

    def channel_post_update(self, chat_id: int, text: str) -> dict[str, Any]:
        post = {"message_id": 1, "date": int(self.now()), "chat": self._chat(chat_id, "channel"), "text": text}
        return self.make_update({"channel_post": post})

    def queue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Offer the update to getUpdates (long polling)."""
        self._updates.append(update)
        self._new_update.set()
        return update

    async def push(self, update: dict[str, Any], *, secret: str | None = None, registered: bool = True) -> int:
        """POST the update to the webhook as Telegram would; return the HTTP status the bot answered.

        The secret header is the registered one unless `registered=False` (then `secret`, or none)."""
        target = self.webhook_url
        assert target, "no webhook registered"
        token = self.webhook_secret if registered else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token is not None else {}
        async with aiohttp.ClientSession() as session, session.post(target, json=update, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def drained(self, timeout: float = 5.0) -> None:
        """Wait until the poller has confirmed every queued update (its next offset is past them)."""
        deadline = time.monotonic() + timeout
        while self._updates and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._updates:
            raise TimeoutError("updates not fetched")

    # ----- the Bot API -------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Helper", "username": BOT_USERNAME}

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = _parse(dict(await request.post()) if request.method == "POST" else dict(request.query))
        self.calls.append(Call(method, params, time.monotonic()))
        try:
            await self._inject(method, params)
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except OddAnswer as odd:
            return web.json_response({"ok": True, "result": odd.result})
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.status)
        return web.json_response({"ok": True, "result": result})

    async def _inject(self, method: str, params: dict[str, Any]) -> None:
        faults = self._faults[method]
        fault = next((f for f in faults if f.chat_id in (None, params.get("chat_id"))), None)
        if fault is None:
            return
        faults.remove(fault)
        if fault.delay:
            await asyncio.sleep(fault.delay)
            return
        if fault.status == 200:
            raise OddAnswer(fault.result)
        if fault.status == 429:
            self.rejected_429 += 1
        raise ApiError(fault.status, fault.description, fault.retry_after)

    def _pace(self, chat_id: int) -> None:
        """Telegram's limits: over them, a 429 with retry_after (counted in rejected_429)."""
        now = time.monotonic()
        window = [self._recent_sends, self._recent_by_chat[chat_id]]
        for sends in window:
            while sends and sends[0] <= now - 1.0:
                sends.popleft()
        over_global = self.global_rate is not None and len(self._recent_sends) >= self.global_rate
        over_chat = self.chat_rate is not None and len(self._recent_by_chat[chat_id]) >= max(1.0, self.chat_rate)
        if over_global or over_chat:
            self.rejected_429 += 1
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        for sends in window:
            sends.append(now)

    def _message_json(self, chat_id: int, m: ChatMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "date": m.date,
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            "text": m.text or "",
        }
        if m.reply_markup:
            out["reply_markup"] = m.reply_markup
        if m.protect_content:
            out["has_protected_content"] = True
        return out

    def _require_chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.known:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False}

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=min(timeout, 1.0))
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = params.get("url") or None
        self.webhook_secret = params.get("secret_token")
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url or "", "has_custom_certificate": False, "pending_update_count": 0}

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._require_chat(params)
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        self._pace(chat_id)
        message_id = next(self._message_ids[chat_id])
        m = ChatMessage(
            message_id,
            True,
            str(text),
            int(self.now()),
            params.get("reply_markup"),
            bool(params.get("protect_content")),
            bool(params.get("disable_notification")),
        )
        self.chats[chat_id][message_id] = m
        return self._message_json(chat_id, m)

    def _own_message(self, params: dict[str, Any]) -> tuple[int, ChatMessage]:
        chat_id = self._require_chat(params)
        m = self.chats[chat_id].get(int(params.get("message_id") or 0))
        if m is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not m.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_id, m

    async def api_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, m = self._own_message(params)
        if params.get("text") == m.text and params.get("reply_markup") == m.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        m.text = str(params.get("text") or "")
        m.reply_markup = params.get("reply_markup")
        return self._message_json(chat_id, m)

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat_id, m = self._own_message(params)
        m.reply_markup = params.get("reply_markup")
        return self._message_json(chat_id, m)

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    def _delete_one(self, chat_id: int, message_id: int) -> bool:
        m = self.chats[chat_id].get(message_id)
        if m is None or self.now() - m.date > DELETE_WINDOW:
            return False
        del self.chats[chat_id][message_id]
        self.deleted.append((chat_id, message_id))
        return True

    async def api_deleteMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._require_chat(params)
        if not self._delete_one(chat_id, int(params.get("message_id") or 0)):
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def api_deleteMessages(self, params: dict[str, Any]) -> Any:
        chat_id = self._require_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message_ids must hold 1-100 ids")
        for message_id in ids:  # missing or too old ones are skipped, as Telegram does
            self._delete_one(chat_id, int(message_id))
        return True

    async def api_leaveChat(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        self.left_chats.append(chat_id)
        return True

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True


def _parse(form: dict[str, Any]) -> dict[str, Any]:
    """PTB sends every parameter as a form field, JSON-encoded unless it is a plain string."""
    out: dict[str, Any] = {}
    for key, raw in form.items():
        value: Any = raw
        if key in JSON_FIELDS:
            value = json.loads(raw)
        elif key in INT_FIELDS:
            with contextlib.suppress(ValueError):
                value = int(raw)
        elif key in BOOL_FIELDS:
            value = str(raw).lower() in ("true", "1")
        out[key] = value
    return out
