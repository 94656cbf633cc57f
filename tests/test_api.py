"""The HTTP API in-process (FastAPI's TestClient over the real app, store and run workers):
auth, groups, runs, events, dead letters, problems, metrics."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _api
import pytest
from _db import db_url  # noqa: F401 - fixture

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from spine.api.app import create_app  # noqa: E402
from spine.store import ApiTokens, RunStore, TokenRole  # noqa: E402


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _api.write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SPINE_HEARTBEAT_SECONDS", "0.2")
    monkeypatch.setenv("SPINE_LEASE_SECONDS", "5")
    yield tmp_path
    sys.modules.pop(_api.MODULE, None)


def _app(project: Path, url: str, *, open_mode: bool = False, workers: int = 2) -> Any:
    app = create_app(_api.workspace(project), database=url, workers=workers, open_mode=open_mode)
    app.state.spine.event_poll_seconds = 0.05
    return app


class Api:
    """A TestClient with tokens of every role."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def as_(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def get(self, path: str, role: str = "viewer", **kw: Any) -> Any:
        return self.client.get(path, headers=self.as_(role) | kw.pop("headers", {}), **kw)

    def post(self, path: str, role: str = "operator", **kw: Any) -> Any:
        return self.client.post(path, headers=self.as_(role) | kw.pop("headers", {}), **kw)

    def put(self, path: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.put(path, headers=self.as_(role) | kw.pop("headers", {}), **kw)

    def delete(self, path: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.delete(path, headers=self.as_(role) | kw.pop("headers", {}), **kw)


def _tokens(url: str) -> dict[str, str]:
    with RunStore.open(url) as store:
        return {role.value: ApiTokens(store).create(role, f"test-{role.value}")[1] for role in TokenRole}


@pytest.fixture
def api(project: Path) -> Iterator[Api]:
    url = f"sqlite:///{project / 'api.db'}"
    tokens = _tokens(url)
    with TestClient(_app(project, url)) as client:
        yield Api(client, tokens)


@pytest.fixture
def api_db(project: Path, db_url: str) -> Iterator[Api]:
    """:func:`api` on SQLite and PostgreSQL."""
    tokens = _tokens(db_url)
    with TestClient(_app(project, db_url)) as client:
        yield Api(client, tokens)


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"]
    return body


# -- who may do what ------------------------------------------------------------------------------

#: Every protected endpoint, with the weakest role that may call it.
PROTECTED = [
    ("GET", "/api/v1/groups", "viewer"),
    ("POST", "/api/v1/groups", "admin"),
    ("POST", "/api/v1/groups/validate", "viewer"),
    ("GET", "/api/v1/groups/ap.ok", "viewer"),
    ("PUT", "/api/v1/groups/ap.ok", "admin"),
    ("DELETE", "/api/v1/groups/ap.ok", "admin"),
    ("GET", "/api/v1/groups/ap.ok/plan", "viewer"),
    ("GET", "/api/v1/groups/ap.ok/graph", "viewer"),
    ("POST", "/api/v1/groups/ap.ok/runs", "operator"),
    ("GET", "/api/v1/runs", "viewer"),
    ("GET", "/api/v1/runs/run_x", "viewer"),
    ("POST", "/api/v1/runs/run_x/cancel", "operator"),
    ("POST", "/api/v1/runs/run_x/resume", "operator"),
    ("GET", "/api/v1/runs/run_x/events", "viewer"),
    ("GET", "/api/v1/runs/run_x/report", "viewer"),
    ("GET", "/api/v1/dlq", "viewer"),
    ("POST", "/api/v1/dlq/1/replay", "operator"),
]
PUBLIC = ["/healthz", "/readyz", "/metrics", "/api/v1/healthz", "/api/v1/readyz", "/api/v1/metrics"]
ROLES = ["viewer", "operator", "admin"]


class TestAuth:
    def test_the_table_covers_every_endpoint(self, api: Api) -> None:
        """Every /api/v1 operation in the OpenAPI document is in PROTECTED or PUBLIC (a new endpoint cannot escape the matrix)."""
        table = {(m, p.replace("ap.ok", "{name}").replace("run_x", "{run_id}").replace("/dlq/1/", "/dlq/{letter_id}/")) for m, p, _ in PROTECTED}
        spec = api.client.get("/openapi.json").json()
        routes = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
        assert routes - table == {("GET", p) for p in PUBLIC if p.startswith("/api/v1")}
        assert table <= routes

    @pytest.mark.parametrize(("method", "path", "role"), PROTECTED)
    def test_no_token_is_401(self, api: Api, method: str, path: str, role: str) -> None:
        """A protected endpoint without a token is a 401 problem with WWW-Authenticate: Bearer."""
        r = api.client.request(method, path)
        assert _problem(r, 401)["type"].endswith("/unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(("method", "path", "role"), PROTECTED)
    def test_a_wrong_token_is_401(self, api: Api, method: str, path: str, role: str) -> None:
        """A token that is not one of ours (or a malformed header) is a 401."""
        for header in ("Bearer spine_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "):
            _problem(api.client.request(method, path, headers={"Authorization": header}), 401)

    @pytest.mark.parametrize(("method", "path", "role"), PROTECTED)
    def test_a_weaker_role_is_403_and_the_role_passes(self, api: Api, method: str, path: str, role: str) -> None:
        """Every role below the endpoint's is a 403; the endpoint's own role gets past auth."""
        for weaker in ROLES[: ROLES.index(role)]:
            body = _problem(api.client.request(method, path, headers=api.as_(weaker)), 403)
            assert role in body["detail"]
        r = api.client.request(method, path, headers=api.as_(role))
        assert r.status_code not in (401, 403), r.text

    @pytest.mark.parametrize("path", PUBLIC)
    def test_health_and_metrics_need_no_token(self, api: Api, path: str) -> None:
        """Health and metrics answer without a token."""
        assert api.client.get(path).status_code == 200

    def test_a_revoked_token_is_refused(self, api: Api, project: Path) -> None:
        """Revoking a token makes requests with it a 401 (within the token cache's second)."""
        assert api.get("/api/v1/groups").status_code == 200
        with RunStore.open(f"sqlite:///{project / 'api.db'}") as store:
            tokens = ApiTokens(store)
            (viewer,) = [t for t in tokens.list() if t.role is TokenRole.VIEWER]
            tokens.revoke(viewer.id)
        _api.wait_for(lambda: api.get("/api/v1/groups").status_code == 401, timeout=30, what="the revoke to take effect")
        _problem(api.get("/api/v1/groups"), 401)

    def test_the_cookie_authenticates_reads(self, api: Api) -> None:
        """The dashboard's cookie (spine_token) authenticates a GET."""
        api.client.cookies.set("spine_token", api.tokens["viewer"])
        assert api.client.get("/api/v1/groups").status_code == 200

    def test_an_unsafe_request_by_cookie_needs_the_csrf_token(self, api: Api) -> None:
        """A POST authenticated by the cookie is a 403 without X-CSRF-Token equal to the spine_csrf cookie, and passes with it."""
        api.client.cookies.set("spine_token", api.tokens["operator"])
        _problem(api.client.post("/api/v1/groups/ap.ok/runs", json={}), 403)
        api.client.cookies.set("spine_csrf", "abc123")
        _problem(api.client.post("/api/v1/groups/ap.ok/runs", json={}, headers={"X-CSRF-Token": "other"}), 403)
        r = api.client.post("/api/v1/groups/ap.ok/runs", json={}, headers={"X-CSRF-Token": "abc123"})
        assert r.status_code == 202, r.text
        _api.wait_run(api.client.get, r.json()["run_id"])

    def test_open_mode_lets_tokenless_requests_in_until_a_token_exists(self, project: Path) -> None:
        """Started without tokens (open mode), a request without a token is admin; once a token exists, tokens are required."""
        url = f"sqlite:///{project / 'open.db'}"
        with TestClient(_app(project, url, open_mode=True)) as client:
            assert client.get("/api/v1/groups").status_code == 200
            _problem(client.get("/api/v1/groups", headers={"Authorization": "Bearer wrong"}), 401)
            with RunStore.open(url) as store:
                ApiTokens(store).create(TokenRole.ADMIN)
            client.app.state.spine.open_mode._checked_at = 0.0  # do not wait for the next look
            _problem(client.get("/api/v1/groups"), 401)

    def test_tokens_are_stored_hashed(self, project: Path) -> None:
        """The api_tokens table holds the token's sha256, never the token."""
        import hashlib

        url = f"sqlite:///{project / 't.db'}"
        with RunStore.open(url) as store:
            _, secret = ApiTokens(store).create(TokenRole.VIEWER, "x")
            rows = store.read(lambda c: c.exec_driver_sql("SELECT * FROM api_tokens").all())
        flat = json.dumps([list(map(str, r)) for r in rows])
        assert secret not in flat and hashlib.sha256(secret.encode()).hexdigest() in flat


# -- groups ---------------------------------------------------------------------------------------


BAD = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: ap.bad}
spec:
  pipelines:
    - {name: x, pipeline: ap.ok, depends_on: [nope]}
    - {name: y, pipeline: ap.nothing}
"""


class TestGroups:
    def test_list_shows_workspace_groups_filtered(self, api: Api) -> None:
        """GET /groups lists the configured groups, filtered by domain and tag."""
        names = [g["name"] for g in api.get("/api/v1/groups").json()["groups"]]
        assert names == ["ap.flow", "ap.ok", "ap.params", "ap.slow"]
        assert [g["name"] for g in api.get("/api/v1/groups?domain=tests").json()["groups"]] == ["ap.flow", "ap.ok"]
        assert [g["name"] for g in api.get("/api/v1/groups?tag=nightly").json()["groups"]] == ["ap.flow"]
        assert {g["origin"] for g in api.get("/api/v1/groups").json()["groups"]} == {"workspace"}

    def test_post_stores_a_yaml_group_and_lists_it(self, api: Api) -> None:
        """POST /groups (YAML) is 201 with a Location; the group is listed with origin store and readable."""
        r = api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP, headers={"content-type": "application/yaml"})
        assert r.status_code == 201, r.text
        assert r.headers["location"] == "/api/v1/groups/ap.stored"
        got = api.get("/api/v1/groups/ap.stored").json()
        assert got["origin"] == "store" and got["version"] == 1 and [s["name"] for s in got["definition"]["spec"]["pipelines"]] == ["x", "y"]
        assert "ap.stored" in [g["name"] for g in api.get("/api/v1/groups").json()["groups"]]

    def test_post_takes_json_too(self, api: Api) -> None:
        """A JSON body is a group document as well."""
        doc = {"apiVersion": "spine.io/v1", "kind": "PipelineGroup", "metadata": {"name": "ap.json"},
               "spec": {"pipelines": [{"name": "only", "pipeline": "ap.ok"}]}}
        assert api.post("/api/v1/groups", role="admin", json=doc).status_code == 201
        assert api.get("/api/v1/groups/ap.json").json()["steps"] == 1

    def test_an_invalid_group_is_422_with_every_finding_located(self, api: Api) -> None:
        """POST /groups with an invalid group is a 422 listing every finding with line and column; nothing is stored."""
        body = _problem(api.post("/api/v1/groups", role="admin", content=BAD), 422)
        codes = {f["code"] for f in body["findings"]}
        assert {"missing-dependency", "unknown-pipeline"} <= codes
        for f in body["findings"]:
            assert f["file"] == "<request>" and f["line"] >= 1 and f["column"] >= 1 and f["message"]
        _problem(api.get("/api/v1/groups/ap.bad"), 404)

    def test_yaml_that_does_not_parse_is_422(self, api: Api) -> None:
        """Broken YAML is a 422 with a located finding, not a 500."""
        body = _problem(api.post("/api/v1/groups", role="admin", content="metadata: {name: [\n"), 422)
        assert body["findings"] and body["findings"][0]["line"] >= 1

    def test_validate_checks_without_storing(self, api: Api) -> None:
        """POST /groups/validate answers valid/findings and stores nothing."""
        r = api.post("/api/v1/groups/validate", role="viewer", content=BAD).json()
        assert r["valid"] is False and {f["code"] for f in r["findings"]} >= {"missing-dependency"}
        ok = api.post("/api/v1/groups/validate", role="viewer", content=_api.NEW_GROUP).json()
        assert ok["valid"] is True and ok["name"] == "ap.stored"
        _problem(api.get("/api/v1/groups/ap.stored"), 404)

    def test_put_makes_a_new_version_and_old_ones_stay_readable(self, api: Api) -> None:
        """PUT stores the next version; ?version= reads an older one."""
        api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP)
        changed = _api.NEW_GROUP.replace("tags: [api]", "tags: [api, v2]")
        r = api.put("/api/v1/groups/ap.stored", content=changed)
        assert r.status_code == 200 and r.json()["version"] == 2
        assert api.get("/api/v1/groups/ap.stored").json()["tags"] == ["api", "v2"]
        assert api.get("/api/v1/groups/ap.stored?version=1").json()["tags"] == ["api"]

    def test_put_with_another_name_is_422(self, api: Api) -> None:
        """The URL's name and the body's metadata.name must agree."""
        _problem(api.put("/api/v1/groups/other", content=_api.NEW_GROUP), 422)

    def test_conflicts_are_409(self, api: Api) -> None:
        """POSTing an existing stored name, or a workspace group's name, is a 409; so is deleting a workspace group."""
        api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP)
        _problem(api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP), 409)
        _problem(api.post("/api/v1/groups", role="admin", content=_api.OK), 409)
        _problem(api.delete("/api/v1/groups/ap.ok"), 409)

    def test_delete_removes_a_stored_group(self, api: Api) -> None:
        """DELETE is a 204; the group is then a 404, and deleting again is a 404."""
        api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP)
        assert api.delete("/api/v1/groups/ap.stored").status_code == 204
        _problem(api.get("/api/v1/groups/ap.stored"), 404)
        _problem(api.delete("/api/v1/groups/ap.stored"), 404)

    def test_a_stored_group_runs(self, api: Api) -> None:
        """A group stored through the API runs like a workspace group."""
        api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP)
        run_id = api.post("/api/v1/groups/ap.stored/runs", json={}).json()["run_id"]
        assert _api.wait_run(api.get, run_id)["status"] == "completed"

    def test_plan_takes_params(self, api: Api) -> None:
        """GET /plan without a needed param is a 422 naming it; with ?param=k=v it is the plan."""
        body = _problem(api.get("/api/v1/groups/ap.params/plan"), 422)
        assert body["findings"][0]["code"] == "missing-run-param"
        plan = api.get("/api/v1/groups/ap.params/plan?param=day=2024-01-05").json()
        assert plan["steps"][0]["params"]["day"] == "2024-01-05"

    def test_graph_formats(self, api: Api) -> None:
        """?format=mermaid and dot are text; an unknown format is a 422."""
        assert api.get("/api/v1/groups/ap.flow/graph?format=mermaid").text.startswith("flowchart")
        assert "digraph" in api.get("/api/v1/groups/ap.flow/graph?format=dot").text
        _problem(api.get("/api/v1/groups/ap.flow/graph?format=png"), 422)

    @pytest.mark.needs_dot
    def test_graph_svg(self, api: Api) -> None:
        """?format=svg is image/svg+xml drawn by Graphviz."""
        r = api.get("/api/v1/groups/ap.flow/graph?format=svg")
        assert r.headers["content-type"].startswith("image/svg+xml") and "<svg" in r.text

    def test_unknown_group_is_404_with_a_suggestion(self, api: Api) -> None:
        """A name that names nothing is a 404 problem with a did-you-mean."""
        body = _problem(api.get("/api/v1/groups/ap.flw"), 404)
        assert "ap.flow" in body["detail"]


