"""Enrolment: create a case (the CLI's `case enrol`, its checks shared) and show the activation code once;
then the survivor's own screen, where she chooses her secrets in person (onboarding's rules, shared).

The code is never stored in the clear, so this page is the only place it is ever shown (and it is
`no-store`, like every page). For Telegram the page also shows the t.me link as a QR code, drawn
server-side as inline SVG, so the survivor can open it on her own phone in the meeting.
"""

from __future__ import annotations

from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup, escape

from bot.commands import secrets
from bot.commands.cases import enrol, telegram_link
from bot.commands.common import EnrolError, UserError
from bot.web import forms, mode_choice
from bot.web.access import case_for, require_role
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _
from flows.onboarding import PAUSE_BY_KEY
from safety.lexicon import AUTONYMS
from safety.secret_rules import FIELDS, vet_in_person
from storage import practitioners, services
from storage.cases import Case
from storage.db import Tx

routes = web.RouteTableDef()

CHANNEL_LABELS = {"sms": N_("SMS (text message)"), "telegram": "Telegram", "simulator": N_("Simulator (practice only)")}
CHANNEL_ORDER = ("sms", "telegram", "simulator")
INTAKE_LEVELS = (("standard", "Standard"), ("medium", "Medium"), ("high", "High"))
DEFAULTS: dict[str, Any] = {
    "channel": "",
    "address": "",
    "name": "",
    "intake": "",
    "timezone": "Europe/London",
    "windows": "",
    "no_contact_order": False,
}
MODE_FIELDS = ("mode", "theme", "secrets_on_channel", "autodelete", "thread_explained")


def _channels(request: web.Request) -> list[tuple[str, str]]:
    available = request.app[APP_KEY].survivor_channels
    ordered = [c for c in CHANNEL_ORDER if c in available] + sorted(c for c in available if c not in CHANNEL_ORDER)
    return [(c, CHANNEL_LABELS.get(c, c)) for c in ordered]


async def _idvas(request: web.Request, who: Viewer) -> list[tuple[int, str]]:
    """The IDVAs a case may be given to: a manager chooses among the service's; an IDVA takes it herself."""
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        if not who.has("manager"):
            me = await practitioners.get(tx, app.crypto, who.practitioner_id)
            return [(who.practitioner_id, me.name if me else "")]
        ids = set(await practitioners.ids_with_role(tx, who.service_id, "idva"))
        everyone = await practitioners.list_for_service(tx, app.crypto, who.service_id)
    return [(p.id, p.name) for p in everyone if p.id in ids]


