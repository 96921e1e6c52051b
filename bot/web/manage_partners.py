"""Manage → Partners: the service's partner agencies, their information-sharing agreements, and their people.

Managers only (not admins): a partner and its people decide where a survivor's information can go, which
is as much a reading right as the roles only a manager gives. A partner's people are practitioners with the
role 'partner' and reuse alert channels (storage.practitioners.add). Bad input is one line next to its field
and nothing is saved; the audit detail holds ids and codes only, never a name, reference or address.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.commands.common import UserError
from bot.commands.practitioners import parse_channel
from bot.web import forms
from bot.web.access import require_role
from bot.web.keys import APP_KEY, WORKSPACE_KEY
from bot.web.render import render
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_, _, maybe
from safety.sharing import KIND_LABELS as SHARE_LABELS
from safety.sharing import Agreement, Basis, Kind
from storage import accounts, audit, partners, practitioners
from storage.db import Tx
from storage.practitioners import ChannelAddress

routes = web.RouteTableDef()
PAGE = "/manage/partners"
NAME_LIMIT = 80
REF_LIMIT = 60
MAX_CHANNELS = 5
# Not "log" (the server's log is no way to reach another agency) nor "inbox" (their workspace login is set up
# with the partner role elsewhere).
PARTNER_CHANNELS = ("email", "sms", "telegram")
ACK_RANGE = (5, 7 * 24 * 60)  # minutes: from five minutes to a week
KIND_LABELS = {
    "drive": N_("Drive (case management of the perpetrator)"),
    "marac": N_("Marac coordinator"),
    "police": N_("Police domestic abuse unit"),
    "childrens_social_care": N_("Children's social care"),
    "probation": "Probation",
    "other": "Other",
}
BASIS_LABELS = {
    "consent": "Consent",
    "vital_interests": N_("Vital interests"),
    "public_task": N_("Public task"),
    "safeguarding": "Safeguarding",
}
NOTICES = {
    "partner": N_("Partner saved."),
    "person": N_("Their person is saved."),
    "agreement": N_("The agreement is changed."),
    "ended": N_("The agreement has ended: nothing more is shared with that partner. What was shared stays on record."),
    "duty": N_("The duty contact is changed."),
}


def manager(request: web.Request) -> Viewer:
    who = viewer(request)
    require_role(who, "manager")
    return who


def _blank_partner() -> dict[str, Any]:
    return {"name": "", "kind": "", "agreement_ref": "", "basis": "", "kinds": [], "personal": False, "ack": "30"}


def _blank_person() -> dict[str, Any]:
    return {"partner": "", "name": "", "channels": "", "duty": False}


async def _page(request: web.Request, who: Viewer, status: int = 200, **extra: Any) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        found = await partners.of_service(tx, who.service_id)
        people = await partners.people_of_service(tx, app.crypto, who.service_id)
        with_account = {x.id for x in people if await accounts.get_account(tx, app.crypto, x.id) is not None}
    context: dict[str, Any] = {
        "with_account": with_account,
        "link": None,
        "partners": found,
        "people": {p.id: [x for x in people if x.partner_id == p.id] for p in found},
        "kind_labels": KIND_LABELS,
        "basis_labels": BASIS_LABELS,
        "share_labels": SHARE_LABELS,
        "partner_form": _blank_partner(),
        "person_form": _blank_person(),
        "errors": {},
        "edit_forms": {},
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
    }
    context.update(extra)
    return render("manage_partners.html", request, context, status)


@routes.get(PAGE)
async def partners_page(request: web.Request) -> web.Response:
    return await _page(request, manager(request))


def _clean(value: str) -> str:
    return " ".join(value.split())


def _text_problem(value: str, limit: int, missing: str) -> str | None:
    if not value:
        return missing
    if len(value) > limit or not value.isprintable():
        return _("Use at most {limit} printable characters.").format(limit=limit)
    return None


def agreement_values(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The agreement's fields from a form (the add form, or a partner's edit form) and one line per bad field."""
    values: dict[str, Any] = {
        "agreement_ref": _clean(forms.text(form, "agreement_ref", 200)),
        "basis": forms.text(form, "basis", 40),
        "kinds": [k for k in form.getall("kinds", []) if isinstance(k, str)],
        "personal": forms.text(form, "personal", 4) == "yes",
        "ack": forms.text(form, "ack_minutes", 10).strip(),
    }
    errors: dict[str, str] = {}
    problem = _text_problem(
        values["agreement_ref"], REF_LIMIT, _("Give the information-sharing agreement's reference.")
    )
    if problem:
        errors["agreement"] = problem
    if values["basis"] not in BASIS_LABELS:
        errors["basis"] = _("Choose the lawful basis the agreement gives.")
    if not set(values["kinds"]) <= set(SHARE_LABELS):
        errors["kinds"] = _("Choose the kinds of information from the list.")
    low, high = ACK_RANGE
    if not forms.is_number(values["ack"]) or not low <= int(values["ack"]) <= high:
        errors["ack"] = _("Give a whole number of minutes from {low} to {high}.").format(low=low, high=high)
    return values, errors