# -- following the group files --------------------------------------------------------------------


def _names(api: Api) -> list[str]:
    return [g["name"] for g in api.get("/api/v1/groups").json()["groups"]]


class _Clock:
    """A clock the test moves by hand (the catalog's ``clock``)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _catalog(project: Path, clock: _Clock, **kw: Any) -> Any:
    from spine.api.catalog import GroupCatalog

    store = RunStore.open(f"sqlite:///{project / 'catalog.db'}")
    return GroupCatalog(_api.workspace(project), store, clock=clock, **kw)


class TestReload:
    def test_an_edit_shows_without_a_restart(self, api: Api, project: Path) -> None:
        """After ap.ok's file is edited, GET /groups/ap.ok shows the new version and steps, and a run runs them."""
        (project / "groups" / "ok.yaml").write_text(_api.OK_V2)
        got = _api.wait_group(api.get, "ap.ok", lambda r: r.json()["version"] == 2).json()
        assert got["steps"] == 4 and [s["name"] for s in got["definition"]["spec"]["pipelines"]] == ["a", "b", "c", "d"]
        run = _api.wait_run(api.get, api.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"])
        assert run["status"] == "completed" and sorted(s["name"] for s in run["steps"]) == ["a", "b", "c", "d"]

    def test_a_new_file_appears_and_a_removed_one_is_404(self, api: Api, project: Path) -> None:
        """A file added under the groups folder is served; a file removed takes its group with it (404)."""
        (project / "groups" / "sub").mkdir()
        (project / "groups" / "sub" / "fresh.yaml").write_text(_api.NEW_GROUP.replace("ap.stored", "ap.fresh"))
        (project / "groups" / "slow.yaml").unlink()
        _api.wait_group(api.get, "ap.slow", lambda r: r.status_code == 404)
        fresh = api.get("/api/v1/groups/ap.fresh").json()
        assert fresh["origin"] == "workspace" and fresh["file"].endswith("fresh.yaml") and fresh["steps"] == 2
        assert _names(api) == ["ap.flow", "ap.fresh", "ap.ok", "ap.params"]

    def test_a_broken_edit_shows_its_findings_and_the_other_groups_stay(self, api: Api, project: Path) -> None:
        """A file that stops parsing keeps its group listed, invalid with located findings; plan and runs are 422 with them; the others still run."""
        (project / "groups" / "ok.yaml").write_text(_api.BROKEN)
        got = _api.wait_group(api.get, "ap.ok", lambda r: r.json()["findings"] != []).json()
        assert got["definition"] is None and got["steps"] is None
        (f,) = got["findings"]
        assert (f["code"], f["severity"], f["group"]) == ("yaml-syntax", "error", "ap.ok")
        assert f["file"].endswith("ok.yaml") and f["line"] == 3
        assert _names(api) == ["ap.flow", "ap.ok", "ap.params", "ap.slow"]
        for r in (api.post("/api/v1/groups/ap.ok/runs", json={}), api.get("/api/v1/groups/ap.ok/plan"), api.get("/api/v1/groups/ap.ok/graph?format=dot")):
            assert [x["code"] for x in _problem(r, 422)["findings"]] == ["yaml-syntax"]
        run = _api.wait_run(api.get, api.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"])
        assert run["group"] == "ap.flow"
        (project / "groups" / "ok.yaml").write_text(_api.OK)
        _api.wait_group(api.get, "ap.ok", lambda r: r.json()["findings"] == [] and r.json()["steps"] == 3)

    def test_an_edit_with_a_format_error_is_invalid_with_the_finding(self, api: Api, project: Path) -> None:
        """A document that parses but breaks the format (an unknown key) is served invalid: a run is a 422 naming the key's line."""
        (project / "groups" / "ok.yaml").write_text(_api.OK.replace("{name: a, pipeline: ap.ok}", "{name: a, pipeline: ap.ok, retires: 2}"))
        got = _api.wait_group(api.get, "ap.ok", lambda r: r.json()["findings"] != []).json()
        assert [(f["code"], f["line"]) for f in got["findings"]] == [("unknown-key", 7)]
        assert [f["code"] for f in _problem(api.post("/api/v1/groups/ap.ok/runs", json={}), 422)["findings"]] == ["unknown-key"]

    def test_a_name_two_files_define_is_served_once_with_a_warning_naming_the_other(self, api: Api, project: Path) -> None:
        """A second file defining ap.ok: one ap.ok is listed (the last read, as the registry does), with a duplicate-group warning naming the other file's line; it still runs."""
        (project / "groups" / "zz_copy.yaml").write_text(_api.OK_V2)
        got = _api.wait_group(api.get, "ap.ok", lambda r: r.json()["findings"] != []).json()
        (f,) = got["findings"]
        assert (f["code"], f["severity"], f["group"]) == ("duplicate-group", "warning", "ap.ok")
        assert f["file"].endswith("zz_copy.yaml") and got["file"].endswith("zz_copy.yaml") and got["version"] == 2
        assert "is also used at " in f["message"] and "ok.yaml:" in f["message"] and "the server serves this one" in f["message"]
        assert [g["name"] for g in api.get("/api/v1/groups").json()["groups"]].count("ap.ok") == 1
        run = _api.wait_run(api.get, api.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"])
        assert run["status"] == "completed" and len(run["steps"]) == 4
        (project / "groups" / "zz_copy.yaml").unlink()
        _api.wait_group(api.get, "ap.ok", lambda r: r.json()["findings"] == [] and r.json()["version"] == 1)

    def test_the_dashboard_shows_a_broken_group_invalid_and_an_unreadable_file(self, api: Api, project: Path) -> None:
        """The groups page gives a broken file's group the verdict invalid, and says which new file names no group."""
        (project / "groups" / "ok.yaml").write_text(_api.BROKEN)
        (project / "groups" / "junk.yaml").write_text("apiVersion: [\n")
        _api.wait_group(api.get, "ap.ok", lambda r: r.json()["findings"] != [])
        html = api.get("/").text
        row = html[html.index('href="/groups/ap.ok"') - 300:html.index('href="/groups/ap.ok"')]
        assert "verdict-invalid" in row
        assert "junk.yaml (document 1) could not be read as a group" in html
        page = api.get("/groups/ap.ok").text
        assert "yaml-syntax" in page and "could not be built" in page

    def test_a_file_that_takes_a_stored_name_wins_and_says_so(self, api: Api, project: Path) -> None:
        """A file defining a name stored through the API is served, with a duplicate-group warning; DELETE then removes the stored versions only."""
        assert api.post("/api/v1/groups", role="admin", content=_api.NEW_GROUP).status_code == 201
        (project / "groups" / "stored.yaml").write_text(_api.NEW_GROUP.replace("    - {name: y, pipeline: ap.ok, depends_on: [x]}\n", ""))
        got = _api.wait_group(api.get, "ap.stored", lambda r: r.json()["origin"] == "workspace").json()
        assert got["steps"] == 1 and [(f["code"], f["severity"]) for f in got["findings"]] == [("duplicate-group", "warning")]
        listed = [g for g in api.get("/api/v1/groups").json()["groups"] if g["name"] == "ap.stored"]
        assert [(g["origin"], len(g["findings"])) for g in listed] == [("workspace", 1)]
        _problem(api.put("/api/v1/groups/ap.stored", content=_api.NEW_GROUP), 409)
        assert api.delete("/api/v1/groups/ap.stored").status_code == 204
        after = api.get("/api/v1/groups/ap.stored").json()
        assert after["origin"] == "workspace" and after["findings"] == []
        _problem(api.delete("/api/v1/groups/ap.stored"), 409)

    def test_a_started_run_keeps_the_plan_it_started_with(self, api: Api, project: Path) -> None:
        """A run started before its group's file changed runs the steps it was started with."""
        run_id = api.post("/api/v1/groups/ap.slow/runs", json={}).json()["run_id"]
        (project / "groups" / "slow.yaml").write_text(_api.SLOW.replace("name: after", "name: later"))
        _api.wait_group(api.get, "ap.slow", lambda r: r.json()["definition"]["spec"]["pipelines"][1]["name"] == "later")
        (project / "wake").touch()
        run = _api.wait_run(api.get, run_id)
        assert run["status"] == "completed" and sorted(s["name"] for s in run["steps"]) == ["after", "wait"]

    def test_the_files_are_looked_at_at_most_once_a_second(self, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """However many reads, the catalog stats the files once per check interval of its clock."""
        clock = _Clock()
        catalog = _catalog(project, clock)
        looks: list[float] = []
        stamp = catalog.workspace.group_files_stamp
        monkeypatch.setattr(catalog.workspace, "group_files_stamp", lambda: (looks.append(clock.now), stamp())[1])
        for tick in range(40):  # 4 s in steps of 0.1 s, 5 reads each
            clock.now = tick / 10
            for _ in range(5):
                catalog.list()
        assert looks == [1.0, 2.0, 3.0]
        catalog.store.close()

    def test_a_same_size_edit_in_the_same_mtime_tick_is_seen(self, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An edit that keeps a file's size and mtime (two writes within one timestamp tick) is read while the file is racily new."""
        import os

        from spine.api import catalog as catalog_module

        monkeypatch.setattr(catalog_module, "RACY_NS", 10**18)  # every file is "just written"
        clock = _Clock()
        catalog = _catalog(project, clock)
        path = project / "groups" / "ok.yaml"
        before = path.stat()
        path.write_text(_api.OK.replace("{name: b,", "{name: B,"))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert catalog.workspace.group_files_stamp() == catalog.current().stamp  # the stamp alone cannot see it
        clock.now = 1.0
        assert [s.name for s in catalog.get("ap.ok").steps] == ["a", "B", "c"]
        catalog.store.close()

    def test_readers_in_many_threads_see_whole_snapshots(self, project: Path) -> None:
        """Threads reading while the files change get the old groups or the new ones, never a mix or an error."""
        import threading

        clock = _Clock()
        catalog = _catalog(project, clock, check_seconds=0.0)  # look at every read
        extra = project / "groups" / "extra.yaml"
        old = ["ap.flow", "ap.ok", "ap.params", "ap.slow"]
        new = ["ap.extra", "ap.flow", "ap.ok", "ap.params", "ap.slow"]
        seen: list[list[str]] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                try:
                    seen.append([e.name for e in catalog.list()])
                except BaseException as exc:  # noqa: BLE001 - the test reports any error a reader met
                    errors.append(exc)
                    return

        threads = [threading.Thread(target=read) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            for i in range(30):
                if i % 2:
                    extra.unlink()
                else:
                    extra.write_text(_api.NEW_GROUP.replace("ap.stored", "ap.extra") + f"# {i}\n")
                _api.wait_for(lambda i=i: [e.name for e in catalog.list()] == (old if i % 2 else new), what=f"change {i}")
        finally:
            stop.set()
            for t in threads:
                t.join()
            catalog.store.close()
        assert errors == []
        assert seen and all(names in (old, new) for names in seen)


# -- runs -----------------------------------------------------------------------------------------


class TestRuns:
    def test_start_is_202_and_the_run_is_readable_at_once(self, api_db: Api) -> None:
        """POST /groups/{name}/runs is a 202 with run_id and Location; GET right after is a 200; it ends completed."""
        r = api_db.post("/api/v1/groups/ap.ok/runs", json={"params": {}})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        assert r.headers["location"] == f"/api/v1/runs/{run_id}"
        first = api_db.get(f"/api/v1/runs/{run_id}")
        assert first.status_code == 200 and first.json()["status"] in ("running", "completed")
        done = _api.wait_run(api_db.get, run_id)
        assert done["status"] == "completed" and [s["status"] for s in done["steps"]] == ["completed"] * 3

    def test_the_run_json_is_the_cli_shape(self, api: Api, project: Path) -> None:
        """GET /runs/{id} equals `spine runs show --json` of the same run."""
        from click.testing import CliRunner

        from spine.cli.app import cli

        run_id = api.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        got = _api.wait_run(api.get, run_id)
        out = CliRunner().invoke(cli, ["runs", "show", run_id, "--json", "--db", f"sqlite:///{project / 'api.db'}"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout) == got

    def test_reads_run_in_the_reader_threads(self, project: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Listing and reading runs and token lookups run in the few spine-read threads (2 on SQLite, 4 on PostgreSQL),
        not anyio's pool; closing the app stops them."""
        import threading

        from spine.api.service import READ_THREADS

        url = db_url
        tokens = _tokens(url)
        app = _app(project, url)
        services = app.state.spine
        seen: list[str] = []

        def spy(fn: Any) -> Any:
            def call(*args: Any, **kwargs: Any) -> Any:
                seen.append(threading.current_thread().name)
                return fn(*args, **kwargs)
            return call

        for name in ("runs", "result"):
            monkeypatch.setattr(services.store, name, spy(getattr(services.store, name)))
        monkeypatch.setattr(services.tokens, "lookup", spy(services.tokens.lookup))
        with TestClient(app) as client:
            api = Api(client, tokens)
            run_id = api.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"]
            _api.wait_run(api.get, run_id)
            assert api.get("/api/v1/runs").json()["runs"][0]["run_id"] == run_id
        assert len(seen) >= 3 and all(n.startswith("spine-read") for n in seen), seen
        assert services.read_threads == READ_THREADS[services.store.dialect] == (2 if url.startswith("sqlite") else 4)
        assert len(set(seen)) <= services.read_threads
        with pytest.raises(RuntimeError):  # shut down with the app
            services._readers.submit(print)

    def test_a_run_shows_in_runs_list(self, api: Api) -> None:
        """Runs started over HTTP are in the store's run list (spine runs list)."""
        run_id = api.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"]
        _api.wait_run(api.get, run_id)
        listed = api.get("/api/v1/runs?group=ap.ok").json()["runs"]
        assert [r["run_id"] for r in listed] == [run_id] and listed[0]["status"] == "completed"

    def test_missing_params_are_422_and_nothing_is_recorded(self, api: Api) -> None:
        """A run without a param the group needs is a 422 with the finding; no run is recorded."""
        body = _problem(api.post("/api/v1/groups/ap.params/runs", json={}), 422)
        assert body["findings"][0]["code"] == "missing-run-param"
        assert api.get("/api/v1/runs").json()["runs"] == []
        r = api.post("/api/v1/groups/ap.params/runs", json={"params": {"day": "2024-01-05"}})
        assert _api.wait_run(api.get, r.json()["run_id"])["params"] == {"day": "2024-01-05"}

    def test_bad_bodies_are_422_problems(self, api: Api) -> None:
        """Unknown keys and out-of-range options are 422 problems listing every error."""
        body = _problem(api.post("/api/v1/groups/ap.ok/runs", json={"paramz": {}, "max_concurrency": 0}), 422)
        assert len(body["errors"]) == 2
        _problem(api.post("/api/v1/groups/ap.ok/runs", content="{not json", headers={"content-type": "application/json"}), 422)

    def test_unknown_group_and_run_are_404(self, api: Api) -> None:
        _problem(api.post("/api/v1/groups/nope/runs", json={}), 404)
        body = _problem(api.get("/api/v1/runs/run_nope"), 404)
        assert "run_nope" in body["detail"]

    def test_cancel_stops_a_running_run(self, api_db: Api) -> None:
        """POST /runs/{id}/cancel is a 202; the run ends cancelled; cancelling again is a 409."""
        run_id = api_db.post("/api/v1/groups/ap.slow/runs", json={"grace_seconds": 5}).json()["run_id"]
        _api.wait_for(lambda: api_db.get(f"/api/v1/runs/{run_id}").json()["steps"][0]["status"] == "running", what="the step to start")
        assert api_db.post(f"/api/v1/runs/{run_id}/cancel").status_code == 202
        assert _api.wait_run(api_db.get, run_id)["status"] == "cancelled"
        _problem(api_db.post(f"/api/v1/runs/{run_id}/cancel"), 409)

    def test_resume_runs_what_did_not_complete(self, api_db: Api, project: Path) -> None:
        """A partial run, resumed after the fix, completes under the same id without re-running load."""
        run_id = api_db.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        assert _api.wait_run(api_db.get, run_id)["status"] == "partial"
        (project / "fixed").touch()
        r = api_db.post(f"/api/v1/runs/{run_id}/resume", json={})
        assert r.status_code == 202 and r.json()["run_id"] == run_id
        done = _api.wait_for(lambda: (d := api_db.get(f"/api/v1/runs/{run_id}").json())["status"] == "completed" and d, what="the resume")
        load = next(s for s in done["steps"] if s["name"] == "load")
        assert load["attempts"] == 1
        _problem(api_db.post(f"/api/v1/runs/{run_id}/resume", json={}), 409)

    def test_dead_letters_list_and_replay(self, api_db: Api, project: Path) -> None:
        """A failed step is a dead letter; replaying it (after the fix) runs a new run and resolves it."""
        run_id = api_db.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        _api.wait_run(api_db.get, run_id)
        (letter,) = api_db.get("/api/v1/dlq").json()["dead_letters"]
        assert letter["step"] == "publish" and letter["run_id"] == run_id
        (project / "fixed").touch()
        r = api_db.post(f"/api/v1/dlq/{letter['id']}/replay")
        assert r.status_code == 202
        replay = _api.wait_run(api_db.get, r.json()["run_id"])
        assert replay["status"] == "completed"
        assert api_db.get("/api/v1/dlq").json()["dead_letters"] == []
        _problem(api_db.post(f"/api/v1/dlq/{letter['id']}/replay"), 409)
        _problem(api_db.post("/api/v1/dlq/999999/replay"), 404)

    def test_cursor_pagination_walks_every_run_once(self, api_db: Api) -> None:
        """limit + next_cursor pages through every run, newest first, each once."""
        started = [api_db.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"] for _ in range(5)]
        for run_id in started:
            _api.wait_run(api_db.get, run_id)
        seen: list[str] = []
        url = "/api/v1/runs?limit=2"
        while True:
            page = api_db.get(url).json()
            seen += [r["run_id"] for r in page["runs"]]
            if page["next_cursor"] is None:
                break
            url = f"/api/v1/runs?limit=2&cursor={page['next_cursor']}"
        assert sorted(seen) == sorted(started) and len(seen) == 5
        everything = [r["run_id"] for r in api_db.get("/api/v1/runs?limit=50").json()["runs"]]
        assert seen == everything
        _problem(api_db.get("/api/v1/runs?cursor=garbage"), 422)

    def test_filters(self, api: Api) -> None:
        """?status and ?since filter the list."""
        ok = api.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"]
        flow = api.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        _api.wait_run(api.get, ok)
        _api.wait_run(api.get, flow)
        assert [r["run_id"] for r in api.get("/api/v1/runs?status=partial").json()["runs"]] == [flow]
        assert api.get("/api/v1/runs?since=2999-01-01T00:00:00Z").json()["runs"] == []
        _problem(api.get("/api/v1/runs?status=bogus"), 422)

    def test_report_is_inert_html(self, api: Api) -> None:
        """GET /runs/{id}/report is the HTML run report, with a CSP that allows no requests."""
        run_id = api.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        _api.wait_run(api.get, run_id)
        r = api.get(f"/api/v1/runs/{run_id}/report")
        assert r.headers["content-type"].startswith("text/html") and "publish" in r.text
        assert "default-src 'none'" in r.headers["content-security-policy"]


# -- events ---------------------------------------------------------------------------------------


def _events(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            out.append((fields["id"], fields["event"], json.loads(fields["data"])))
    return out


class TestEvents:
    def test_one_event_per_change_then_the_end(self, api_db: Api) -> None:
        """The stream of a finished run: the run, each step's changes, the run's end (its id ends in '!'); a reconnect with that id is a 204."""
        run_id = api_db.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        _api.wait_run(api_db.get, run_id)
        events = _events(api_db.get(f"/api/v1/runs/{run_id}/events").text)
        assert events[0][1] == "run" and events[-1][1] == "run" and events[-1][2]["status"] == "partial"
        steps = [(d["step"], d["status"]) for _, kind, d in events if kind == "step"]
        assert steps == [("load", "completed"), ("publish", "failed"), ("report", "skipped")]
        assert events[-1][0].endswith("!")
        assert api_db.get(f"/api/v1/runs/{run_id}/events", headers={"Last-Event-ID": events[-1][0]}).status_code == 204

    def test_a_live_stream_sees_every_change_and_resumes_exactly(self, api: Api, project: Path) -> None:
        """Reconnecting with any event's id yields exactly what changed after it: each attempt whose
        last change came later, once, in its latest state, then the run's end."""
        run_id = api.post("/api/v1/groups/ap.slow/runs", json={}).json()["run_id"]
        _api.wait_for(lambda: api.get(f"/api/v1/runs/{run_id}").json()["steps"][0]["status"] == "running", what="the step to start")
        (project / "wake").touch()
        full = _events(api.get(f"/api/v1/runs/{run_id}/events").text)
        steps = [(d["step"], d["status"]) for _, kind, d in full if kind == "step"]
        assert steps[-2:] == [("wait", "completed"), ("after", "completed")] and full[-1][2]["status"] == "completed"
        final = {(d["step"], d["attempt"]): (j, d["status"]) for j, (_, kind, d) in enumerate(full) if kind == "step"}
        for i, (event_id, _, _) in enumerate(full[:-1]):
            rest = _events(api.get(f"/api/v1/runs/{run_id}/events", headers={"Last-Event-ID": event_id}).text)
            changed = sorted((key, status) for key, (j, status) in final.items() if j > i)
            assert sorted(((d["step"], d["attempt"]), d["status"]) for _, k, d in rest if k == "step") == changed
            assert rest[-1][1] == "run" and rest[-1][2]["status"] == "completed"

    def test_a_bad_last_event_id_is_422(self, api: Api) -> None:
        run_id = api.post("/api/v1/groups/ap.ok/runs", json={}).json()["run_id"]
        _problem(api.get(f"/api/v1/runs/{run_id}/events", headers={"Last-Event-ID": "nonsense"}), 422)


# -- problems, docs, metrics ----------------------------------------------------------------------


class TestProblemsAndDocs:
    def test_unknown_path_and_method_are_problems(self, api: Api) -> None:
        """404 and 405 are problem+json too."""
        _problem(api.get("/api/v1/nothing"), 404)
        _problem(api.client.patch("/api/v1/groups", headers=api.as_("admin")), 405)

    def test_docs_are_served_from_the_package(self, api: Api) -> None:
        """/docs loads Swagger UI from /static (no CDN), and the assets are there."""
        html = api.client.get("/docs").text
        assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
        assert api.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
        spec = api.client.get("/openapi.json").json()
        assert "/api/v1/groups/{name}/runs" in spec["paths"]

    def test_readyz_says_when_the_store_is_not_usable(self, project: Path) -> None:
        """/readyz is 200 with the store reachable and current, 503 (problem) once its schema is not."""
        import sqlite3

        url = f"sqlite:///{project / 'r.db'}"
        with TestClient(_app(project, url)) as client:
            assert client.get("/readyz").status_code == 200
            with sqlite3.connect(project / "r.db") as conn:
                conn.execute("DROP TABLE alembic_version")
            assert "spine db upgrade" in _problem(client.get("/readyz"), 503)["detail"]
            assert client.get("/healthz").status_code == 200


class TestMetrics:
    def test_runs_and_steps_are_counted(self, api: Api) -> None:
        """After a run: started and finished counters by group and status, step durations, active and queued gauges."""
        run_id = api.post("/api/v1/groups/ap.flow/runs", json={}).json()["run_id"]
        _api.wait_run(api.get, run_id)
        _api.wait_for(lambda: 'spine_runs_finished_total{group="ap.flow",status="partial"} 1.0' in api.client.get("/metrics").text,
                      what="the finished counter")
        text = api.client.get("/metrics").text
        assert 'spine_runs_started_total{group="ap.flow"} 1.0' in text
        assert 'spine_step_duration_seconds_count{group="ap.flow",status="completed"} 1.0' in text
        assert 'spine_step_duration_seconds_count{group="ap.flow",status="failed"} 1.0' in text
        assert "spine_active_runs 0.0" in text and "spine_queued_runs 0.0" in text
        assert "spine_pool_slots_in_use" in text
