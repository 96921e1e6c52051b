"""The question set page: upload a file or edit the text, checked as `safecheck service set
--questionset` checks it (one line on an error, nothing saved), and a preview that runs the draft
through the real pipeline on a throw-away database (bot.web.preview), never on real cases.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources

from aiohttp import web
from aiohttp.web_request import FileField

from bot.commands import service as service_commands
from bot.commands.common import UserError
from bot.web import forms
from bot.web.keys import APP_KEY
from bot.web.manage import configurer
from bot.web.preview import MAX_REPLIES, Line, run_preview
from bot.web.render import render
from bot.web.viewer import Viewer
from bot.web.words import _
from flows.loader import DEFAULT_RESOURCE, QuestionSetError
from storage import audit, case_mode, services
from storage.db import Tx

routes = web.RouteTableDef()
PAGE = "/manage/questions"
MAX_TEXT = 48 * 1024  # under the server's 64 KiB request limit, with room for the form's other fields
REPLY_LIMIT = 300


def default_text() -> str:
    return resources.files("flows").joinpath(DEFAULT_RESOURCE).read_text(encoding="utf-8")


def _summary(text: str | None, qs_id: str, version: int) -> dict[str, object]:
    """How the audit log records a question set: which, and a fingerprint of its text (not the text)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16] if text is not None else "default"
    return {"id": qs_id, "version": version, "sha256": digest}


async def _page(request: web.Request, who: Viewer, status: int = 200, **extra: object) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
    current = app.questionset(s.questionset)
    context: dict[str, object] = {
        "current_id": current.id,
        "current_version": current.version,
        "custom": s.questionset is not None,
        "text": s.questionset if s.questionset is not None else default_text(),
        "errors": {},
        "notice": {"saved": "Question set saved.", "reset": "Back to the default question set."}.get(
            request.query.get("done", "")
        ),
        "conversation": None,
        "transcript": "[]",
    }
    context.update(extra)
    return render("manage_questions.html", request, context, status)


@routes.get(PAGE)
async def questions_page(request: web.Request) -> web.Response:
    return await _page(request, configurer(request))


def _uploaded(form: object) -> tuple[str | None, str]:
    """The uploaded file's text and name, if a file was chosen; a one-line UserError if unreadable."""
    upload = form.get("file") if hasattr(form, "get") else None
    if not isinstance(upload, FileField) or not upload.filename:
        return None, ""
    raw = upload.file.read(MAX_TEXT + 1)
    if len(raw) > MAX_TEXT:
        raise UserError(f"the file {upload.filename} is larger than {MAX_TEXT // 1024} KiB")
    try:
        return raw.decode("utf-8"), upload.filename
    except UnicodeDecodeError:
        raise UserError(f"the file {upload.filename} is not UTF-8 text") from None


def _check(
    request: web.Request, text: str, source: str, languages: tuple[str, ...], themes: list[str] | None = None
) -> str | None:
    """The CLI's check of a question set; the one-line problem, or None."""
    if len(text) > MAX_TEXT:
        return _("The question set is larger than {n} KiB.").format(n=MAX_TEXT // 1024)
    try:
        service_commands.check_questionset(request.app[APP_KEY], text, source, languages, themes or ())
    except (QuestionSetError, UserError) as exc:
        return str(exc)
    return None


@routes.post(PAGE)
async def save(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    try:
        uploaded, filename = _uploaded(form)
    except UserError as exc:
        return await _page(request, who, 400, errors={"file": str(exc)})
    field = "file" if uploaded is not None else "text"
    text = uploaded if uploaded is not None else forms.text(form, "text", MAX_TEXT + 1)
    source = filename if uploaded is not None else "question set"
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
        themes = await case_mode.themes_in_use(tx, who.service_id)
    problem = _check(request, text, source, s.languages, themes)
    if problem:
        return await _page(request, who, 400, errors={field: problem}, text=text)
    await _store(request, who, text)
    raise web.HTTPSeeOther(f"{PAGE}?done=saved")


@routes.post(PAGE + "/default")
async def reset(request: web.Request) -> web.Response:
    who = configurer(request)
    await _store(request, who, None)
    raise web.HTTPSeeOther(f"{PAGE}?done=reset")


async def _store(request: web.Request, who: Viewer, text: str | None) -> None:
    app = request.app[APP_KEY]
    now = app.clock.now()
    new = app.questionset(text)

    async def unit(tx: Tx) -> None:
        s = await services.get(tx, who.service_id)
        if s.questionset == text:
            return
        old = app.questionset(s.questionset)
        before = {"questionset": _summary(s.questionset, old.id, old.version)}
        after = {"questionset": _summary(text, new.id, new.version)}
        await services.update(tx, who.service_id, questionset=text)
        await audit.log(tx, now, who.actor, "questionset_set", None, audit.changed(before, after), who.service_id)
        await tx.commit()

    await app.db.run(unit)


def _transcript(text: str) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [str(v)[:REPLY_LIMIT] for v in value if isinstance(v, str)][:MAX_REPLIES]


@routes.post(PAGE + "/preview")
async def preview(request: web.Request) -> web.Response:
    """Run the draft in the textarea: the check-in it gives, and the bot's answer to each typed reply."""
    who = configurer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    text = forms.text(form, "text", MAX_TEXT + 1)
    replies = _transcript(forms.text(form, "transcript", 64 * 1024))
    reply = " ".join(forms.text(form, "reply", REPLY_LIMIT).split())
    if reply and len(replies) < MAX_REPLIES:
        replies.append(reply)
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
    problem = _check(request, text, "question set", s.languages)
    if problem:
        return await _page(request, who, 400, errors={"text": problem}, text=text)
    try:
        conversation: list[Line] = await run_preview(app, s, text, replies)
    except UserError as exc:  # e.g. a time zone in which the practice check-in cannot start
        return await _page(
            request, who, 400, errors={"text": _("The preview could not run: {exc}").format(exc=exc)}, text=text
        )
    now = app.clock.now()

    async def previewed(tx: Tx) -> None:
        await audit.log(tx, now, who.actor, "questionset_previewed", None, "", who.service_id)
        await tx.commit()

    await app.db.run(previewed)
    return await _page(request, who, text=text, conversation=conversation, transcript=json.dumps(replies))
