"""The dashboard's routes: server-rendered pages over the same services as the JSON API.

Pages (``GET``, HTML): ``/`` the groups, ``/groups/{name}`` a group, ``/runs`` the runs,
``/runs/{run_id}`` a run, ``/login``. Live parts, polled by ``dashboard.js``:
``/dashboard/groups/{name}/live`` (JSON: the latest run and each step's status by node id),
``/dashboard/runs/rows`` (the runs table's rows) and ``/dashboard/runs/{run_id}/body`` (a
run page's body; header ``X-Run-Active``). Static files: ``/dashboard/static/{name}``.

Nothing here writes to the store: the pages' buttons call the JSON API
(``POST /api/v1/groups/{name}/runs``, ``/runs/{id}/cancel``, ``/runs/{id}/resume``,
``/dlq/{id}/replay``), which checks the role and the CSRF token again. A page shows a
button only to a role that may use it.

**Sessions.** ``POST /login`` takes a token (form field ``token``), checks it, and sets the
cookie ``spine_token`` (the token; ``HttpOnly``, ``SameSite=Strict``, ``Path=/``, ``Secure``
over HTTPS) and a fresh ``spine_csrf`` (readable by the page's script, which repeats it in
``X-CSRF-Token``). The login form itself carries a CSRF token too (a login-CSRF attacker
cannot sign a browser in under their token), as does ``POST /logout``. A page requested
without a valid session redirects to ``/login?next=…`` (``next`` is kept only when it is
a path on this server). Every page is sent with a Content-Security-Policy that allows
scripts from this origin only, no frames and no form posts elsewhere.

Imported only when the router is built (FastAPI is not imported by ``spine --help``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from spine.api.dashboard import views
from spine.core.errors import SpineError

if TYPE_CHECKING:
    from spine.api.auth import Principal
    from spine.api.service import Services

#: Files under ``static/`` that are served, with their media types.
STATIC_FILES: Mapping[str, str] = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
#: The Content-Security-Policy of every dashboard page.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: Executors the Run form offers (``dask`` needs a cluster the server is configured for).
EXECUTORS = ("threads", "inline", "processes")
STATIC_PREFIX = "/dashboard/static"


# -- helpers ----------------------------------------------------------------------------------


def group_href(name: str) -> str:
    """The page of a group (its name quoted as one path segment: ``a/b`` stays one name)."""
    return "/groups/" + quote(str(name), safe="")


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this server (``/runs?x=1``), else ``/``: a login
    link can never send the browser to another site (``//evil``, ``https://…``, ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\r\n\\") or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target


@lru_cache(maxsize=8)
def _static(name: str) -> bytes:
    from importlib.resources import files

    return files("spine.api.dashboard").joinpath(f"static/{name}").read_bytes()


def _html(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return HTMLResponse(text, status_code=status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                                                           **(headers or {})})


def render(template: str, **context: Any) -> str:
    """A dashboard template rendered in spine's sandboxed, autoescaping environment."""
    from spine import __version__
    from spine.orchestration.models import StepStatus
    from spine.render.htmlkit import asset, page_environment
    from spine.render.run_report import BAR_COLOURS, STATUS_COLOURS

    env = page_environment("spine.api.dashboard")
    return env.get_template(template).render(
        css=asset("report.css"), run_css=asset("run_report.css"), static=STATIC_PREFIX, spine_version=__version__,
        colours=[(st, *STATUS_COLOURS[st], BAR_COLOURS[st]) for st in StepStatus], group_href=group_href, **context,
    )


def _services(request: Request) -> Services:
    return request.app.state.spine


async def _principal(request: Request) -> Principal | None:
    """The signed-in principal, or ``None`` (no session, or a token that is no longer valid)."""
    from spine.api.auth import principal_of
    from spine.api.problems import Problem

    try:
        return await principal_of(request)
    except Problem as exc:
        if exc.status in (401, 403):
            return None
        raise


def _to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)
    _clear_session(response)
    return response


def _clear_session(response: Response) -> None:
    from spine.api.auth import TOKEN_COOKIE

    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")


