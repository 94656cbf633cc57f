"""The dashboard's routes in process (``create_app`` + Starlette's test client), against the
real store on SQLite and PostgreSQL: sessions, redirects, roles, escaping, the live parts."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _db import db_url  # noqa: F401 - the fixture

XSS = "<script>window.__pwned=1</script>"

PIPELINES = '''
from spine.framework import register_pipeline


@register_pipeline("dr.ok", allow_extra_params=True)
def ok(params, ctx):
    return {"step": ctx.step}


@register_pipeline("dr.boom")
def boom(params, ctx):
    raise ValueError("bad row: " + ctx.step)
'''

GROUPS = f'''
{{"apiVersion": "spine.io/v1", "kind": "PipelineGroup", "metadata": {{"name": "dr.good", "tags": ["t1"]}},
  "spec": {{"pipelines": [{{"name": "a", "pipeline": "dr.ok", "params": {{"day": "{{{{ params.day }}}}"}}}},
                          {{"name": {XSS!r}, "pipeline": "dr.ok", "depends_on": ["a"]}}]}}}}
---
{{"apiVersion": "spine.io/v1", "kind": "PipelineGroup", "metadata": {{"name": "dr.bad"}},
  "spec": {{"pipelines": [{{"name": "x", "pipeline": "dr.boom"}}, {{"name": "y", "pipeline": "dr.ok", "depends_on": ["x"]}}],
           "policy": {{"on_failure": "continue"}}}}}}
'''.replace("'", '"')


@pytest.fixture
def app(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:  # noqa: F811 - the fixture
    """The app over a temporary project (two groups, two pipelines) and a fresh store, with a token per role."""
    yield from _app(tmp_path, db_url, monkeypatch)


@pytest.fixture
def app_without_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The same app configured with a Graphviz that does not exist (SQLite)."""
    yield from _app(tmp_path, f"sqlite:///{tmp_path / 'spine.db'}", monkeypatch, 'dot = "/nonexistent/dot"\n')


