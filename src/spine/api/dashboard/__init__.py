"""The dashboard at ``/``: server-rendered pages (Jinja2, sandboxed and autoescaped) and a
small vanilla script, over the same services as the JSON API, behind a token login.

:func:`dashboard_router` (:mod:`.routes`) is what ``create_app`` includes; the pages'
data are frozen view models built by the pure functions of :mod:`.views`. FastAPI is
imported only when the router is built.
"""

from __future__ import annotations

from typing import Any


def dashboard_router() -> Any:
    """The dashboard's routes, to include in the API's app (see :mod:`.routes`)."""
    from spine.api.dashboard.routes import dashboard_router as build

    return build()


__all__ = ["dashboard_router"]
