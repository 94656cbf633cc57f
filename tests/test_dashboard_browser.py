"""The dashboard in a real browser against a real server: Debian ``chromium`` driven by
playwright, ``spine serve`` (uvicorn) started as a process on a free loopback port over a
temporary project and SQLite store, tokens made by ``spine token create``.

Every page is opened with its requests recorded and anything not on the server's origin
aborted, with console errors, page errors and dialogs collected: each test also proves the
dashboard stays on its origin, runs no injected script and never opens a dialog. The
group's step names are hostile (``<script>``, an ``onerror`` image, quotes, ``->``,
right-to-left and emoji text).

Set ``SPINE_SCREENSHOTS=DIR`` to keep the pages' screenshots (``docs/img`` takes them).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.needs_chromium

PWN_SCRIPT = "<script>window.__pwned=1</script>"
PWN_IMG = '<img src=x onerror="window.__pwned=1">'
QUOTES = "\"quotes\" & 'apostrophes'"
ARROW = "a -> b"
UNICODE = "שלום 数据 🚀"
HOSTILE = (PWN_SCRIPT, PWN_IMG, QUOTES, ARROW, UNICODE)

PIPELINES = '''
"""Pipelines of the dashboard's browser test."""
import time
from pathlib import Path

from spine.framework import register_pipeline

HERE = Path(__file__).resolve().parent


@register_pipeline("dash.gate")
def gate(params, ctx):
    """Waits until the test creates the file ``release`` (at most 60 s)."""
    end = time.monotonic() + 60
    while not (HERE / "release").exists() and time.monotonic() < end and not ctx.cancelled:
        time.sleep(0.05)
    return {"released": (HERE / "release").exists()}


@register_pipeline("dash.ok", allow_extra_params=True)
def ok(params, ctx):
    return {"step": ctx.step}


@register_pipeline("dash.boom")
def boom(params, ctx):
    raise ValueError("bad row 7: " + ctx.step)
