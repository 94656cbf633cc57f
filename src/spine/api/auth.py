"""Who may do what: bearer tokens with roles, for the API and the dashboard alike.

A request is authenticated by ``Authorization: Bearer <token>`` or, from the dashboard's
browser, by the cookie :data:`TOKEN_COOKIE` (set by its login form: ``HttpOnly``,
``SameSite=Strict``, ``Path=/``). A request authenticated by the cookie that changes
something (POST, PUT, PATCH, DELETE) must also carry the CSRF double-submit token: the
header ``X-CSRF-Token`` (or the form field ``csrf_token``) equal to the cookie
:data:`CSRF_COOKIE` (readable by the page's JS, not ``HttpOnly``). A bearer header needs
no CSRF token: a browser never adds one by itself.

Roles are ordered (:class:`Role`): ``viewer`` reads; ``operator`` also runs, cancels,
resumes and replays; ``admin`` also writes group definitions. A missing or unknown token
is a 401 (with ``WWW-Authenticate: Bearer``), a weaker role than the endpoint needs a 403.

**Open mode.** A server started with no token configured binds to loopback only
(``spine serve`` refuses anything else) and lets requests without a token in as
``admin`` (:data:`LOCAL_PRINCIPAL`) — the local, single-user case. A token that *is*
given is still checked, and as soon as any token exists the server requires them.
Tokens are never logged; a token's id and name are.
"""

from __future__ import annotations

import enum
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spine.api.problems import Problem

if TYPE_CHECKING:
    from spine.api.service import Services

#: The dashboard's session cookie: the token itself (HttpOnly, SameSite=Strict, Path=/).
TOKEN_COOKIE = "spine_token"
#: The CSRF double-submit cookie (readable by the page's JS).
CSRF_COOKIE = "spine_csrf"
#: The header (or form field ``csrf_token``) that must repeat :data:`CSRF_COOKIE`.
CSRF_HEADER = "X-CSRF-Token"
#: Methods that change something (they need the CSRF token when a cookie authenticates).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Role(enum.IntEnum):
    """What a token may do; a higher role may do everything a lower one may."""

    viewer = 1  #: read groups, runs, reports, events, dead letters
    operator = 2  #: also start, cancel and resume runs, replay dead letters
    admin = 3  #: also create, change and delete group definitions

    @classmethod
    def parse(cls, text: str) -> Role:
        return cls[text.lower()]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request."""

    token_id: str
    role: Role
    name: str


#: Who a request without a token is in open mode (no token configured, loopback only).
LOCAL_PRINCIPAL = Principal("local", Role.admin, "local (no tokens configured)")


#: Seconds a token found valid is trusted without asking the store again (a revoke takes
#: effect within this time).
TOKEN_CACHE_SECONDS = 1.0


class TokenCache:
    """Valid tokens seen lately, by their hash (never the token itself): most requests then
    cost no database read for authentication."""

    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._seen: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        hit = self._seen.get(digest)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, digest: str, principal: Principal) -> None:
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[digest] = (time.monotonic(), principal)


def authenticate(services: Services, token: str) -> Principal | None:
    """The principal ``token`` belongs to (``None``: no such active token)."""
    from spine.store.tokens import hash_token

    if not token:
        return None
    digest = hash_token(token)
    cache: TokenCache | None = getattr(services, "token_cache", None)
    if cache is not None and (hit := cache.get(digest)) is not None:
        return hit
    found = services.tokens.lookup(token)
    if found is None:
        return None
    principal = Principal(found.id, Role.parse(found.role.value), found.name)
    if cache is not None:
        cache.put(digest, principal)
    return principal


class OpenMode:
    """Whether requests without a token are let in (see the module docstring): only when
    the server was started open and no token exists yet (asked at most every second)."""

    def __init__(self, services: Services, enabled: bool) -> None:
        self.services = services
        self.enabled = enabled
        self._checked_at = 0.0

    def active(self) -> bool:
        if not self.enabled:
            return False
        now = time.monotonic()
        if now - self._checked_at > 1.0:
            self._checked_at = now
            if self.services.tokens.any_active():
                self.enabled = False  # a token was created: from now on tokens are required
        return self.enabled


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, kind="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="spine"'})


async def principal_of(request: Any) -> Principal:
    """Authenticate a request (bearer header, or cookie + CSRF for unsafe methods)."""
    services: Services = request.app.state.spine
    header = request.headers.get("authorization", "")
    token = ""
    via_cookie = False
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("the Authorization header must be 'Bearer <token>'")
        token = value.strip()
    elif request.cookies.get(TOKEN_COOKIE):
        token = request.cookies[TOKEN_COOKIE]
        via_cookie = True
    if not token:
        if await services.read(services.open_mode.active):
            return LOCAL_PRINCIPAL
        raise _unauthorized("this endpoint needs a token: send 'Authorization: Bearer <token>' (spine token create makes one)")
    from spine.store.tokens import hash_token

    cached = services.token_cache.get(hash_token(token))
    principal = cached if cached is not None else await services.read(authenticate, services, token)
    if principal is None:
        raise _unauthorized("the token is not valid (unknown or revoked); spine token create makes a new one")
    if via_cookie and request.method in UNSAFE_METHODS:
        await _check_csrf(request)
    return principal


async def _check_csrf(request: Any) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise Problem(403, f"a request authenticated by the session cookie must repeat the {CSRF_COOKIE} cookie in the {CSRF_HEADER} header",
                      kind="csrf")


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the request's principal, at least ``role`` (else 401/403)."""
    import inspect

    from fastapi import Request, Security
    from fastapi.security import HTTPBearer

    bearer = HTTPBearer(auto_error=False, description="A token from `spine token create --role …`")

    async def dependency(request: Any, _scheme: Any = None) -> Principal:
        principal = await principal_of(request)
        if principal.role < role:
            raise Problem(403, f"this needs the {role.name} role; the token {principal.name!r} is {principal.role.name}", kind="forbidden")
        request.state.principal = principal
        return principal

    # real classes, not the strings `from __future__ import annotations` leaves (FastAPI reads these)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", kind, annotation=Request), inspect.Parameter("_scheme", kind, default=Security(bearer), annotation=Any)],
        return_annotation=Principal,
    )
    dependency.__name__ = f"require_{role.name}"
    return dependency


__all__ = ["CSRF_COOKIE", "CSRF_HEADER", "LOCAL_PRINCIPAL", "TOKEN_COOKIE", "UNSAFE_METHODS", "TOKEN_CACHE_SECONDS", "OpenMode", "Principal", "Role", "TokenCache", "authenticate", "require"]
