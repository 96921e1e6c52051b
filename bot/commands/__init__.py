"""Manager and practitioner commands, shared by the CLI, the demo and (later) the dashboard."""

from bot.commands.alerts import ack, list_alerts
from bot.commands.cases import checkin_now, enrol, list_cases, set_status, show_case
from bot.commands.common import (
    UserError,
    case_by_ref,
    check_sender_name,
    check_service_name,
    check_slug,
    check_timezone,
    operator,
    service_id,
)
from bot.commands.practitioners import (
    add_practitioner,
    invite,
    link_code,
    list_practitioners,
    read_inbox,
    reset_account,
)
from bot.commands.schedules import set_schedule, show_schedule
from bot.commands.secrets import set_in_person as set_secrets
from bot.commands.service import configure_service, set_languages, show_languages, show_service

__all__ = [
    "UserError",
    "ack",
    "add_practitioner",
    "case_by_ref",
    "check_sender_name",
    "check_service_name",
    "check_slug",
    "check_timezone",
    "checkin_now",
    "configure_service",
    "enrol",
    "invite",
    "link_code",
    "list_alerts",
    "list_cases",
    "list_practitioners",
    "operator",
    "read_inbox",
    "reset_account",
    "service_id",
    "set_languages",
    "set_schedule",
    "set_secrets",
    "set_status",
    "show_case",
    "show_languages",
    "show_schedule",
    "show_service",
]
