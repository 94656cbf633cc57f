"""The FastAPI app: ``create_app(...)`` wires the services, the routes, the error handlers,
``/metrics`` and the docs (Swagger UI served from the package: no CDN).

Routes are thin (``routes_*.py``): each authenticates with :func:`spine.api.auth.require`,
calls the library through :class:`~spine.api.service.Services` and returns its typed
result as JSON. Blocking library calls run in the thread pool (``anyio.to_thread``), so a
slow database never stalls the event loop that serves the other requests and the
event streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from spine.api.service import Services
    from spine.store import StoreTuning
    from spine.workspace import Workspace

#: Where the package's static files are (the vendored Swagger UI).
STATIC = Path(__file__).parent / "static"
#: The prefix of the JSON API.
API_PREFIX = "/api/v1"


def create_app(
    workspace: Workspace | None = None,
    *,
    services: Services | None = None,
    database: str | None = None,
    workers: int | None = None,
    open_mode: bool = False,
    tuning: StoreTuning | None = None,
) -> FastAPI:
    """The app over ``services`` — or over services built from ``workspace`` (default:
    the configuration found from the working directory), its store at ``database``
    (default: the configured one), with ``workers`` run-worker threads. The app owns
    services it built and closes them at shutdown. ``open_mode``: let requests without a
    token in as admin while no token exists (see :mod:`spine.api.auth`; only on loopback)."""
    from fastapi import FastAPI
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    from spine import __version__
    from spine.api import problems
    from spine.api.routes_groups import router as groups_router
    from spine.api.routes_ops import public_router, router as ops_router
    from spine.api.routes_runs import router as runs_router
    from spine.api.service import DEFAULT_WORKERS, build_services

    owned = services is None
    if services is None:
        if workspace is None:
            from spine.config import load_settings
            from spine.workspace import Workspace

            workspace = Workspace(load_settings())
        services = build_services(workspace, database=database, workers=workers or DEFAULT_WORKERS, open_mode=open_mode, tuning=tuning)
    built = services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            from anyio import to_thread

            await to_thread.run_sync(built.close)

    app = FastAPI(
        title="spine", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        description="Pipeline groups and their runs over HTTP: the same library calls as the `spine` CLI. "
        "Errors are RFC 9457 problem details. Authenticate with `Authorization: Bearer <token>` (`spine token create`).",
    )
    app.state.spine = built
    problems.install(app)
    app.include_router(groups_router, prefix=API_PREFIX)
    app.include_router(runs_router, prefix=API_PREFIX)
    app.include_router(ops_router, prefix=API_PREFIX)
    app.include_router(public_router, prefix=API_PREFIX)
    app.include_router(public_router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="spine API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    from spine.api.dashboard import dashboard_router

    app.include_router(dashboard_router())  # the dashboard's pages at /
    return app


__all__ = ["API_PREFIX", "STATIC", "create_app"]
