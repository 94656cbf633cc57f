"""The JSON Schema of the ``spine.io/v1`` format, shipped as package data."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any


def schema_text() -> str:
    """The schema as JSON text (what ``spine schema`` prints)."""
    return files("spine.orchestration").joinpath("schema/pipeline-group.schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def group_schema() -> dict[str, Any]:
    """The schema as a dict."""
    return json.loads(schema_text())
