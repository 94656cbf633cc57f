"""Dead letters (``/api/v1/dlq``), health (``/healthz``, ``/readyz``) and ``/metrics``.

Health and metrics need no token (a load balancer and Prometheus scrape them); they say
nothing about groups, runs or params. They are served at the root and under ``/api/v1``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from spine.api.auth import Principal, Role, require
from spine.api.problems import PROBLEM_JSON, Problem, responses

router = APIRouter(tags=["dead letters"], responses=responses(401, 403))
public_router = APIRouter(tags=["health"])

Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Operator = Annotated[Principal, Depends(require(Role.operator))]


@router.get("/dlq", summary="Dead letters: steps that failed for good, newest first")
async def list_dead_letters(
    request: Request, _: Viewer, status: Literal["open", "resolved", "all"] = "open", run_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    from spine.store import DeadLetters, DeadLetterStatus

    services = request.app.state.spine
    wanted = None if status == "all" else DeadLetterStatus(status)
    letters = await services.read(lambda: DeadLetters(services.store).list(status=wanted, run_id=run_id, limit=limit))
    return {"dead_letters": [d.to_dict() for d in letters]}


@router.post(
    "/dlq/{letter_id}/replay", status_code=202, summary="Replay a dead letter's step as a new run (in the server's run workers)",
    responses=responses(404, 409, 422),
)
async def replay_dead_letter(request: Request, letter_id: Annotated[int, Path(ge=1, le=2**62)], _: Operator) -> JSONResponse:
    run_id = await to_thread.run_sync(request.app.state.spine.runs.replay, letter_id)
    base = str(request.app.url_path_for("get_run", run_id=run_id))
    return JSONResponse({"run_id": run_id, "status_url": base, "events_url": base + "/events"}, status_code=202, headers={"Location": base})


@public_router.get("/healthz", summary="The server is up (no token needed)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@public_router.get("/readyz", summary="The server can reach its store (no token needed)", responses=responses(503))
async def readyz(request: Request) -> Response:
    from spine.store import StoreError

    store = request.app.state.spine.store
    try:
        state = await to_thread.run_sync(store.schema_state)
    except StoreError:
        return JSONResponse(Problem(503, "the store is unreachable", kind="store-unavailable").body(request.url.path), status_code=503,
                            media_type=PROBLEM_JSON)
    if not state.current:
        return JSONResponse(Problem(503, "the store's schema is not current: run `spine db upgrade`", kind="store-schema").body(request.url.path),
                            status_code=503, media_type=PROBLEM_JSON)
    return JSONResponse({"status": "ready"})


@public_router.get(
    "/metrics", summary="Prometheus metrics (no token needed)",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The exposition format"}},
)
async def metrics(request: Request) -> Response:
    body, content_type = await to_thread.run_sync(request.app.state.spine.metrics.render)
    return Response(body, media_type=content_type)


__all__ = ["public_router", "router"]
