"""Configuration: where it is found, what it may hold, environment overrides, importing pipelines."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine.config import ConfigError, Settings, find_config, import_pipeline_modules, load_settings
from spine.core.errors import SpineError
from spine.core.limits import DEFAULT_MAX_BYTES
from spine.framework import default_pipeline_registry


@pytest.fixture
def restore_imports() -> Iterator[None]:
    """Undo sys.path and sys.modules changes made by importing pipeline modules."""
    path = list(sys.path)
    modules = set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


class TestFinding:
    def test_pyproject_found_walking_up(self, in_tmp: Path) -> None:
        """[tool.spine] in a parent folder's pyproject.toml is found from a subfolder."""
        (in_tmp / "pyproject.toml").write_text('[tool.spine]\ngroups = ["g"]\n')
        sub = in_tmp / "a" / "b"
        sub.mkdir(parents=True)
        path, table = find_config(sub)
        assert path == in_tmp / "pyproject.toml"
        assert table == {"groups": ["g"]}

    def test_pyproject_without_table_is_skipped(self, in_tmp: Path) -> None:
        """A pyproject.toml without [tool.spine] does not stop the search upwards."""
        (in_tmp / "pyproject.toml").write_text('[tool.spine]\ngroups = ["up"]\n')
        sub = in_tmp / "pkg"
        sub.mkdir()
        (sub / "pyproject.toml").write_text('[project]\nname = "x"\n')
        assert load_settings(sub, env={}).groups == ("up",)

    def test_spine_toml_preferred(self, in_tmp: Path) -> None:
        """spine.toml wins over pyproject.toml in the same folder."""
        (in_tmp / "pyproject.toml").write_text('[tool.spine]\ngroups = ["from_pyproject"]\n')
        (in_tmp / "spine.toml").write_text('groups = ["from_spine_toml"]\n')
        settings = load_settings(in_tmp, env={})
        assert settings.groups == ("from_spine_toml",)
        assert settings.source == in_tmp / "spine.toml"

    def test_spine_toml_with_tool_table(self, in_tmp: Path) -> None:
        """spine.toml may also hold a [tool.spine] table."""
        (in_tmp / "spine.toml").write_text('[tool.spine]\npipelines = ["m"]\n')
        assert load_settings(in_tmp, env={}).pipelines == ("m",)

    def test_no_configuration(self, in_tmp: Path) -> None:
        """With no configuration the defaults apply and root is None."""
        settings = load_settings(in_tmp, env={})
        assert settings == Settings()
        assert settings.root is None

    def test_explicit_config_file(self, in_tmp: Path) -> None:
        """config_file= reads that file instead of searching."""
        (in_tmp / "spine.toml").write_text('groups = ["found"]\n')
        other = in_tmp / "elsewhere.toml"
        other.write_text('[tool.spine]\ngroups = ["explicit"]\n')
        assert load_settings(in_tmp, env={}, config_file=other).groups == ("explicit",)


class TestContent:
    def test_unknown_key_is_error(self, in_tmp: Path) -> None:
        """An unknown key raises ConfigError naming it."""
        (in_tmp / "spine.toml").write_text('pipeline = ["m"]\n')
        with pytest.raises(ConfigError, match="pipeline"):
            load_settings(in_tmp, env={})

    def test_config_error_is_spine_error(self) -> None:
        """ConfigError is a SpineError."""
        assert issubclass(ConfigError, SpineError)

    def test_bad_toml_is_config_error(self, in_tmp: Path) -> None:
        """A TOML syntax error raises ConfigError, not a tomllib error."""
        (in_tmp / "spine.toml").write_text("groups = [\n")
        with pytest.raises(ConfigError):
            load_settings(in_tmp, env={})

    def test_wrong_type_is_config_error(self, in_tmp: Path) -> None:
        """groups given as a number raises ConfigError."""
        (in_tmp / "spine.toml").write_text("groups = 3\n")
        with pytest.raises(ConfigError, match="groups"):
            load_settings(in_tmp, env={})

    def test_nonpositive_size_is_config_error(self, in_tmp: Path) -> None:
        """max_file_size = 0 raises ConfigError."""
        (in_tmp / "spine.toml").write_text("max_file_size = 0\n")
        with pytest.raises(ConfigError):
            load_settings(in_tmp, env={})

    def test_single_string_is_a_list(self, in_tmp: Path) -> None:
        """A single string for pipelines is read as a one-item list."""
        (in_tmp / "spine.toml").write_text('pipelines = "m"\n')
        assert load_settings(in_tmp, env={}).pipelines == ("m",)

    def test_relative_paths_resolve_against_config_folder(self, in_tmp: Path) -> None:
        """Relative group paths resolve against the folder of the configuration, not the cwd."""
        (in_tmp / "spine.toml").write_text('groups = ["groups"]\n')
        sub = in_tmp / "deep" / "er"
        sub.mkdir(parents=True)
        settings = load_settings(sub, env={})
        assert settings.root == in_tmp
        assert settings.resolve_path(settings.groups[0]) == in_tmp / "groups"

    def test_absolute_paths_kept(self, in_tmp: Path) -> None:
        """An absolute path is used as is."""
        (in_tmp / "spine.toml").write_text("")
        settings = load_settings(in_tmp, env={})
        assert settings.resolve_path("/abs/groups") == Path("/abs/groups")