async def _form_page(
    request: web.Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> web.Response:
    who = viewer(request)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
    channels = _channels(request)
    context = {
        "values": {
            **DEFAULTS,
            "channel": channels[0][0] if channels else "",
            "language": service.default_language,
            "idva": str(who.practitioner_id),
            **values,
        },
        "errors": errors,
        "channels": channels,
        "languages": [(code, AUTONYMS.get(code, code)) for code in service.languages],
        "intakes": INTAKE_LEVELS,
        "idvas": await _idvas(request, who),
        "chooses_idva": who.has("manager"),
        # The service's default is only what is pre-selected: she chooses, in person.
        "mode": {
            "mode": service.default_checkin_mode,
            "theme": service.default_cover_theme or "",
            "secrets_on_channel": False,
            "autodelete": "",
            "thread_explained": False,
            **{k: v for k, v in values.items() if k in MODE_FIELDS},
        },
        "themes": mode_choice.theme_choices(app, service, service.languages),
        "telegram": any(code == "telegram" for code, _ in channels),
        "autodelete_choices": mode_choice.AUTODELETE,
    }
    return render("enrol.html", request, context, status)


@routes.get("/cases/new")
async def new_case(request: web.Request) -> web.Response:
    require_role(viewer(request), "idva", "manager")
    return await _form_page(request, {}, {})


def _idva_choice(who: Viewer, form: dict[str, Any]) -> int | None:
    """An IDVA enrols to her own caseload; a manager names the IDVA (checked by `enrol`)."""
    if not who.has("manager"):
        return who.practitioner_id
    chosen = forms.text(form, "idva", 12).strip()
    return int(chosen) if forms.is_number(chosen) else None


@routes.post("/cases/new")
async def create_case(request: web.Request) -> web.Response:
    who = viewer(request)
    require_role(who, "idva", "manager")
    app = request.app[APP_KEY]
    form = dict(await request.post())
    values: dict[str, Any] = {name: forms.text(form, name, 200) for name in (*DEFAULTS, "language", "idva")}
    values["no_contact_order"] = forms.text(form, "no_contact_order", 8) == "yes"
    chosen, shown = mode_choice.read(form, channel_choice=True)
    values |= shown
    values["thread_explained"] = forms.text(form, "thread_explained", 4) == "yes"
    idva = _idva_choice(who, form)
    if idva is None:
        return await _form_page(request, values, {"idva": _("Choose the IDVA for this case.")}, 400)
    async with app.db.reading() as tx:
        default_mode = (await services.get(tx, who.service_id)).default_checkin_mode
    if (chosen.mode or default_mode) == "direct" and not values["thread_explained"]:
        # Plain questions stay readable in her thread: only when she chose them knowing that.
        error = _("Tick that you explained the thread stays readable, or choose cover questions.")
        return await _form_page(request, values, {"thread_explained": error}, 400)
    channel = values["channel"]
    try:
        ref, code = await enrol(
            app,
            who.service_id,
            idva=idva,
            channel=channel,
            # On Telegram she opens a link with her code: a number typed here would be taken as a chat id.
            address=None if channel == "telegram" else values["address"],
            name=values["name"].strip() or None,
            intake=values["intake"],
            no_contact_order=bool(values["no_contact_order"]),
            timezone=values["timezone"].strip(),
            language=values["language"] or None,
            windows=values["windows"].strip() or None,
            actor=who.actor,
            mode=chosen.mode or None,
            theme=chosen.theme,
            secrets_autodelete=chosen.secrets_autodelete,
        )
    except EnrolError as exc:
        return await _form_page(request, values, {exc.field: exc.plain}, 400)
    except UserError as exc:
        return await _form_page(request, values, {"form": str(exc)}, 400)
    link = telegram_link(app, code) if channel == "telegram" else None
    context = {
        "ref": ref,
        "code": code,
        "channel": channel,
        "link": link,
        "qr": _qr_svg(link) if link else None,
        "secrets_on_channel": chosen.secrets_autodelete is not None,
    }
    return render("enrol_done.html", request, context)


def _qr_svg(link: str) -> Markup:
    """The link as a QR code, inline SVG (no image request, nothing the CSP has to allow)."""
    qr = segno.make(link, error="m")
    svg = qr.svg_inline(scale=1, omitsize=True, dark="#000", light="#fff", title=_("QR code of her Telegram link"))
    return Markup(
        svg.replace("<svg ", '<svg role="img" aria-label="{}" '.format(escape(_("QR code of her Telegram link"))), 1)
    )


# ---- the survivor's own screen, on the practitioner's device in the meeting ----

PAUSES = (("1d", N_("One day")), ("3d", N_("Three days")), ("7d", N_("One week")))
SECRET_ERRORS = {
    "mismatch": N_("The two entries are not the same. Please type it again in both boxes."),
    "empty": N_("Please choose a word."),
    "too_long": N_("Please use up to 4 words, 40 letters at most."),
    "reserved": N_("That could be mistaken for an ordinary reply (like YES, STOP or a number). Please choose another."),
    "command": N_("That starts or ends with a command word (like STOP, PAUSE or HELP). Please choose another."),
    "not_digits": N_("Please use digits only."),
    "length": N_("Please use 4 to 8 digits."),
    "needs_pin": N_("Choose a first PIN before a second one, or leave both empty."),
}
SAME_AS_OTHER = {
    "codeword": N_("Please choose a word different from your exit word."),
    "duress_pin": N_("Please choose a PIN different from your first PIN."),
}
ENDED = ("closed", "withdrawn")


def _secret_error(field: str, code: str) -> str:
    return _(SAME_AS_OTHER[field] if code == "same_as_other" else SECRET_ERRORS[code])


async def _secrets_case(request: web.Request, action: str) -> Case:
    """Her case, through the per-record check (audited); an ended case takes no new secrets."""
    case = await case_for(request, request.match_info["ref"], action)
    if case.status in ENDED:
        raise web.HTTPConflict(text=_("This case has ended: nothing can be set."))
    return case


def _secrets_page(
    request: web.Request, case: Case, errors: dict[str, str], pause: str, status: int = 200
) -> web.Response:
    # No navigation and no case data: she holds the device. Only whether her words are already set.
    context = {
        "nav": [],
        "ref": case.ref,
        "already_set": case.exit_word_hash is not None,
        "errors": errors,
        "pauses": PAUSES,
        "pause": pause,
    }
    return render("enrol_secrets.html", request, context, status)


@routes.get("/cases/{ref}/secrets")
async def secrets_screen(request: web.Request) -> web.Response:
    case = await _secrets_case(request, "secrets_screen_opened")
    return _secrets_page(request, case, {}, "1d")


@routes.post("/cases/{ref}/secrets")
async def set_secrets(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    app = request.app[APP_KEY]
    case = await _secrets_case(request, "secrets_screen_submitted")
    form = await request.post()
    first = {name: forms.text(form, name, 200) for name in FIELDS}
    again = {name: forms.text(form, name + "_again", 200) for name in FIELDS}
    pause = forms.text(form, "exit_pause", 4)
    chosen, problems = vet_in_person(first, again, app.crypto.secret_hasher(case.salt))
    errors = {field: _secret_error(field, code) for field, code in problems.items()}
    if pause not in PAUSE_BY_KEY:
        errors["exit_pause"] = _("Please choose how long to wait.")
    if chosen is None or errors:
        return _secrets_page(request, case, errors, pause if pause in PAUSE_BY_KEY else "1d", 400)
    now = app.clock.now()

    async def store(tx: Tx) -> None:
        await secrets.store(tx, case.id, chosen, pause, who.actor, now)
        await tx.commit()

    await app.db.run(store)
    raise web.HTTPSeeOther(f"/cases/{case.ref}/secrets/done")


@routes.get("/cases/{ref}/secrets/done")
async def secrets_done(request: web.Request) -> web.Response:
    case = await case_for(request, request.match_info["ref"], "secrets_screen_opened")
    return render("enrol_secrets_done.html", request, {"nav": [], "ref": case.ref})
