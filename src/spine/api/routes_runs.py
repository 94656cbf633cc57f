"""``/api/v1/groups/{name}/runs`` and ``/api/v1/runs``: start, list, read, cancel, resume,
follow (server-sent events) and report runs."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from spine.api.auth import Principal, Role, require
from spine.api.problems import Problem, responses

router = APIRouter(tags=["runs"], responses=responses(401, 403))

Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]

#: The statuses ``GET /runs?status=`` accepts (``orphaned``: running, but its process is gone).
RunState = Literal["pending", "running", "completed", "failed", "partial", "cancelled", "orphaned"]
#: Seconds without an event after which an event stream sends a keep-alive comment.
KEEPALIVE_SECONDS = 15.0


class RunOptions(BaseModel):
    """How to run (each defaults to the group's policy, or to how the run was run before)."""

    model_config = ConfigDict(extra="forbid")

    executor: Literal["inline", "threads", "processes"] | None = Field(default=None, description="Where steps run (default threads).")
    max_concurrency: int | None = Field(default=None, ge=1, le=10_000, description="Run at most this many steps at once.")
    on_failure: Literal["stop", "continue"] | None = Field(default=None, description="Override policy.on_failure.")
    grace_seconds: float | None = Field(default=None, ge=0, le=86_400, description="After a cancel, how long running steps get to finish.")


class RunRequest(RunOptions):
    """``POST /groups/{name}/runs``: run params and how to run."""

    params: dict[str, Any] = Field(default_factory=dict, description="Run params (as `spine group run --param`).")
    batch_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,200}$", description="Use this batch id instead of a new one.")


class RunAccepted(BaseModel):
    run_id: str
    status_url: str
    events_url: str


def _services(request: Request) -> Any:
    return request.app.state.spine


def _accepted(request: Request, run_id: str) -> JSONResponse:
    base = str(request.app.url_path_for("get_run", run_id=run_id))
    body = {"run_id": run_id, "status_url": base, "events_url": base + "/events"}
    return JSONResponse(body, status_code=202, headers={"Location": base})


@router.post(
    "/groups/{name}/runs", status_code=202, response_model=RunAccepted, summary="Start a run (it executes in the server's run workers)",
    responses=responses(404, 409, 422),
)
async def start_run(request: Request, name: str, _: Operator, body: Annotated[RunRequest, Body()] = RunRequest()) -> JSONResponse:
    options = body.model_dump(exclude={"params"}, exclude_none=True)
    run_id = await to_thread.run_sync(lambda: _services(request).runs.start(name, body.params, options))
    return _accepted(request, run_id)


def _cursor(text: str) -> tuple[dt.datetime, str]:
    try:
        at, run_id = json.loads(base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4)))
        when = dt.datetime.fromisoformat(at)
        if not isinstance(run_id, str) or when.tzinfo is None:
            raise ValueError("bad cursor")
        return when, run_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise Problem(422, "cursor: not a cursor this server gave (use next_cursor of the previous page)", kind="invalid-request") from exc


def _make_cursor(at: dt.datetime, run_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), run_id]).encode()).decode().rstrip("=")


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