def agreement_of(values: dict[str, Any]) -> Agreement:
    kinds = frozenset(Kind(k) for k in values["kinds"])
    return Agreement(values["agreement_ref"], Basis(values["basis"]), kinds, values["personal"])


@routes.post(PAGE)
async def add_partner(request: web.Request) -> web.Response:
    who = manager(request)
    app = request.app[APP_KEY]
    form = await request.post()
    values, problems = agreement_values(form)
    values.update(name=_clean(forms.text(form, "name", 200)), kind=forms.text(form, "kind", 40))
    errors: dict[str, str] = {}
    problem = _text_problem(values["name"], NAME_LIMIT, _("Give the partner's name."))
    if problem:
        errors["partner_name"] = problem
    if values["kind"] not in KIND_LABELS:
        errors["partner_kind"] = _("Choose what kind of partner this is.")
    errors.update({f"partner_{field}": line for field, line in problems.items()})
    if errors:
        return await _page(request, who, 400, errors=errors, partner_form=values)
    agreement = agreement_of(values)
    kinds = agreement.kinds
    now = app.clock.now()

    async def unit(tx: Tx) -> bool:
        try:
            pid = await partners.create_unique(
                tx, who.service_id, values["name"], values["kind"], agreement, now, int(values["ack"])
            )
        except partners.NameTaken:
            return False
        detail = (
            f"partner={pid} kind={values['kind']} basis={agreement.basis.value} "
            f"kinds={','.join(sorted(k.value for k in kinds)) or '-'} "
            f"personal_details={int(agreement.personal_details)} "
            f"ack_minutes={int(values['ack'])}"
        )
        await audit.log(tx, now, who.actor, "partner_added", None, detail, who.service_id)
        await tx.commit()
        return True

    if not await app.db.run(unit):
        errors = {"partner_name": _("The service already has a partner of that name.")}
        return await _page(request, who, 400, errors=errors, partner_form=values)
    raise web.HTTPSeeOther(f"{PAGE}?done=partner")


def _channels(text: str) -> list[ChannelAddress]:
    """One alert channel a line, as for practitioners ("email:x@y", "sms:+44...", "telegram"); UserError if bad."""
    specs = [line.strip() for line in text.splitlines() if line.strip()]
    if not specs:
        raise UserError(_("Give at least one way to reach them, e.g. email:name@agency.example."))
    if len(specs) > MAX_CHANNELS:
        raise UserError(_("Give at most {max_channels} channels.").format(max_channels=MAX_CHANNELS))
    channels = [parse_channel(spec) for spec in specs]
    if any(c.channel not in PARTNER_CHANNELS for c in channels):
        raise UserError(
            _("A partner's person is reached by {channels} only.").format(channels=", ".join(PARTNER_CHANNELS))
        )
    return channels


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@routes.post(PAGE + "/people")
async def add_person(request: web.Request) -> web.Response:
    who = manager(request)
    app = request.app[APP_KEY]
    form = await request.post()
    values: dict[str, Any] = {
        "partner": forms.text(form, "partner", 12),
        "name": _clean(forms.text(form, "name", 200)),
        "channels": forms.text(form, "channels", 1000),
        "duty": forms.text(form, "duty", 4) == "yes",
    }
    async with app.db.reading() as tx:
        ours = {p.id: p for p in await partners.of_service(tx, who.service_id)}
    errors: dict[str, str] = {}
    if not forms.is_number(values["partner"]) or int(values["partner"]) not in ours:
        errors["person_partner"] = _("Choose one of the service's partners.")
    problem = _text_problem(values["name"], NAME_LIMIT, _("Give the person's name."))
    if problem:
        errors["person_name"] = problem
    channels: list[ChannelAddress] = []
    try:
        channels = _channels(values["channels"])
    except UserError as exc:
        errors["person_channels"] = _sentence(str(exc))
    if errors:
        return await _page(request, who, 400, errors=errors, person_form=values)
    partner_id = int(values["partner"])
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        pid = await practitioners.add(
            tx,
            app.crypto,
            who.service_id,
            "partner",
            values["name"],
            channels,
            now,
            partner_id=partner_id,
            partner_duty=values["duty"],
        )
        detail = (
            f"practitioner={pid} partner={partner_id} duty={int(values['duty'])} "
            f"channels={','.join(c.channel for c in channels)}"
        )  # never the name or an address: personal data
        await audit.log(tx, now, who.actor, "partner_person_added", None, detail, who.service_id)
        await tx.commit()

    await app.db.run(unit)
    raise web.HTTPSeeOther(f"{PAGE}?done=person")


