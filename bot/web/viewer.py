"""Who is asking: the authenticated person behind a workspace request."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Viewer:
    practitioner_id: int
    service_id: int
    roles: frozenset[str]
    on_duty: bool
    session_id: int

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"practitioner:{self.practitioner_id}"

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_cases(self) -> bool:
        """Admin alone configures and sees no case content."""
        return self.has("idva", "duty", "manager")

    @property
    def is_partner(self) -> bool:
        """A partner agency's person: they see the shares sent to them, and nothing else."""
        return "partner" in self.roles


# The only workspace pages a partner's person may open (the session middleware refuses every other one):
# their shares, their own account, the home page that sends them to their shares, the session check, logout.
PARTNER_PATHS = re.compile(r"/(shares(/.*)?|account(/.*)?|session|logout|)")


def partner_may_open(path: str) -> bool:
    return PARTNER_PATHS.fullmatch(path) is not None


VIEWER = web.RequestKey("safecheck.viewer", Viewer)


def viewer(request: web.Request) -> Viewer:
    """The fully logged-in person (the session middleware has sent everyone else to /login)."""
    found: Viewer | None = request.get(VIEWER)
    if found is None:
        raise web.HTTPSeeOther("/login")
    return found