def _page_context(request: Request, principal: Principal) -> dict[str, Any]:
    from spine.api.auth import CSRF_COOKIE, TOKEN_COOKIE

    # open mode (no token configured) has no session to end: no Sign out button then
    return {"principal": {"name": principal.name, "role": principal.role.name}, "csrf": request.cookies.get(CSRF_COOKIE, ""),
            "session": bool(request.cookies.get(TOKEN_COOKIE))}


async def _in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    from anyio import to_thread

    return await to_thread.run_sync(lambda: fn(*args, **kwargs))


def _role_at_least(principal: Principal, name: str) -> bool:
    from spine.api.auth import Role

    return principal.role >= Role[name]


# -- the data of each page (blocking: run in a worker thread) ----------------------------------


def _group_checks(services: Services) -> list[Any]:
    """Every group the API serves (:class:`~spine.api.catalog.GroupCatalog`: the workspace's
    files and the groups stored through the API), checked as ``spine group validate`` does,
    with what reading each found (a file that no longer reads: its errors)."""
    from spine.check import check_documents

    documents = [e.loaded() for e in services.groups.list()]
    return list(check_documents(documents, services.workspace.check_settings()).groups) if documents else []


def groups_data(services: Services) -> dict[str, Any]:
    checks = _group_checks(services)
    last = services.store.last_runs(c.name for c in checks if c.name)  # one query, however many groups
    return {"rows": views.group_rows(checks, last), "problems": views.unreadable_notes(services.groups.unreadable())}


def _group_check(services: Services, name: str, params: Mapping[str, Any]) -> Any:
    """The group called ``name`` checked, with a plan for ``params`` when it resolves
    (:class:`~spine.core.errors.GroupNotFoundError` when there is no such group: a 404)."""
    from spine.check import check_documents

    document = services.groups.document(name)
    return check_documents([document], services.workspace.check_settings(run_params=dict(params))).groups[0]


def group_data(services: Services, name: str, raw_params: list[str], can_run: bool) -> views.GroupPage:
    from spine.check import parse_params
    from spine.check.report import PlanStatus
    from spine.render.svg import draw_svg

    given_text: dict[str, str] = {}
    for item in raw_params:
        key, sep, value = item.partition("=")
        if sep and key.strip():
            given_text[key.strip()] = value
    params = parse_params([f"{k}={v}" for k, v in given_text.items()])
    check = _group_check(services, name, params)
    plan_note = check.plan_note
    if check.plan is None and check.plan_status is PlanStatus.NOT_REQUESTED:
        plan_note = "The group has errors, so it has no plan."
    if check.plan is None and plan_note is None:
        plan_note = "No plan."
    latest = latest_result = None
    if check.group is not None:
        runs = services.store.runs(group=check.group.name, limit=1)
        if runs:
            latest = runs[0]
            latest_result = services.store.result(latest.run_id)
    svg = svg_note = None
    if check.group is not None:
        dot, _ = views.group_sources(check.group, latest_result)
        picture = draw_svg(dot, services.settings.dot)
        svg, svg_note = picture.svg, (None if picture.svg else f"no picture: {picture.reason}")
    return views.group_page(
        check, plan=check.plan, plan_note=plan_note, given=given_text, latest=latest, latest_result=latest_result,
        svg=svg, svg_note=svg_note, can_run=can_run, registry=services.workspace.registry_or_none,
    )


def group_live(services: Services, name: str) -> dict[str, Any]:
    group = services.groups.entry(name, clash=False).group
    if group is None:  # its file does not read: no graph to colour
        return views.live_status(None, {})
    runs = services.store.runs(group=group.name, limit=1)
    if not runs:
        return views.live_status(None, {})
    return views.live_status(services.store.result(runs[0].run_id), views.step_ids(group), runs[0])