@routes.post(PAGE + r"/people/{pid:[0-9]{1,12}}/invite")
async def invite_person(request: web.Request) -> web.Response:
    """A one-time link (3 days) with which a partner's person makes their workspace account: the staff
    invitation, keyed by their existing practitioner row, so the same password rules and second factor."""
    who = manager(request)
    app = request.app[APP_KEY]
    pid = int(request.match_info["pid"])
    now = app.clock.now()

    async def unit(tx: Tx) -> str | None:
        people = await partners.people_of_service(tx, app.crypto, who.service_id)
        if pid not in {x.id for x in people}:
            return None
        token = await accounts.invite_existing(tx, app.crypto, pid, who.actor, now)
        if token is None:
            return ""
        await audit.log(
            tx, now, who.actor, "invitation_created", None, f"practitioner={pid} roles=partner", who.service_id
        )
        await tx.commit()
        return token

    token = await app.db.run(unit)
    if token is None:
        raise web.HTTPNotFound(text=_("No such partner's person."))
    if not token:
        return await _page(request, who, 400, errors={"invite": _("They already have a workspace account.")})
    link = f"{request.app[WORKSPACE_KEY].origin}/invite/{token}"
    notice = _("Invitation created. Give them the link now: it is shown only once and works once, for 3 days.")
    return await _page(request, who, link=link, notice=notice)


# --- changing a partner's agreement, and who is its duty contact ------------------------------------------


def _partner_id(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not forms.is_number(text) or len(text) > 12:
        raise web.HTTPNotFound()
    return int(text)


@routes.post(PAGE + "/{partner:[0-9]{1,12}}/agreement")
async def change_agreement(request: web.Request) -> web.Response:
    """A new reference, basis, kinds, personal details or minutes; what was shared before stays as recorded."""
    who = manager(request)
    app = request.app[APP_KEY]
    partner_id = _partner_id(request, "partner")
    values, problems = agreement_values(await request.post())
    async with app.db.reading() as tx:
        ours = {p.id for p in await partners.of_service(tx, who.service_id)}
    if partner_id not in ours:
        raise web.HTTPNotFound()
    if problems:
        errors = {f"edit_{partner_id}_{field}": line for field, line in problems.items()}
        return await _page(request, who, 400, errors=errors, edit_forms={partner_id: values})
    agreement = agreement_of(values)
    now = app.clock.now()

    async def unit(tx: Tx) -> bool:
        if not await partners.update_agreement(tx, who.service_id, partner_id, agreement, int(values["ack"])):
            return False
        detail = (
            f"partner={partner_id} basis={agreement.basis.value} "
            f"kinds={','.join(sorted(k.value for k in agreement.kinds)) or '-'} "
            f"personal_details={int(agreement.personal_details)} ack_minutes={int(values['ack'])}"
        )
        await audit.log(tx, now, who.actor, "partner_agreement_changed", None, detail, who.service_id)
        await tx.commit()
        return True

    if not await app.db.run(unit):
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(f"{PAGE}?done=agreement#partner-{partner_id}")


@routes.post(PAGE + "/{partner:[0-9]{1,12}}/end")
async def end_agreement(request: web.Request) -> web.Response:
    """End the agreement with a partner (it was withdrawn or replaced): nothing more goes to them."""
    who = manager(request)
    app = request.app[APP_KEY]
    partner_id = _partner_id(request, "partner")
    if forms.text(await request.post(), "confirm", 4) != "yes":
        errors = {f"end_{partner_id}": _("Tick the box to confirm that the agreement has ended.")}
        return await _page(request, who, 400, errors=errors)
    now = app.clock.now()

    async def unit(tx: Tx) -> bool:
        if not await partners.end_agreement(tx, who.service_id, partner_id):
            return False
        await accounts.end_partner_sessions(tx, partner_id, now)  # their workspace closes with the agreement
        await audit.log(tx, now, who.actor, "partner_agreement_ended", None, f"partner={partner_id}", who.service_id)
        await tx.commit()
        return True

    if not await app.db.run(unit):
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(f"{PAGE}?done=ended")


@routes.post(PAGE + "/people/{person:[0-9]{1,12}}/duty")
async def change_duty(request: web.Request) -> web.Response:
    """Mark (duty=yes) or unmark (duty=no) one of the service's partner people as the partner's duty contact."""
    who = manager(request)
    app = request.app[APP_KEY]
    person_id = _partner_id(request, "person")
    choice = forms.text(await request.post(), "duty", 4)
    if choice not in ("yes", "no"):
        return await _page(request, who, 400, errors={f"duty_{person_id}": _("Choose to mark or unmark them.")})
    now = app.clock.now()

    async def unit(tx: Tx) -> int | None:
        partner_id = await partners.set_duty(tx, who.service_id, person_id, choice == "yes")
        if partner_id is None:
            return None
        detail = f"practitioner={person_id} partner={partner_id} duty={int(choice == 'yes')}"
        await audit.log(tx, now, who.actor, "partner_duty_changed", None, detail, who.service_id)
        await tx.commit()
        return partner_id

    partner_id = await app.db.run(unit)
    if partner_id is None:
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(f"{PAGE}?done=duty#partner-{partner_id}")
