"""``/api/v1/groups``: list, read, store, change, delete, validate, plan and draw groups."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from spine.api.auth import Principal, Role, require
from spine.api.problems import Problem, responses

router = APIRouter(tags=["groups"], responses=responses(401, 403))

Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Admin = Annotated[Principal, Depends(require(Role.admin))]

#: The request body of POST/PUT /groups and /groups/validate, for the OpenAPI document.
_BODY = {
    "requestBody": {
        "required": True,
        "description": "One group document (apiVersion spine.io/v1), as YAML or JSON.",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
#: The largest body read (bytes); a group file's own limit applies after.
MAX_BODY = 64 * 1024 * 1024


async def _body(request: Request) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        raise Problem(413, f"the body is larger than {MAX_BODY} bytes", kind="too-large")
    body = await request.body()
    if not body.strip():
        raise Problem(422, "the body is empty; send one group document as YAML or JSON", kind="invalid-group", findings=[])
    return body


def _services(request: Request) -> Any:
    return request.app.state.spine


@router.get("/groups", summary="List groups (the workspace's and the stored ones)")
async def list_groups(request: Request, _: Viewer, domain: str | None = None, tag: str | None = None) -> dict[str, Any]:
    s = _services(request)
    entries = await to_thread.run_sync(lambda: s.groups.list(domain=domain, tag=tag))
    return {"groups": [e.to_dict() for e in entries]}


@router.post("/groups/validate", summary="Check a group document without storing it", openapi_extra=_BODY)
async def validate_group(request: Request, _: Viewer) -> dict[str, Any]:
    from spine.core.findings import Severity

    body = await _body(request)
    group, findings = await to_thread.run_sync(_services(request).groups.check, body)
    return {
        "valid": group is not None and not any(f.severity is Severity.ERROR for f in findings),
        "name": group.name if group is not None else None,
        "findings": [f.to_dict() for f in findings],
    }


@router.post("/groups", status_code=201, summary="Store a new group", openapi_extra=_BODY, responses=responses(409, 422))
async def create_group(request: Request, _: Admin) -> JSONResponse:
    s = _services(request)
    body = await _body(request)
    group, findings = await to_thread.run_sync(s.groups.parse, body)
    entry = await to_thread.run_sync(s.groups.create, group)
    data = entry.to_dict() | {"findings": [f.to_dict() for f in findings]}
    return JSONResponse(data, status_code=201, headers={"Location": f"{request.url.path}/{_quote(entry.group.name)}"})


@router.get("/groups/{name}", summary="One group: its latest version, or ?version=", responses=responses(404))
async def get_group(request: Request, name: str, _: Viewer, version: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    entry = await to_thread.run_sync(lambda: _services(request).groups.entry(name, version))
    return entry.to_dict() | {"definition": entry.group.to_dict() if entry.group is not None else None}


@router.put("/groups/{name}", summary="Store a new version of a group", openapi_extra=_BODY, responses=responses(409, 422))
async def put_group(request: Request, name: str, _: Admin) -> dict[str, Any]:
    s = _services(request)
    body = await _body(request)
    group, findings = await to_thread.run_sync(s.groups.parse, body)
    entry = await to_thread.run_sync(s.groups.put, name, group)
    return entry.to_dict() | {"findings": [f.to_dict() for f in findings]}


@router.delete("/groups/{name}", status_code=204, summary="Delete a stored group (every version)", responses=responses(404, 409))
async def delete_group(request: Request, name: str, _: Admin) -> Response:
    await to_thread.run_sync(_services(request).groups.delete, name)
    return Response(status_code=204)


def _params(items: list[str]) -> dict[str, Any]:
    from spine.check import RunParamSyntaxError, parse_params

    try:
        return parse_params(items)
    except RunParamSyntaxError as exc:
        raise Problem(422, f"param: {exc}", kind="invalid-request") from exc


@router.get("/groups/{name}/plan", summary="Resolve a group's plan with run params (?param=k=v, repeatable)", responses=responses(404, 422))
async def plan_group(
    request: Request, name: str, _: Viewer,
    param: Annotated[list[str], Query(description="A run param KEY=VALUE (VALUE read as YAML); repeatable")] = [],  # noqa: B006
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    params = _params(param)
    plan = await to_thread.run_sync(lambda: _services(request).runs.plan(name, params, version=version))
    data: dict[str, Any] = plan.to_dict()
    return data


@router.get(
    "/groups/{name}/graph", summary="Draw a group: svg, dot or mermaid", responses=responses(404, 422, 503) | {
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}, "description": "The drawing"}
    },
    response_class=PlainTextResponse,
)
async def graph_group(
    request: Request, name: str, _: Viewer, format: Annotated[str, Query(pattern="^(svg|dot|mermaid)$")] = "svg",
    direction: Annotated[str, Query(pattern="^(TB|LR|BT|RL)$")] = "TB", version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    from spine.render import build_graph_view, draw_svg, to_dot, to_mermaid

    s = _services(request)
    group = await to_thread.run_sync(lambda: s.groups.get(name, version))
    view = build_graph_view(group)
    if format == "mermaid":
        return PlainTextResponse(to_mermaid(view, direction=direction))
    text = to_dot(view, direction=direction)
    if format == "dot":
        return PlainTextResponse(text)
    drawn = await to_thread.run_sync(lambda: draw_svg(text, s.settings.dot))
    if getattr(drawn, "svg", None) is None:
        why = getattr(drawn, "reason", None) or "Graphviz could not draw it"
        raise Problem(503, f"no SVG: {why}; ask for ?format=dot or ?format=mermaid", kind="no-graphviz")
    return Response(drawn.svg, media_type="image/svg+xml")


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


__all__ = ["router"]