def run_data(services: Services, run_id: str, can_operate: bool) -> views.RunPage:
    from spine.render.run_report import build_run_report, status_svg
    from spine.store import DeadLetters, plan_of

    summary = services.store.run(run_id)
    result = services.store.result(run_id)
    stored = services.store.stored_run(run_id)
    from spine.core.errors import GroupError

    try:
        plan = plan_of(stored, services.workspace.registry_or_none)
    except GroupError:  # its pipelines changed since: the page still shows the run, unchecked
        plan = plan_of(stored, None)
    svg, why_not = status_svg(plan, result, dot=services.settings.dot)
    report = build_run_report(result, plan, svg, svg_note=why_not)
    letters = DeadLetters(services.store).list(run_id=run_id) if can_operate else []
    return views.run_page(report, summary, letters, can_operate=can_operate)


def runs_data(services: Services, filters: views.RunFilters) -> dict[str, Any]:
    rows = views.run_rows(services.store.runs(group=filters.group, status=filters.status, since=filters.since, limit=filters.limit))
    return {"rows": rows, "active": any(r.cell.active for r in rows), "filtered": bool(filters.query())}


# -- the router ---------------------------------------------------------------------------------


def dashboard_router() -> APIRouter:
    """The dashboard's routes (``app.include_router(dashboard_router())``); none of them in the OpenAPI."""
    from spine.api.auth import CSRF_COOKIE, TOKEN_COOKIE, authenticate

    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    async def login_page(request: Request, next: str = "/") -> Response:
        target = safe_next(next)
        if request.cookies.get(TOKEN_COOKIE) and await _principal(request) is not None:
            return RedirectResponse(target, status_code=303)
        return _login_form(request, target)

    def _login_form(request: Request, target: str, *, error: str | None = None, status: int = 200) -> Response:
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = _html(render("dashboard/login.html.j2", principal=None, csrf=csrf, next=target, error=error), status)
        _set_csrf(response, request, csrf)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token") or "").strip()
        target = safe_next(str(form.get("next") or "/"))
        sent = str(form.get("csrf_token") or "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, sent):
            return _login_form(request, target, error="The sign-in form expired; sign in again.", status=403)
        principal = await _in_thread(authenticate, _services(request), token) if token else None
        if principal is None:
            return _login_form(request, target, error="That token is not valid (unknown or revoked). spine token create --role … makes one.", status=401)
        response = RedirectResponse(target, status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(TOKEN_COOKIE, token, path="/", httponly=True, samesite="strict", secure=secure)
        _set_csrf(response, request, secrets.token_urlsafe(24))
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, str(form.get("csrf_token") or "")):
            return _html("<!DOCTYPE html><title>spine</title><p>Sign-out refused: the form expired. <a href=\"/\">Back</a></p>", 403)
        response = RedirectResponse("/login", status_code=303)
        _clear_session(response)
        response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
        return response

    @router.get("/")
    async def groups_page(request: Request) -> Response:
        principal = await _principal(request)
        if principal is None:
            return _to_login(request)
        data = await _in_thread(groups_data, _services(request))
        return _html(render("dashboard/groups.html.j2", **_page_context(request, principal), can_admin=_role_at_least(principal, "admin"), **data))

    @router.get("/groups/{name}")
    async def group_view(request: Request, name: str) -> Response:
        principal = await _principal(request)
        if principal is None:
            return _to_login(request)
        services = _services(request)
        try:
            page = await _in_thread(group_data, services, name, request.query_params.getlist("param"), _role_at_least(principal, "operator"))
        except SpineError as exc:
            return _error_page(request, principal, exc)
        return _html(render(
            "dashboard/group.html.j2", **_page_context(request, principal), g=page, svg=_markup(page.graph.svg), executors=EXECUTORS,
            live_url="/dashboard" + group_href(name) + "/live", runs_url="/api/v1" + group_href(name) + "/runs",
        ))

    @router.get("/dashboard/groups/{name}/live")
    async def group_live_json(request: Request, name: str) -> Response:
        principal = await _principal(request)
        if principal is None:
            return JSONResponse({"detail": "sign in again"}, status_code=401, headers={"Cache-Control": "no-store"})
        try:
            state = await _services(request).read(group_live, _services(request), name)
        except SpineError as exc:
            return _error_json(exc)
        return JSONResponse(state, headers={"Cache-Control": "no-store"})

    @router.get("/runs")
    async def runs_page(request: Request) -> Response:
        principal = await _principal(request)
        if principal is None:
            return _to_login(request)
        filters, problems = views.parse_run_filters(request.query_params)
        services = _services(request)
        data = await _in_thread(runs_data, services, filters)
        try:
            names = sorted({e.name for e in await _in_thread(services.groups.list)})
        except SpineError:  # the datalist is a convenience; the list still shows without it
            names = []
        return _html(render(
            "dashboard/runs.html.j2", **_page_context(request, principal), filters=filters, problems=problems,
            statuses=views.RUN_FILTER_STATUSES, max_limit=views.MAX_LIMIT, group_names=names,
            rows_url="/dashboard/runs/rows" + ("?" + urlencode(filters.query()) if filters.query() else ""), **data,
        ))

    @router.get("/dashboard/runs/rows")
    async def runs_rows(request: Request) -> Response:
        principal = await _principal(request)
        if principal is None:
            return JSONResponse({"detail": "sign in again"}, status_code=401)
        filters, _ = views.parse_run_filters(request.query_params)
        data = await _services(request).read(runs_data, _services(request), filters)
        return _html(render("dashboard/run_rows.html.j2", **data))

    @router.get("/runs/{run_id}")
    async def run_view(request: Request, run_id: str) -> Response:
        principal = await _principal(request)
        if principal is None:
            return _to_login(request)
        try:
            page = await _in_thread(run_data, _services(request), run_id, _role_at_least(principal, "operator"))
        except SpineError as exc:
            return _error_page(request, principal, exc)
        return _html(render("dashboard/run.html.j2", **_run_context(request, principal, page, run_id)))

    @router.get("/dashboard/runs/{run_id}/body")
    async def run_body(request: Request, run_id: str) -> Response:
        principal = await _principal(request)
        if principal is None:
            return JSONResponse({"detail": "sign in again"}, status_code=401)
        try:
            page = await _in_thread(run_data, _services(request), run_id, _role_at_least(principal, "operator"))
        except SpineError as exc:
            return _error_json(exc)
        return _html(render("dashboard/run_body.html.j2", **_run_context(request, principal, page, run_id)),
                     headers={"X-Run-Active": "true" if page.active else "false"})

    @router.get(STATIC_PREFIX + "/{name}")
    async def static(name: str) -> Response:
        media = STATIC_FILES.get(name)
        if media is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(_static(name), media_type=media, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    return router


def _run_context(request: Request, principal: Principal, page: views.RunPage, run_id: str) -> dict[str, Any]:
    return {
        **_page_context(request, principal), "p": page, "r": page.report, "svg": _markup(page.report.graph.svg),
        "api_url": "/api/v1/runs/" + quote(run_id, safe=""), "body_url": "/dashboard/runs/" + quote(run_id, safe="") + "/body",
    }


def _markup(svg: str | None) -> Any:
    """Graphviz's SVG, already cleaned (:func:`spine.render.htmlkit.clean_svg`), as markup to inline."""
    from markupsafe import Markup

    return Markup(svg) if svg else None


def _set_csrf(response: Response, request: Request, value: str) -> None:
    from spine.api.auth import CSRF_COOKIE

    response.set_cookie(CSRF_COOKIE, value, path="/", httponly=False, samesite="strict", secure=request.url.scheme == "https")


def _status_of(exc: SpineError) -> tuple[int, str]:
    """A library error as (status, one line for a person), as the API maps it."""
    from spine.api.problems import problem_for

    problem = problem_for(exc)
    return problem.status, problem.detail


def _error_page(request: Request, principal: Principal, exc: SpineError) -> Response:
    status, detail = _status_of(exc)
    return _html(render("dashboard/error.html.j2", **_page_context(request, principal), status=status, detail=detail), status)


def _error_json(exc: SpineError) -> Response:
    status, detail = _status_of(exc)
    return JSONResponse({"detail": detail}, status_code=status)


__all__ = ["CSP", "EXECUTORS", "STATIC_FILES", "dashboard_router", "group_href", "render", "safe_next"]
