"""The one fuzz target shared by the hypothesis test, the long run and atheris.

Guarantee: for ANY input, reading it as a group file, checking every group it holds and
resolving the valid ones either succeeds or raises a :class:`spine.core.errors.GroupError`
subclass — never another exception, never a hang, never unbounded memory.
"""

from __future__ import annotations

from spine.core.errors import GroupError
from spine.core.limits import Limits
from spine.orchestration.planner import PlanResolver, validate_group
from spine.orchestration.spec import parse_document
from spine.yamlio.reader import read_documents

#: Small limits so that a fuzzer explores the limit paths too, not just big inputs.
RUN_PARAMS = {"tier": "NMS_TIER_1", "week_ending": "2024-01-05", "trade_date": "2024-01-05", "x": 1}
FUZZ_LIMITS = Limits(max_bytes=64 * 1024, max_depth=50, max_nodes=20_000)


def load_everything(data: bytes | str) -> int:
    """Read, check and plan ``data``; returns the number of groups that planned."""
    planned = 0
    try:
        docs = read_documents(data, "fuzz.yaml", FUZZ_LIMITS)
    except GroupError:
        return 0
    for doc in docs:
        group, findings = parse_document(doc)
        if group is None:
            continue
        findings = [*findings, *validate_group(group)]
        if findings:
            continue
        try:
            PlanResolver().resolve(group, RUN_PARAMS)
        except GroupError:
            continue
        planned += 1
    return planned