@pytest.fixture
def app_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app in open mode: started without any token (SQLite)."""
    yield from _app(tmp_path, f"sqlite:///{tmp_path / 'spine.db'}", monkeypatch, open_mode=True)


def _app(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, more_config: str = "", *, open_mode: bool = False) -> Iterator[Any]:  # noqa: F811 - the fixture's name
    from starlette.testclient import TestClient

    from spine.api.app import create_app
    from spine.config import load_settings
    from spine.store.tokens import TokenRole
    from spine.workspace import Workspace

    (tmp_path / "dr_pipes.py").write_text(PIPELINES, encoding="utf-8")
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "dr.yaml").write_text(GROUPS, encoding="utf-8")
    (tmp_path / "spine.toml").write_text('pipelines = ["dr_pipes"]\ngroups = ["groups"]\n' + more_config, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("dr_pipes", None)  # imported again: each test's registry starts clean
    monkeypatch.chdir(tmp_path)
    workspace = Workspace(load_settings(config_file=tmp_path / "spine.toml"))
    application = create_app(workspace, database=db_url, workers=2, open_mode=open_mode)
    services = application.state.spine
    tokens = {} if open_mode else {role.value: services.tokens.create(role)[1] for role in TokenRole}
    with TestClient(application, base_url="http://127.0.0.1") as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        client.services = services  # type: ignore[attr-defined]
        yield client
    sys.modules.pop("dr_pipes", None)


def login(client: Any, role: str) -> None:
    page = client.get("/login")
    csrf = client.cookies.get("spine_csrf")
    assert csrf and f'value="{csrf}"' in page.text
    r = client.post("/login", data={"token": client.tokens[role], "csrf_token": csrf, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def wait(client: Any, run_id: str) -> dict[str, Any]:
    for _ in range(400):
        run = client.get(f"/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {client.tokens['viewer']}"}).json()
        if run["status"] not in ("pending", "running"):
            return run  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def start(client: Any, group: str, params: dict[str, Any] | None = None) -> str:
    r = client.post(f"/api/v1/groups/{group}/runs", json={"params": params or {}}, headers={"Authorization": f"Bearer {client.tokens['operator']}"})
    assert r.status_code == 202, r.text
    return str(r.json()["run_id"])


class TestSessions:
    @pytest.mark.parametrize("path", ["/", "/runs", "/groups/dr.good", "/runs/nope"])
    def test_a_page_without_a_session_redirects_to_login(self, app: Any, path: str) -> None:
        r = app.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")

    def test_the_live_parts_say_401_to_the_script(self, app: Any) -> None:
        assert app.get("/dashboard/groups/dr.good/live").status_code == 401
        assert app.get("/dashboard/runs/rows").status_code == 401

    def test_login_sets_strict_httponly_cookies(self, app: Any) -> None:
        app.get("/login")
        r = app.post("/login", data={"token": app.tokens["viewer"], "csrf_token": app.cookies["spine_csrf"], "next": "/runs"}, follow_redirects=False)
        assert r.headers["location"] == "/runs"
        cookies = r.headers.get_list("set-cookie")
        token = next(c for c in cookies if c.startswith("spine_token="))
        csrf = next(c for c in cookies if c.startswith("spine_csrf="))
        assert "HttpOnly" in token and "SameSite=strict" in token and "Path=/" in token
        assert "HttpOnly" not in csrf and "SameSite=strict" in csrf

    def test_login_without_the_forms_csrf_token_is_refused(self, app: Any) -> None:
        """A login-CSRF (another site posting its token into this browser) fails."""
        app.get("/login")
        r = app.post("/login", data={"token": app.tokens["admin"], "csrf_token": "forged", "next": "/"}, follow_redirects=False)
        assert r.status_code == 403 and "spine_token" not in r.headers.get("set-cookie", "")

    def test_a_wrong_token_is_a_401_page_saying_so(self, app: Any) -> None:
        app.get("/login")
        r = app.post("/login", data={"token": "spine_wrong", "csrf_token": app.cookies["spine_csrf"]}, follow_redirects=False)
        assert r.status_code == 401 and "not valid" in r.text

    @pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
    def test_next_never_leaves_the_server(self, app: Any, target: str) -> None:
        app.get("/login")
        r = app.post("/login", data={"token": app.tokens["viewer"], "csrf_token": app.cookies["spine_csrf"], "next": target}, follow_redirects=False)
        assert r.headers["location"] == "/"

    def test_logout_needs_the_csrf_token_and_clears_the_session(self, app: Any) -> None:
        login(app, "viewer")
        assert app.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
        r = app.post("/logout", data={"csrf_token": app.cookies["spine_csrf"]}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert app.get("/", follow_redirects=False).status_code == 303

    def test_pages_carry_a_strict_content_security_policy(self, app: Any) -> None:
        login(app, "viewer")
        csp = app.get("/").headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp


class TestPages:
    def test_groups_list_verdicts_and_last_runs(self, app: Any) -> None:
        run_id = start(app, "dr.bad")
        wait(app, run_id)
        login(app, "viewer")
        html = app.get("/").text
        assert "dr.good" in html and "dr.bad" in html
        assert run_id in html and "never run" in html

    def test_group_page_escapes_names_and_offers_run_by_role(self, app: Any) -> None:
        login(app, "viewer")
        html = app.get("/groups/dr.good").text
        assert XSS not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
        assert 'id="run-form"' not in html and 'id="run-viewer"' in html
        login(app, "operator")
        html = app.get("/groups/dr.good?param=day=2026-01-05").text
        assert 'id="run-form"' in html and 'data-name="day"' in html and 'value="2026-01-05"' in html
        assert 'id="plan-table"' in html

    def test_a_missing_run_param_is_said_not_a_crash(self, app: Any) -> None:
        login(app, "viewer")
        html = app.get("/groups/dr.good").text
        assert 'id="plan-note"' in html and "day" in html

    def test_an_unknown_group_is_a_404_page(self, app: Any) -> None:
        login(app, "viewer")
        r = app.get("/groups/dr.nope")
        assert r.status_code == 404 and "dr.nope" in r.text

    def test_an_unknown_run_is_a_404_page(self, app: Any) -> None:
        login(app, "viewer")
        assert app.get("/runs/nope").status_code == 404

    def test_run_page_shows_errors_and_buttons_by_role(self, app: Any) -> None:
        run_id = start(app, "dr.bad")
        assert wait(app, run_id)["status"] == "failed"
        login(app, "operator")
        html = app.get(f"/runs/{run_id}").text
        assert "ValueError" in html and "bad row: x" in html and 'id="gantt"' in html
        assert 'id="resume-button"' in html and "Replay x" in html and 'id="cancel-button"' not in html
        login(app, "viewer")
        html = app.get(f"/runs/{run_id}").text
        assert "ValueError" in html and 'id="resume-button"' not in html and "Replay" not in html

    def test_group_live_is_ids_and_statuses(self, app: Any) -> None:
        run_id = start(app, "dr.good", {"day": "2026-01-05"})
        wait(app, run_id)
        login(app, "viewer")
        state = app.get("/dashboard/groups/dr.good/live").json()
        assert state["run"]["run_id"] == run_id and state["run"]["status"] == "completed"
        assert state["steps"] == {"n0": "completed", "n1": "completed"}

    def test_runs_rows_follow_the_filters(self, app: Any) -> None:
        good = start(app, "dr.good", {"day": "2026-01-05"})
        bad = start(app, "dr.bad")
        wait(app, good), wait(app, bad)
        login(app, "viewer")
        rows = app.get("/dashboard/runs/rows?group=dr.bad").text
        assert bad in rows and good not in rows
        rows = app.get("/dashboard/runs/rows?status=completed").text
        assert good in rows and bad not in rows
        page = app.get("/runs?status=done").text
        assert "is not one of" in page and good in page

    def test_run_body_says_whether_the_run_is_active(self, app: Any) -> None:
        run_id = start(app, "dr.bad")
        wait(app, run_id)
        login(app, "viewer")
        r = app.get(f"/dashboard/runs/{run_id}/body")
        assert r.headers["x-run-active"] == "false" and 'id="failures"' in r.text

    def test_static_files_and_nothing_else(self, app: Any) -> None:
        assert app.get("/dashboard/static/dashboard.js").headers["content-type"].startswith("text/javascript")
        assert app.get("/dashboard/static/../app.py").status_code == 404
        assert app.get("/dashboard/static/other.js").status_code == 404

    def test_every_page_has_only_the_one_script(self, app: Any) -> None:
        run_id = start(app, "dr.bad")
        wait(app, run_id)
        login(app, "operator")
        for path in ("/", "/runs", "/groups/dr.good", f"/runs/{run_id}", "/login"):
            html = app.get(path).text
            assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/dashboard/static/dashboard.js" defer>'], path


def test_without_graphviz_the_pages_say_how_to_get_the_picture(app_without_dot: Any) -> None:
    """No ``dot``: the group and run pages still work, say why there is no picture, and keep the sources and the step list."""
    app = app_without_dot
    run_id = start(app, "dr.bad")
    wait(app, run_id)
    login(app, "viewer")
    html = app.get("/groups/dr.bad").text
    assert 'id="no-svg"' in html and "install" in html and 'id="chips"' in html and 'id="dot-src"' in html
    assert "<svg" not in html.split('id="graph"')[1].split("</section>")[0]
    html = app.get(f"/runs/{run_id}").text
    assert 'id="no-svg"' in html and 'id="gantt"' in html


def test_open_mode_shows_the_pages_without_signing_in(app_open: Any) -> None:
    """Without any token configured (loopback only), the pages open as admin, with nothing to sign out of."""
    r = app_open.get("/groups/dr.good", follow_redirects=False)
    assert r.status_code == 200 and 'id="run-form"' in r.text and 'id="logout"' not in r.text