'''


def _group_yaml() -> str:
    steps = [{"name": "gate", "pipeline": "dash.gate"}]
    steps += [{"name": n, "pipeline": "dash.ok", "depends_on": ["gate"]} for n in HOSTILE]
    live = {"apiVersion": "spine.io/v1", "kind": "PipelineGroup", "metadata": {"name": "dash.live", "description": "the live group"},
            "spec": {"pipelines": steps, "policy": {"execution": "parallel", "max_concurrency": 2}}}
    failing = {"apiVersion": "spine.io/v1", "kind": "PipelineGroup", "metadata": {"name": "dash.fail"},
               "spec": {"pipelines": [{"name": PWN_SCRIPT, "pipeline": "dash.boom"}, {"name": "after", "pipeline": "dash.ok", "depends_on": [PWN_SCRIPT]}],
                        "policy": {"on_failure": "continue"}}}
    # JSON is YAML: no quoting question for the hostile names
    return json.dumps(live, ensure_ascii=False) + "\n---\n" + json.dumps(failing, ensure_ascii=False) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spine(project: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(project)}
    done = subprocess.run([sys.executable, "-m", "spine", *args], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Server:
    url: str
    project: Path
    tokens: dict[str, str]

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=30)

    def wait_finished(self, run_id: str, role: str = "viewer") -> dict[str, Any]:
        with self.api(role) as c:
            for _ in range(600):
                run = c.get(f"/api/v1/runs/{run_id}").json()
                if run["status"] not in ("pending", "running"):
                    return run  # type: ignore[no-any-return]
                time.sleep(0.1)
        raise AssertionError(f"run {run_id} did not finish")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``spine serve`` over a fresh project (pipelines, the two groups, a SQLite store), with an operator and a viewer token."""
    project = tmp_path_factory.mktemp("dash-project")
    (project / "dash_pipes.py").write_text(PIPELINES, encoding="utf-8")
    (project / "groups").mkdir()
    (project / "groups" / "dash.yaml").write_text(_group_yaml(), encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[tool.spine]\npipelines = ["dash_pipes"]\ngroups = ["groups"]\ndatabase = "sqlite:///' + (project / "spine.db").as_posix() + '"\n',
        encoding="utf-8",
    )
    tokens = {role: _spine(project, "token", "create", "--role", role).strip().splitlines()[-1] for role in ("operator", "viewer")}
    port = _free_port()
    log = (project / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "spine", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=project, env={**os.environ, "PYTHONPATH": str(project)}, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise AssertionError(f"spine serve exited with {proc.returncode}: {(project / 'server.log').read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("spine serve did not answer /healthz within 60 s")
        yield Server(url, project, tokens)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()



@dataclass
class Tab:
    """A page and what it did: requests that left the server, console and page errors, dialogs."""

    page: Any
    server: Server
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        self.page.goto(self.server.url + path)
        self.page.wait_for_load_state("load")
        return self.page

    def login(self, role: str) -> None:
        self.goto("/login")
        self.page.fill("#token", self.server.tokens[role])
        self.page.click("#sign-in")
        self.page.wait_for_url(self.server.url + "/")

    def assert_clean(self) -> None:
        assert self.blocked == [], f"requests left the server: {self.blocked}"
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.page.evaluate("window.__pwned") is None, "an injected script ran"

    def shot(self, name: str) -> None:
        folder = os.environ.get("SPINE_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / name), full_page=False)


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Any]:
    """``tab() -> Tab``: a fresh browser context (no cookies) per call, closed after the test."""
    contexts = []

    def _open(width: int = 1400) -> Tab:
        context = browser.new_context(viewport={"width": width, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        t = Tab(page, server)
        page.on("console", lambda m: t.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: t.errors.append(f"page error: {e}"))

        def dialog(d: Any) -> None:
            t.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

        def route(r: Any) -> None:
            if r.request.url.startswith(server.url + "/"):
                r.continue_()
            else:
                t.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        return t

    yield _open
    for context in contexts:
        context.close()


def _statuses(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => (e.getAttribute('class').match(/status-([a-z]+)/) || [, ''])[1])")


class TestSignIn:
    def test_a_page_without_a_session_redirects_to_login(self, tab: Any) -> None:
        """/runs without a cookie lands on the login form, which remembers where to go back to."""
        t = tab()
        page = t.goto("/runs")
        assert page.url == t.server.url + "/login?next=%2Fruns"
        assert page.locator("#login-form").is_visible()
        t.assert_clean()

    def test_a_wrong_token_is_refused_with_a_clear_line(self, tab: Any) -> None:
        t = tab()
        t.goto("/login")
        t.page.fill("#token", "not-a-token")
        t.page.click("#sign-in")
        assert "not valid" in t.page.inner_text("#login-error")
        assert t.page.locator("#login-form").is_visible()

    def test_the_session_cookie_is_httponly_and_strict(self, tab: Any) -> None:
        """The token cookie is invisible to scripts and never sent cross-site; the CSRF cookie is readable."""
        t = tab()
        t.login("viewer")
        cookies = {c["name"]: c for c in t.page.context.cookies()}
        assert cookies["spine_token"]["httpOnly"] and cookies["spine_token"]["sameSite"] == "Strict"
        assert not cookies["spine_csrf"]["httpOnly"] and cookies["spine_csrf"]["sameSite"] == "Strict"
        assert "spine_token" not in t.page.evaluate("document.cookie")
        t.assert_clean()

    def test_signing_out_ends_the_session(self, tab: Any) -> None:
        t = tab()
        t.login("viewer")
        t.page.click("#logout")
        t.page.wait_for_url("**/login")
        t.goto("/runs")
        assert "/login?next=" in t.page.url


class TestRunFromThePage:
    def test_an_operator_starts_a_run_and_watches_it_finish(self, tab: Any, server: Server) -> None:
        """Run on the group page: the graph turns to running while the gate step waits, then
        every step to completed; the hostile names are shown as text and nothing runs."""
        (server.project / "release").unlink(missing_ok=True)
        t = tab()
        t.login("operator")
        groups = t.page.inner_text("#group-list")
        assert "dash.live" in groups and "never run" in groups
        t.shot("dashboard-groups.png")
        t.page.click("text=dash.live")
        t.page.wait_for_url("**/groups/dash.live")
        chips = t.page.inner_text("#chips")
        for name in HOSTILE:
            assert name in chips
        t.page.click("#run-button")
        t.page.wait_for_selector("#started-link")
        run_id = t.page.inner_text("#started-link")
        # the gate holds the run: the page shows it running, live
        t.page.wait_for_selector("#chips li.status-running")
        t.page.wait_for_selector("#latest .run-badge[data-status=running]")
        if t.page.locator("#svg").count():
            t.page.wait_for_selector("#svg g.node.status-running")
        (server.project / "release").write_text("go", encoding="utf-8")
        t.page.wait_for_selector("#latest .run-badge[data-status=completed]", timeout=60_000)
        t.page.wait_for_function("document.querySelectorAll('#chips li.status-completed').length === 6")
        assert _statuses(t.page, "#chips li") == ["completed"] * 6
        if t.page.locator("#svg").count():
            assert _statuses(t.page, "#svg g.node") == ["completed"] * 6
            # the colour a person sees is the status's, not Graphviz's fill
            fills = t.page.eval_on_selector_all("#svg g.node path, #svg g.node polygon", "els => els.map(e => getComputedStyle(e).fill)")
            assert fills and set(fills) == {"rgb(218, 251, 225)"}  # STATUS_COLOURS[COMPLETED][0], #dafbe1
        assert t.page.inner_text("#latest-link") == run_id
        t.shot("dashboard-group.png")
        t.assert_clean()

        # the run's page: the report's sections, hostile names as text
        t.page.click("#latest-link")
        t.page.wait_for_url(f"**/runs/{run_id}")
        assert t.page.get_attribute(".run-badge", "data-status") == "completed"
        assert t.page.locator("#gantt g.bar").count() == 6
        names = t.page.inner_text("#run-steps")
        for name in HOSTILE:
            assert name in names
        assert t.page.locator("#cancel-button").count() == 0 and t.page.locator("#resume-button").count() == 0
        t.shot("dashboard-run.png")
        t.assert_clean()

    def test_the_runs_list_updates_live(self, tab: Any, server: Server) -> None:
        """A run started elsewhere (the API, a bearer token) appears in the open list without a reload."""
        (server.project / "release").write_text("go", encoding="utf-8")
        t = tab()
        t.login("viewer")
        t.goto("/runs?group=dash.fail")
        with server.api("operator") as c:
            started = c.post("/api/v1/groups/dash.fail/runs", json={"params": {}})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        row = t.page.wait_for_selector(f"tr.run-row[data-run='{run_id}']", timeout=30_000)
        assert row is not None
        server.wait_finished(run_id)
        t.page.wait_for_selector(f"tr.run-row[data-run='{run_id}'][data-status=failed]", timeout=30_000)
        t.assert_clean()

    def test_a_failed_run_shows_its_error_and_traceback(self, tab: Any, server: Server) -> None:
        with server.api("operator") as c:
            run_id = c.post("/api/v1/groups/dash.fail/runs", json={"params": {}}).json()["run_id"]
        server.wait_finished(run_id)
        t = tab()
        t.login("operator")
        t.goto(f"/runs/{run_id}")
        failure = t.page.inner_text("#failures")
        assert "ValueError" in failure and PWN_SCRIPT in failure and "Traceback" in failure
        assert t.page.locator("#resume-button").is_visible()
        assert t.page.locator(".replay-button").count() == 1
        t.shot("dashboard-failed-run.png")
        t.assert_clean()


    def test_resume_and_replay_buttons_act_through_the_api(self, tab: Any, server: Server) -> None:
        """Resume continues the same run (its resume count grows); Replay opens the page of a
        new replay run. The boom step fails again both times: what matters is that they ran."""
        with server.api("operator") as c:
            run_id = c.post("/api/v1/groups/dash.fail/runs", json={"params": {}}).json()["run_id"]
        server.wait_finished(run_id)
        t = tab()
        t.login("operator")
        t.goto(f"/runs/{run_id}")
        t.page.click("#resume-button")
        t.page.wait_for_load_state("load")
        with server.api("viewer") as c:
            for _ in range(300):
                runs = {r["run_id"]: r for r in c.get("/api/v1/runs", params={"group": "dash.fail"}).json()["runs"]}
                if runs[run_id]["resumes"] >= 1 and runs[run_id]["status"] not in ("pending", "running"):
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"the run was not resumed: {runs[run_id]}")
        t.goto(f"/runs/{run_id}")
        t.page.click(".replay-button")
        t.page.wait_for_url(lambda url: "/runs/" in url and run_id not in url)
        replay_id = t.page.inner_text("#run-id")
        assert replay_id != run_id and t.page.locator("#run-meta").inner_text().count(run_id) == 1  # "replay of <run>"
        t.assert_clean()


class TestViewer:
    def test_a_viewer_sees_no_buttons_and_the_api_refuses_if_forced(self, tab: Any, server: Server) -> None:
        """No Run form, no cancel/resume/replay; a forced POST from the viewer's page (cookie and
        CSRF header) is a 403 for starting, resuming and replaying."""
        with server.api("operator") as c:
            run_id = c.post("/api/v1/groups/dash.fail/runs", json={"params": {}}).json()["run_id"]
        server.wait_finished(run_id)
        t = tab()
        t.login("viewer")
        t.goto("/groups/dash.live")
        assert t.page.locator("#run-form").count() == 0 and t.page.locator("#run-viewer").is_visible()
        t.goto(f"/runs/{run_id}")
        assert t.page.locator("#actions button").count() == 0
        forced = t.page.evaluate(
            """async (runId) => {
                const csrf = document.cookie.split('; ').find(c => c.startsWith('spine_csrf=')).slice('spine_csrf='.length);
                const post = (url) => fetch(url, {method: 'POST', credentials: 'same-origin',
                    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)}, body: '{"params": {}}'}).then(r => r.status);
                return [await post('/api/v1/groups/dash.live/runs'), await post('/api/v1/runs/' + runId + '/resume'),
                        await post('/api/v1/runs/' + runId + '/cancel')];
            }""",
            run_id,
        )
        assert forced == [403, 403, 403]
        t.errors = [e for e in t.errors if "status of 403" not in e]  # the browser logs each refused request
        t.assert_clean()

    def test_a_cookie_post_without_the_csrf_header_is_refused(self, tab: Any) -> None:
        """Even an operator's cookie does not start a run without the CSRF double-submit."""
        t = tab()
        t.login("operator")
        status = t.page.evaluate(
            """() => fetch('/api/v1/groups/dash.live/runs', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json'}, body: '{"params": {}}'}).then(r => r.status)"""
        )
        assert status == 403
