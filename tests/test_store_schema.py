"""The schema: Alembic builds exactly the tables the code uses; versions; bad databases."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from _db import Pipes, db_url, store  # noqa: F401 - fixtures

from spine.store import (
    HEAD_REVISION,
    BadDatabaseURLError,
    RunStore,
    SchemaVersionError,
    StoreCorruptError,
    StoreError,
    StoreUnavailableError,
)
from spine.store.schema import KNOWN_REVISIONS, metadata
from spine.store.store import MIGRATIONS


def _set_revision(store: RunStore, revision: str) -> None:
    store.write(lambda c: c.exec_driver_sql("UPDATE alembic_version SET version_num = '%s'" % revision))


class TestMigrations:
    def test_migrations_build_exactly_the_tables_of_the_code(self, store) -> None:
        """Alembic's comparison of the migrated database with schema.metadata finds no difference."""
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        def diff(conn: sa.Connection) -> list:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)

        assert store.read(diff) == []

    def test_head_revision_is_the_newest_script(self) -> None:
        """HEAD_REVISION and KNOWN_REVISIONS name the shipped migration scripts, newest last."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        scripts = ScriptDirectory.from_config(cfg)
        chain = [s.revision for s in scripts.walk_revisions()][::-1]
        assert (tuple(chain), scripts.get_current_head()) == (KNOWN_REVISIONS, HEAD_REVISION)

    def test_an_empty_database_is_created_on_first_use(self, db_url: str) -> None:
        """RunStore.open on an empty database creates the schema at the head revision."""
        with RunStore.open(db_url) as s:
            assert s.schema_state().found == HEAD_REVISION

    def test_upgrade_of_a_current_database_changes_nothing(self, store) -> None:
        """upgrade() on a current database reports it was already at the head."""
        assert store.upgrade() == (HEAD_REVISION, HEAD_REVISION)

    def test_without_create_an_empty_database_is_refused(self, db_url: str) -> None:
        """RunStore.open(create=False) on an empty database asks for spine db upgrade."""
        with pytest.raises(SchemaVersionError, match="spine db upgrade"):
            RunStore.open(db_url, create=False)


class TestVersions:
    def test_a_newer_schema_is_refused(self, store, db_url: str) -> None:
        """A database at a revision newer than the code is refused, saying to upgrade spine."""
        _set_revision(store, "0999")
        with pytest.raises(SchemaVersionError, match="newer than this spine knows") as info:
            RunStore.open(db_url)
        assert info.value.newer and info.value.found == "0999"

    def test_a_newer_schema_is_never_downgraded(self, store, db_url: str) -> None:
        """upgrade() on a newer database refuses instead of touching it."""
        _set_revision(store, "0999")
        with pytest.raises(SchemaVersionError):
            RunStore(db_url).upgrade()
        assert RunStore(db_url).schema_state().found == "0999"

    def test_another_applications_schema_is_refused(self, store, db_url: str) -> None:
        """A database whose Alembic revision is not spine's is refused, saying so."""
        _set_revision(store, "ae1027a6acf")
        with pytest.raises(StoreError, match="another application's schema"):
            RunStore.open(db_url)


class TestBadDatabases:
    def test_a_corrupt_sqlite_file_is_one_clear_error(self, tmp_path: Path) -> None:
        """A file that is not a SQLite database raises StoreCorruptError naming the file."""
        bad = tmp_path / "spine.db"
        bad.write_bytes(b"this is not a database, just text " * 200)
        with pytest.raises(StoreCorruptError, match="not usable") as info:
            RunStore.open(f"sqlite:///{bad}")
        assert str(bad) in str(info.value) and "\n" not in str(info.value)

    @pytest.mark.parametrize(
        "url, why",
        [
            ("mysql://root@localhost/db", "not supported"),
            ("postgresql+asyncpg://u@h/db", "not supported"),
            ("sqlite://", "in-memory"),
            ("not a url at all", "not a database URL"),
        ],
    )
    def test_a_wrong_url_is_one_clear_error(self, url: str, why: str) -> None:
        """An unusable URL raises BadDatabaseURLError (exit 2) saying why and what to give."""
        with pytest.raises(BadDatabaseURLError, match=why) as info:
            RunStore.open(url)
        assert info.value.exit_code == 2 and "sqlite:///PATH" in str(info.value)

    def test_an_unreachable_server_is_a_clear_error(self) -> None:
        """A PostgreSQL URL with nothing listening raises StoreUnavailableError (no traceback text)."""
        with pytest.raises(StoreUnavailableError, match="cannot use the database") as info:
            RunStore.open("postgresql+psycopg://postgres@127.0.0.1:9/test")
        assert "Traceback" not in str(info.value)

    def test_a_relative_sqlite_path_is_relative_to_the_root(self, tmp_path: Path) -> None:
        """sqlite:///.spine/spine.db with a root lands in ROOT/.spine/spine.db, its folder created."""
        with RunStore.open("sqlite:///.spine/spine.db", root=tmp_path) as s:
            assert s.url.endswith(str(tmp_path / ".spine" / "spine.db"))
        assert (tmp_path / ".spine" / "spine.db").is_file()

    def test_the_sqlite_database_uses_wal_and_normal_sync(self, tmp_path: Path) -> None:
        """Connections to SQLite run in WAL mode with synchronous=NORMAL and a busy timeout."""
        with RunStore.open(f"sqlite:///{tmp_path / 'x.db'}") as s:
            got = s.read(lambda c: (c.exec_driver_sql("PRAGMA journal_mode").scalar(), c.exec_driver_sql("PRAGMA synchronous").scalar(),
                                    c.exec_driver_sql("PRAGMA busy_timeout").scalar()))
        assert got[0] == "wal" and got[1] == 1 and got[2] > 0