@router.get("/runs", summary="List runs, newest first (cursor pagination)", responses=responses(422))
async def list_runs(
    request: Request, _: Viewer,
    group: str | None = None, status: RunState | None = None,
    since: Annotated[dt.datetime | None, Query(description="Only runs started at or after this time (ISO-8601; UTC when no offset)")] = None,
    until: Annotated[dt.datetime | None, Query(description="Only runs started before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    before = _cursor(cursor) if cursor else None
    services = _services(request)
    found = await services.read(services.store.runs, group=group, status=status, since=_aware(since), until=_aware(until),
                                limit=limit + 1, before=before)
    page = found[:limit]
    more = len(found) > limit
    return {"runs": [r.to_dict() for r in page], "next_cursor": _make_cursor(page[-1].started_at, page[-1].run_id) if more else None}


@router.get("/runs/{run_id}", name="get_run", summary="One run: the JSON of `spine group run --json`, with its steps", responses=responses(404))
async def get_run(request: Request, run_id: str, _: Viewer) -> dict[str, Any]:
    services = _services(request)
    result = await services.read(services.store.result, run_id)
    data: dict[str, Any] = result.to_dict()
    return data


@router.post("/runs/{run_id}/cancel", status_code=202, summary="Ask a running run to stop", responses=responses(404, 409))
async def cancel_run(request: Request, run_id: str, _: Operator) -> dict[str, Any]:
    summary = await to_thread.run_sync(_services(request).runs.cancel, run_id)
    data: dict[str, Any] = summary.to_dict()
    return data


@router.post(
    "/runs/{run_id}/resume", status_code=202, response_model=RunAccepted,
    summary="Resume a failed, partial, cancelled or orphaned run (it keeps its id)", responses=responses(404, 409, 422),
)
async def resume_run(request: Request, run_id: str, _: Operator, body: Annotated[RunOptions, Body()] = RunOptions()) -> JSONResponse:
    options = body.model_dump(exclude_none=True)
    rid = await to_thread.run_sync(lambda: _services(request).runs.resume(run_id, options))
    return _accepted(request, rid)


@router.get(
    "/runs/{run_id}/events", summary="Follow a run: server-sent events, one per state change (resumable with Last-Event-ID)",
    responses=responses(404, 422) | {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "The event stream"},
                                     204: {"description": "The run is over and the client has seen its end"}},
    response_class=StreamingResponse,
)
async def run_events(
    request: Request, run_id: str, _: Viewer, last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    from spine.api.events import BadEventId, Cursor, advance, fetch, frame, over

    services = _services(request)
    try:
        cursor = Cursor.parse(last_event_id) if last_event_id else Cursor()
    except BadEventId as exc:
        raise Problem(422, str(exc), kind="invalid-request") from exc
    resumed = last_event_id is not None
    summary, rows = await services.read(fetch, services.store, run_id, cursor)
    if cursor.ended and over(summary) and not rows:
        return Response(status_code=204)
    cursor.ended = False
    poll = services.event_poll_seconds

    async def stream() -> AsyncIterator[bytes]:
        nonlocal summary, rows
        if not resumed:
            yield frame(cursor.text(), "run", summary.to_dict())
        quiet = 0.0
        while True:
            events = advance(cursor, run_id, rows)
            for event in events:
                yield frame(*event)
            if over(summary):
                # the run's end is committed with its last rows: nothing can follow it
                cursor.ended = True
                yield frame(cursor.text(), "run", summary.to_dict())
                return
            quiet = 0.0 if events else quiet + poll
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(poll)
            if await request.is_disconnected():
                return
            summary, rows = await services.read(fetch, services.store, run_id, cursor)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get(
    "/runs/{run_id}/report", summary="The run's HTML run report (Gantt timeline, errors, tracebacks)",
    responses=responses(404) | {200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report"}},
    response_class=HTMLResponse,
)
async def run_report(request: Request, run_id: str, _: Viewer) -> HTMLResponse:
    services = _services(request)

    def build() -> str:
        from spine.render.run_report import build_run_report, render_run_report, status_svg
        from spine.store import plan_of, replay_plan

        store = services.store
        summary = store.run(run_id)
        result = store.result(run_id)
        plan = plan_of(store.stored_run(run_id), None, services.workspace.groups)
        if summary.parent_run_id is not None:
            plan = replay_plan(plan, result.step_executions[-1].name)
        svg, why_not = status_svg(plan, result, dot=services.settings.dot)
        html: str = render_run_report(build_run_report(result, plan, svg, svg_note=why_not))
        return html

    html = await to_thread.run_sync(build)
    # the report is self-contained and inert: no script may reach the API from it
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'unsafe-inline'"})


__all__ = ["RunOptions", "RunRequest", "router"]