class TestEnvironment:
    def test_spine_pipelines_overrides(self, in_tmp: Path) -> None:
        """SPINE_PIPELINES (comma-separated) overrides the file."""
        (in_tmp / "spine.toml").write_text('pipelines = ["from_file"]\n')
        settings = load_settings(in_tmp, env={"SPINE_PIPELINES": "a.b,c.d"})
        assert settings.pipelines == ("a.b", "c.d")

    def test_spine_groups_overrides(self, in_tmp: Path) -> None:
        """SPINE_GROUPS (os.pathsep-separated) overrides the file."""
        (in_tmp / "spine.toml").write_text('groups = ["from_file"]\n')
        settings = load_settings(in_tmp, env={"SPINE_GROUPS": f"x{os.pathsep}y"})
        assert settings.groups == ("x", "y")

    def test_spine_max_file_size_overrides(self, in_tmp: Path) -> None:
        """SPINE_MAX_FILE_SIZE overrides the file and reaches the limits."""
        (in_tmp / "spine.toml").write_text("max_file_size = 100\n")
        settings = load_settings(in_tmp, env={"SPINE_MAX_FILE_SIZE": "4096"})
        assert settings.max_file_size == 4096
        assert settings.limits.max_bytes == 4096

    def test_env_without_file(self, in_tmp: Path) -> None:
        """SPINE_* variables work with no configuration file."""
        settings = load_settings(in_tmp, env={"SPINE_MAX_FILE_SIZE": "10"})
        assert (settings.max_file_size, settings.root) == (10, None)

    def test_bad_env_value_is_config_error(self, in_tmp: Path) -> None:
        """A non-numeric SPINE_MAX_FILE_SIZE raises ConfigError."""
        with pytest.raises(ConfigError):
            load_settings(in_tmp, env={"SPINE_MAX_FILE_SIZE": "big"})

    def test_empty_env_value_ignored(self, in_tmp: Path) -> None:
        """An empty SPINE_* variable is ignored."""
        assert load_settings(in_tmp, env={"SPINE_MAX_FILE_SIZE": ""}).max_file_size == DEFAULT_MAX_BYTES

    def test_process_environment_used_by_default(self, in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without env=, the process environment is read."""
        monkeypatch.setenv("SPINE_GROUPS", "from_env")
        assert load_settings(in_tmp).groups == ("from_env",)


class TestImportPipelineModules:
    def test_imports_module_from_config_root(self, in_tmp: Path, restore_imports: None) -> None:
        """A module next to the configuration is imported and registers its pipelines."""
        module = f"spine_test_pipes_{uuid.uuid4().hex}"
        (in_tmp / f"{module}.py").write_text(
            "from spine.framework import register_pipeline\n"
            f"@register_pipeline('{module}.ingest')\n"
            "def ingest(params, ctx):\n    return 1\n"
        )
        (in_tmp / "spine.toml").write_text(f'pipelines = ["{module}"]\n')
        sub = in_tmp / "sub"
        sub.mkdir()
        settings = load_settings(sub, env={})
        assert import_pipeline_modules(settings) == [module]
        assert f"{module}.ingest" in default_pipeline_registry

    def test_missing_module_is_config_error(self, in_tmp: Path, restore_imports: None) -> None:
        """A module that cannot be imported raises ConfigError naming it."""
        settings = Settings(pipelines=("no_such_module_xyz",), root=in_tmp)
        with pytest.raises(ConfigError, match="no_such_module_xyz"):
            import_pipeline_modules(settings)


class TestDot:
    def test_default_is_dot_on_path(self, in_tmp: Path) -> None:
        """Without configuration the Graphviz program is the name ``dot``, found on PATH when it runs."""
        assert load_settings(in_tmp, env={}).dot == "dot"

    def test_relative_path_is_relative_to_the_configuration(self, in_tmp: Path) -> None:
        """``[tool.spine] dot = "tools/dot"`` is a path below the configuration's folder, wherever spine runs."""
        (in_tmp / "spine.toml").write_text('dot = "tools/dot"\n')
        sub = in_tmp / "sub"
        sub.mkdir()
        assert load_settings(sub, env={}).dot == str(in_tmp / "tools" / "dot")

    def test_bare_name_stays_a_name(self, in_tmp: Path) -> None:
        """A name without a slash (``dot-2.43``) is kept as a program name to look up on PATH."""
        (in_tmp / "spine.toml").write_text('dot = "dot-2.43"\n')
        assert load_settings(in_tmp, env={}).dot == "dot-2.43"

    def test_environment_overrides_the_file(self, in_tmp: Path) -> None:
        """``SPINE_DOT`` wins over ``[tool.spine] dot``."""
        (in_tmp / "spine.toml").write_text('dot = "tools/dot"\n')
        assert load_settings(in_tmp, env={"SPINE_DOT": "/opt/graphviz/bin/dot"}).dot == "/opt/graphviz/bin/dot"

    def test_empty_or_non_string_is_refused(self, in_tmp: Path) -> None:
        """``dot = ""`` or ``dot = 3`` is a ConfigError naming the key."""
        for value in ('""', "3"):
            (in_tmp / "spine.toml").write_text(f"dot = {value}\n")
            with pytest.raises(ConfigError, match="dot must name"):
                load_settings(in_tmp, env={})
