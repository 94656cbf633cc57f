"""``spine serve`` as a real process (uvicorn on a free loopback port) on SQLite and
PostgreSQL: runs over HTTP survive their request and the server, concurrent clients lose
and duplicate nothing, the served OpenAPI document holds (schemathesis), and the CLI's
``serve``/``token`` commands behave."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import _api
import pytest
from _db import db_url  # noqa: F401 - fixture

httpx = pytest.importorskip("httpx")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield _api.write_project(tmp_path)


def _spine(root: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPINE_DATABASE_URL": db, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "spine", *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def _token(root: Path, db: str, role: str = "admin") -> str:
    out = _spine(root, db, "token", "create", "--role", role, "--name", f"t-{role}")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


FAST_LEASES = {"SPINE_HEARTBEAT_SECONDS": "0.3", "SPINE_LEASE_SECONDS": "3"}


class TestServeCommand:
    def test_token_create_prints_the_token_last(self, project: Path) -> None:
        """`spine token create` prints the token as its last stdout line; --json gives {"token": …}; list never shows it."""
        db = f"sqlite:///{project / 't.db'}"
        token = _token(project, db, "viewer")
        assert token.startswith("spine_") and len(token) > 40
        out = _spine(project, db, "token", "create", "--role", "operator", "--json")
        data = json.loads(out.stdout)
        assert data["role"] == "operator" and data["token"].startswith("spine_")
        listed = _spine(project, db, "token", "list")
        assert listed.returncode == 0 and token not in listed.stdout and data["token"] not in listed.stdout
        assert "viewer" in listed.stdout and "operator" in listed.stdout

    def test_revoke(self, project: Path) -> None:
        """`spine token revoke ID` revokes; an unknown id is one line, exit 2."""
        db = f"sqlite:///{project / 't.db'}"
        data = json.loads(_spine(project, db, "token", "create", "--role", "admin", "--json").stdout)
        assert _spine(project, db, "token", "revoke", data["id"]).returncode == 0
        assert json.loads(_spine(project, db, "token", "list", "--json").stdout) == []
        bad = _spine(project, db, "token", "revoke", "nope")
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1

    def test_a_bad_role_is_a_usage_error(self, project: Path) -> None:
        out = _spine(project, f"sqlite:///{project / 't.db'}", "token", "create", "--role", "root")
        assert out.returncode == 2 and "root" in out.stderr

    def test_beyond_loopback_without_tokens_is_refused(self, project: Path) -> None:
        """`spine serve --host 0.0.0.0` with no token configured exits 2 with one line and does not listen."""
        out = _spine(project, f"sqlite:///{project / 't.db'}", "serve", "--host", "0.0.0.0", "--port", str(_api.free_port()))
        assert out.returncode == 2
        assert len(out.stderr.strip().splitlines()) == 1 and "spine token create" in out.stderr

    def test_without_tokens_it_says_so_and_serves_loopback(self, project: Path) -> None:
        """Without tokens the server starts on loopback, says it lets tokenless requests in, and does."""
        with _api.serve(project, f"sqlite:///{project / 's.db'}") as srv:
            assert httpx.get(srv.base + "/api/v1/groups").status_code == 200
        assert "no API tokens configured" in srv.output()

    def test_with_tokens_it_requires_them(self, project: Path) -> None:
        """With a token configured, the server refuses a request without one (401) and takes the token."""
        db = f"sqlite:///{project / 's.db'}"
        token = _token(project, db, "viewer")
        with _api.serve(project, db) as srv:
            assert httpx.get(srv.base + "/api/v1/groups").status_code == 401
            assert httpx.get(srv.base + "/api/v1/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            assert httpx.get(srv.base + "/metrics").status_code == 200
        assert token not in srv.output()  # nothing sensitive in the logs


class TestRunsOverHttp:
    def test_a_run_survives_the_server_and_resumes(self, project: Path, db_url: str) -> None:
        """A server killed (SIGKILL) mid-run leaves its run orphaned in the store; `spine runs resume` completes it under the same id."""
        token = _token(project, db_url)
        auth = {"Authorization": f"Bearer {token}"}
        with _api.serve(project, db_url, env=FAST_LEASES) as srv:
            run_id = httpx.post(srv.base + "/api/v1/groups/ap.slow/runs", json={}, headers=auth).json()["run_id"]
            _api.wait_for(lambda: httpx.get(f"{srv.base}/api/v1/runs/{run_id}", headers=auth).json()["steps"][0]["status"] == "running",
                          what="the step to start")
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait()

        def orphaned() -> bool:
            out = _spine(project, db_url, "runs", "list", "--json")
            return any(r["run_id"] == run_id and r["status"] == "orphaned" for r in json.loads(out.stdout))

        _api.wait_for(orphaned, timeout=60, every=0.5, what="the lease to expire")
        (project / "wake").touch()
        out = _spine(project, db_url, "runs", "resume", run_id, "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["run_id"] == run_id and result["status"] == "completed"

    def test_concurrent_clients_lose_and_duplicate_nothing(self, project: Path, db_url: str) -> None:
        """Ten clients listing and reading runs while 24 runs are started from four threads: every
        started run is recorded once and completes exactly once (one attempt per step), checked in the store."""
        from spine.store import RunStore
        from spine.store.schema import group_run_executions, group_runs

        token = _token(project, db_url)
        auth = {"Authorization": f"Bearer {token}"}
        started: list[str] = []
        errors: list[str] = []
        lock = threading.Lock()
        done = threading.Event()
        with _api.serve(project, db_url, "--workers", "3") as srv:
            def reader() -> None:
                with httpx.Client(base_url=srv.base, headers=auth, timeout=30) as client:
                    while not done.is_set():
                        for r in client.get("/api/v1/runs?limit=20").json()["runs"][:3]:
                            got = client.get(f"/api/v1/runs/{r['run_id']}")
                            if got.status_code != 200:
                                with lock:
                                    errors.append(got.text)

            def starter() -> None:
                with httpx.Client(base_url=srv.base, headers=auth, timeout=60) as client:
                    for _ in range(6):
                        r = client.post("/api/v1/groups/ap.ok/runs", json={})
                        if r.status_code != 202:
                            with lock:
                                errors.append(r.text)
                            continue
                        assert client.get(r.headers["location"]).status_code == 200  # readable at once
                        with lock:
                            started.append(r.json()["run_id"])

            readers = [threading.Thread(target=reader) for _ in range(10)]
            starters = [threading.Thread(target=starter) for _ in range(4)]
            for t in readers + starters:
                t.start()
            for t in starters:
                t.join()
            with httpx.Client(base_url=srv.base, headers=auth, timeout=30) as client:
                for run_id in started:
                    _api.wait_run(client.get, run_id, timeout=120)
            done.set()
            for t in readers:
                t.join()
        assert errors == [] and len(started) == 24 == len(set(started))
        with RunStore.open(db_url) as store:
            runs = store.read(lambda c: c.execute(group_runs.select()).mappings().all())
            rows = store.read(lambda c: c.execute(group_run_executions.select()).mappings().all())
        assert sorted(r["run_id"] for r in runs) == sorted(started)
        assert {r["status"] for r in runs} == {"completed"}
        per_step: dict[tuple[str, str], list[int]] = {}
        for row in rows:
            per_step.setdefault((row["run_id"], row["step"]), []).append(row["attempt"])
        assert len(per_step) == 24 * 3 and all(attempts == [1] for attempts in per_step.values())
        assert {row["status"] for row in rows} == {"completed"}


class TestGroupFilesOverHttp:
    def test_edits_to_group_files_show_without_a_restart(self, project: Path) -> None:
        """A running `spine serve` serves an edited file's new version, a new file's group, a removed file's
        group no more (404), and a broken file's group with its findings while the others still run."""
        db = f"sqlite:///{project / 's.db'}"
        token = _token(project, db)
        groups = project / "groups"
        with _api.serve(project, db) as srv, httpx.Client(base_url=srv.base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            assert client.get("/api/v1/groups/ap.ok").json()["version"] == 1
            (groups / "ok.yaml").write_text(_api.OK_V2)
            (groups / "fresh.yaml").write_text(_api.NEW_GROUP.replace("ap.stored", "ap.fresh"))
            (groups / "slow.yaml").unlink()
            got = _api.wait_group(client.get, "ap.ok", lambda r: r.json()["version"] == 2).json()
            assert got["steps"] == 4
            assert client.get("/api/v1/groups/ap.fresh").json()["origin"] == "workspace"
            assert client.get("/api/v1/groups/ap.slow").status_code == 404

            (groups / "ok.yaml").write_text(_api.BROKEN)
            broken = _api.wait_group(client.get, "ap.ok", lambda r: r.json()["findings"] != []).json()
            assert [(f["code"], f["line"]) for f in broken["findings"]] == [("yaml-syntax", 3)]
            refused = client.post("/api/v1/groups/ap.ok/runs", json={})
            assert refused.status_code == 422 and refused.json()["findings"][0]["code"] == "yaml-syntax"
            assert [g["name"] for g in client.get("/api/v1/groups").json()["groups"]] == ["ap.flow", "ap.fresh", "ap.ok", "ap.params"]
            run_id = client.post("/api/v1/groups/ap.fresh/runs", json={}).json()["run_id"]
            assert _api.wait_run(client.get, run_id)["status"] == "completed"
            assert srv.proc.poll() is None


class TestOpenApi:
    def test_the_served_document_holds(self, project: Path) -> None:
        """schemathesis against the served /openapi.json, as admin: no 5xx, and every response
        matches its documented status, content type and schema (a few examples per operation)."""
        schemathesis = pytest.importorskip("schemathesis")
        from hypothesis import HealthCheck, Phase, given, settings
        from schemathesis import checks

        db = f"sqlite:///{project / 's.db'}"
        auth = {"Authorization": f"Bearer {_token(project, db)}"}
        chosen = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
                  checks.response_schema_conformance]
        with _api.serve(project, db) as srv:
            # a run, so that run endpoints have something real to find
            httpx.post(srv.base + "/api/v1/groups/ap.flow/runs", json={}, headers=auth)
            schema = schemathesis.openapi.from_url(srv.base + "/openapi.json")
            operations = [r.ok() for r in schema.get_all_operations()]
            assert len(operations) >= 17
            for operation in operations:

                @given(case=operation.as_strategy())
                @settings(max_examples=15, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck))
                def check(case: object) -> None:
                    case.call_and_validate(base_url=srv.base, headers=auth, checks=chosen, timeout=30)  # type: ignore[attr-defined]

                check()