class TestUpgradeToSchedules:
    def test_a_0001_store_with_runs_upgrades_to_0002(self, db_url: str) -> None:
        """A database at 0001 is refused until `spine db upgrade`, which keeps its rows and adds the schedule tables and run columns."""
        import datetime as dt

        from alembic import command
        from alembic.config import Config

        from spine.orchestration import PipelineGroup, PlanResolver
        from spine.store import Owner, ScheduleFires
        from spine.store.errors import SchemaVersionError

        old = RunStore(db_url)

        def to_0001(conn: sa.Connection) -> None:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            conn.execute(sa.text(
                "INSERT INTO pipeline_groups (name, version, hash, definition, created_at) VALUES ('g', 1, 'h', '{}', :t)"), {"t": "2024-01-05T00:00:00.000000Z" if old.dialect == "sqlite" else "2024-01-05T00:00:00Z"})

        old.write(to_0001)
        assert old.schema_state().found == "0001"
        with pytest.raises(SchemaVersionError):
            old.ensure_schema()
        before, after = old.upgrade()
        assert (before, after) == ("0001", HEAD_REVISION)  # 0002 (schedules), then any later revision
        old.close()
        with RunStore.open(db_url) as store:
            plan = PlanResolver().resolve(PipelineGroup("g").add("a", "x.a"))
            store.start_run(plan, run_id="r1", owner=Owner.here(30), options={}, executor="inline", schedule="daily",
                            logical_date=dt.datetime(2024, 1, 8, 11, tzinfo=dt.UTC))
            assert store.run("r1").schedule == "daily"
            assert ScheduleFires(store).states() == {}
            assert store.read(lambda c: c.execute(sa.text("SELECT count(*) FROM pipeline_groups")).scalar()) == 2


class TestUpgradeToNestedGroups:
    def test_a_0003_store_with_a_composition_run_upgrades_to_0004(self, db_url: str) -> None:
        """A 0003 database with a composition's run is refused until upgraded; its run stays whole, plans with the current nested groups, and new runs keep theirs."""
        from dataclasses import replace

        from alembic import command
        from alembic.config import Config

        from spine.orchestration import PipelineGroup, PlanResolver
        from spine.orchestration.registry import GroupRegistry
        from spine.store import plan_of, record_run

        pipes = Pipes()
        inner = PipelineGroup(name="t.inner").add("a", "t.ok").add("b", "t.ok", depends_on=["a"])
        groups = GroupRegistry()
        groups.register(inner)
        outer = PipelineGroup(name="t.outer").add_group("part", "t.inner").add("end", "t.ok", depends_on=["part"])
        plan = PlanResolver(pipes.registry, groups).resolve(outer)

        old = RunStore(db_url)

        def to_0003(conn: sa.Connection) -> None:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")

        old.write(to_0003)
        # written as spine before 0004 wrote it: the run, its steps, no nested definitions
        ran = record_run(old, replace(plan, nested_groups=()), pipes.runner())
        assert old.schema_state().found == "0003"
        with pytest.raises(SchemaVersionError, match="spine db upgrade"):
            old.ensure_schema()
        assert old.upgrade() == ("0003", HEAD_REVISION)
        old.close()
        with RunStore.open(db_url) as store:
            kept = store.result(ran.run_id)
            assert [(s.name, s.status.value) for s in kept.step_executions] == [("part/a", "completed"), ("part/b", "completed"), ("end", "completed")]
            assert store.run(ran.run_id).status is ran.status
            stored = store.stored_run(ran.run_id)
            assert stored.nested == ()
            changed = GroupRegistry()
            changed.register(PipelineGroup(name="t.inner").add("z", "t.ok"))
            assert plan_of(stored, pipes.registry, changed).order == ["part/z", "end"]
            fresh = record_run(store, plan, pipes.runner())
            assert store.stored_run(fresh.run_id).nested == (inner.to_dict(),)
