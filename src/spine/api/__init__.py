"""``spine serve``: the HTTP API, the dashboard and ``/metrics`` — a thin shell over the
same library calls as the CLI.

:func:`create_app` builds the FastAPI app; :class:`Services` (``app.state.spine``) holds the
store, the workspace, the groups, the run workers (:class:`RunService`) and the tokens;
:mod:`.auth` says who may do what (:class:`Role`, :class:`Principal`, :func:`require`).
FastAPI is imported only when an app is built (``spine --help`` stays fast).
"""

from spine.api.auth import CSRF_COOKIE, CSRF_HEADER, TOKEN_COOKIE, Principal, Role, authenticate, require
from spine.api.problems import PROBLEM_JSON, Problem
from spine.api.service import RunService, Services, build_services


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`spine.api.app.create_app` (imported lazily: it imports FastAPI)."""
    from spine.api.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "PROBLEM_JSON",
    "TOKEN_COOKIE",
    "Principal",
    "Problem",
    "Role",
    "RunService",
    "Services",
    "authenticate",
    "build_services",
    "create_app",
    "require",
]
