"""Configuration: ``[tool.spine]`` in ``pyproject.toml`` or ``spine.toml``, then ``SPINE_*``
environment variables, then command-line flags (each overriding the one before).

Found by walking up from the working directory to the first folder holding a
``spine.toml`` or a ``pyproject.toml`` with a ``[tool.spine]`` table. Relative paths are
relative to that folder, which is also put on ``sys.path`` when pipeline modules are
imported (like pytest's rootdir), so ``pipelines = ["examples.pipelines"]`` just works.
"""

from __future__ import annotations

import importlib
import os
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spine.core.errors import SpineError
from spine.core.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES, Limits

KEYS = ("pipelines", "groups", "database", "max_file_size", "max_depth", "max_nodes", "lint", "dot", "pools", "celery")
#: Keys of the ``[tool.spine.lint]`` table (``lint.ignore = [...]`` in ``[tool.spine]``).
LINT_KEYS = ("ignore",)
#: Keys of the ``[tool.spine.celery]`` table; each also read from ``SPINE_CELERY_<KEY>``.
CELERY_KEYS = ("broker", "result_backend", "visibility_timeout")


class ConfigError(SpineError):
    """The configuration is malformed or names a module that cannot be imported (exit 2)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, resolved."""

    #: Modules imported to register pipelines.
    pipelines: tuple[str, ...] = ()
    #: Files and folders loaded into the group registry.
    groups: tuple[str, ...] = ()
    #: Where runs are recorded (``none``: nowhere); a relative SQLite path is relative to ``root``.
    #: ``SPINE_DATABASE_URL`` (or ``SPINE_DATABASE``) and ``--db`` override it.
    database: str = "sqlite:///.spine/spine.db"
    #: ``[tool.spine.pools]``: pool name → how many steps of that pool may run at once.
    pools: dict[str, int] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES
    #: Warning codes to ignore (``lint.ignore``), as written: checked where they are used.
    lint_ignore: tuple[str, ...] = ()
    #: Where ``lint_ignore`` came from, for messages about it.
    lint_ignore_source: str | None = None
    #: Graphviz's ``dot`` for SVG: a program name looked up on ``PATH``, or a path
    #: (``[tool.spine] dot``, relative to the configuration's folder, or ``SPINE_DOT``).
    dot: str = "dot"
    #: ``[tool.spine.celery]``: ``broker`` (a Redis or RabbitMQ URL), ``result_backend`` (default:
    #: chosen for the broker), ``visibility_timeout`` (Redis, seconds). ``SPINE_CELERY_BROKER`` …
    celery: dict[str, Any] = field(default_factory=dict)
    #: The folder the configuration was found in (``None``: no configuration).
    root: Path | None = None
    #: The file the configuration came from.
    source: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_file_size, max_depth=self.max_depth, max_nodes=self.max_nodes)

    def resolve_path(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() or self.root is None else self.root / p


def find_config(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The first ``spine.toml`` or ``pyproject.toml`` with ``[tool.spine]`` from ``start`` up."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        spine_toml = folder / "spine.toml"
        if spine_toml.is_file():
            data = _read_toml(spine_toml)
            return spine_toml, data.get("tool", {}).get("spine", data)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            table = data.get("tool", {}).get("spine")
            if table is not None:
                return pyproject, table
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc


def load_settings(
    start: Path | None = None, env: dict[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Settings from the configuration file and ``SPINE_*`` variables (flags come later)."""
    env = dict(os.environ) if env is None else env
    if config_file is not None:
        data = _read_toml(config_file)
        found: tuple[Path, dict[str, Any]] | None = (config_file, data.get("tool", {}).get("spine", data))
    else:
        found = find_config(start)
    settings = Settings()
    if found is not None:
        path, table = found
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.spine] must be a table")
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) in [tool.spine]: {', '.join(unknown)} (known: {', '.join(KEYS)})")
        settings = _apply(settings, table, str(path))
        settings = replace(settings, root=path.parent, source=path)
        if "dot" in table and _is_path(settings.dot) and not Path(settings.dot).is_absolute():
            settings = replace(settings, dot=str(path.parent / settings.dot))
    from_env: dict[str, Any] = {}
    for key in KEYS:
        if key in ("lint", "celery"):
            continue  # a table: no environment variable (celery's keys have their own)
        var = f"SPINE_{key.upper()}"
        if var in env and env[var] != "":
            raw = env[var]
            from_env[key] = [x for x in raw.split(os.pathsep if key == "groups" else ",") if x] if key in ("pipelines", "groups") else raw
    if env.get("SPINE_DATABASE_URL"):
        from_env["database"] = env["SPINE_DATABASE_URL"]
    if "pools" in from_env:
        from_env["pools"] = _pools_from_env(from_env["pools"])
    celery_env = {k: env[f"SPINE_CELERY_{k.upper()}"] for k in CELERY_KEYS if env.get(f"SPINE_CELERY_{k.upper()}")}
    if celery_env:
        from_env["celery"] = {**settings.celery, **celery_env}
    return _apply(settings, from_env, "environment")


def _pools_from_env(raw: str) -> dict[str, Any]:
    """``SPINE_POOLS=warehouse=2,api=1`` → ``{"warehouse": "2", "api": "1"}`` (checked by _apply)."""
    pools: dict[str, Any] = {}
    for item in (x.strip() for x in raw.split(",")):
        if not item:
            continue
        name, sep, size = item.partition("=")
        if not sep:
            raise ConfigError(f"SPINE_POOLS: {item!r} must be NAME=SIZE, e.g. warehouse=2")
        pools[name.strip()] = size.strip()
    return pools


def _apply(settings: Settings, table: dict[str, Any], where: str) -> Settings:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("pipelines", "groups"):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of strings")
            changes[key] = tuple(value)
        elif key in ("max_file_size", "max_depth", "max_nodes"):
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: {key} must be a positive integer, got {value!r}") from None
            if number < 1:
                raise ConfigError(f"{where}: {key} must be a positive integer, got {value!r}")
            changes[key] = number
        elif key == "database":
            changes[key] = str(value)
        elif key == "lint":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: lint must be a table (lint.ignore = [\"CODE\", …])")
            unknown = sorted(set(value) - set(LINT_KEYS))
            if unknown:
                raise ConfigError(f"{where}: unknown key(s) in [tool.spine.lint]: {', '.join(unknown)} (known: {', '.join(LINT_KEYS)})")
            ignore = value.get("ignore", [])
            if isinstance(ignore, str):
                ignore = [ignore]
            if not isinstance(ignore, list) or not all(isinstance(v, str) for v in ignore):
                raise ConfigError(f"{where}: lint.ignore must be a list of finding codes (strings)")
            changes["lint_ignore"] = tuple(ignore)
            changes["lint_ignore_source"] = f"{where}: lint.ignore"
        elif key == "dot":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: dot must name Graphviz's dot program (a name on PATH or a path), got {value!r}")
            changes[key] = value
        elif key == "pools":
            changes[key] = _pools(value, where)
        elif key == "celery":
            changes[key] = _celery(value, where)
    return replace(settings, **changes)


def _is_path(program: str) -> bool:
    return os.sep in program or (os.altsep is not None and os.altsep in program)


def _pools(value: Any, where: str) -> dict[str, int]:
    """``[tool.spine.pools]``: names like group names, sizes integers ≥ 1."""
    import re

    if not isinstance(value, dict):
        raise ConfigError(f"{where}: pools must be a table of pool names and sizes, e.g. [tool.spine.pools] warehouse = 2")
    pools: dict[str, int] = {}
    for name, size in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", name):
            raise ConfigError(f"{where}: pool name {name!r} must be letters, digits, '_', '.', '-' (starting with a letter or digit)")
        try:
            number = int(size) if not isinstance(size, (bool, float)) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < 1:
            raise ConfigError(f"{where}: pool {name!r} must have a size that is an integer ≥ 1, got {size!r}")
        pools[name] = number
    return pools


def _celery(value: Any, where: str) -> dict[str, Any]:
    """``[tool.spine.celery]``: broker and result_backend URLs, visibility_timeout seconds > 0."""
    if not isinstance(value, dict):
        raise ConfigError(f'{where}: celery must be a table, e.g. [tool.spine.celery] broker = "redis://127.0.0.1:6379/0"')
    unknown = sorted(set(value) - set(CELERY_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in [tool.spine.celery]: {', '.join(unknown)} (known: {', '.join(CELERY_KEYS)})")
    out: dict[str, Any] = {}
    for key in ("broker", "result_backend"):
        if key in value:
            url = value[key]
            if not isinstance(url, str) or "://" not in url:
                raise ConfigError(f"{where}: celery.{key} must be a URL such as redis://127.0.0.1:6379/0, got {url!r}")
            out[key] = url
    if "visibility_timeout" in value:
        raw = value["visibility_timeout"]
        try:
            seconds = float(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            seconds = None
        if seconds is None or not seconds > 0:
            raise ConfigError(f"{where}: celery.visibility_timeout must be a number of seconds > 0, got {raw!r}")
        out["visibility_timeout"] = seconds
    return out


def import_pipeline_modules(settings: Settings) -> list[str]:
    """Import every module in ``settings.pipelines``; returns their names."""
    root = str(settings.root if settings.root is not None else Path.cwd())
    if root not in sys.path:
        sys.path.insert(0, root)
    done = []
    for name in settings.pipelines:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise ConfigError(
                f"cannot import pipeline module {name!r} (from {_origin(settings)}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        done.append(name)
    return done


def _origin(settings: Settings) -> str:
    if os.environ.get("SPINE_PIPELINES"):
        return "SPINE_PIPELINES"
    return str(settings.source or "configuration")
