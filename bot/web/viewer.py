"""Who is asking: the authenticated person behind a workspace request."""

from __future__ import annotations

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


VIEWER = web.RequestKey("safecheck.viewer", Viewer)


def viewer(request: web.Request) -> Viewer:
    """The fully logged-in person (the session middleware has sent everyone else to /login)."""
    found: Viewer | None = request.get(VIEWER)
    if found is None:
        raise web.HTTPSeeOther("/login")
    return found
