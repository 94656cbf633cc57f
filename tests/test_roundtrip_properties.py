"""YAML ↔ model ↔ dict round trips, the spec validator against the JSON Schema, and broken documents."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spine.core.errors import GroupError, InvalidGroupSpecError
from spine.orchestration import (
    PipelineGroup,
    PipelineStep,
    group_schema,
    group_to_yaml,
    load_group_from_text,
    load_groups_from_text,
    validate_group,
)
from spine.testing import (
    BROKEN_KINDS,
    broken_documents,
    group_documents,
    groups,
    step_names,
)

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Round trips of whole groups: one bug at a time, so a failure shrinks in reasonable time.
ROUND_TRIP = settings(PROPERTY, report_multiple_bugs=False)
SCHEMA = jsonschema.Draft202012Validator(group_schema())
YAML_ONLY_KINDS = ["duplicate-key", "yaml-syntax", "unsupported-tag", "too-deep", "recursive-alias", "undefined-alias"]


def error_codes_of(document: Any) -> set[str]:
    """What `spine group validate` reports for one document: its spec errors, or else the group's findings."""
    try:
        if isinstance(document, str):
            group = load_group_from_text(document)
        else:
            group = PipelineGroup.from_dict(document)
    except InvalidGroupSpecError as exc:
        return {f.code for f in exc.findings if f.severity.value == "error"}
    return {f.code for f in validate_group(group) if f.severity.value == "error"}


# -- round trips ---------------------------------------------------------------------------


@ROUND_TRIP
@given(groups(templates=True, max_steps=6))
def test_yaml_round_trip_gives_an_equal_group(group):
    """``load_group_from_text(group_to_yaml(g)) == g`` for any valid group: awkward names, YAML-lookalike keys and values, templates."""
    assert load_group_from_text(group_to_yaml(group)) == group


@pytest.mark.parametrize("value", [{"k": 1}, [], "text", None])
def test_a_param_named_like_the_merge_key_round_trips(value):
    """A param literally named ``<<`` (quoted by the dumper) is a plain key, not a YAML merge, when loaded back."""
    group = PipelineGroup(name="g", steps=[PipelineStep("a", "p", params={"<<": value})])
    assert load_group_from_text(group_to_yaml(group)) == group


@ROUND_TRIP
@given(groups(templates=True, max_steps=6))
def test_dict_round_trip_gives_an_equal_group(group):
    """``PipelineGroup.from_dict(g.to_dict()) == g`` and the document is reproduced exactly."""
    doc = group.to_dict()
    back = PipelineGroup.from_dict(doc)
    assert back == group
    assert back.to_dict() == doc


@settings(ROUND_TRIP, max_examples=15)
@given(st.lists(groups(max_steps=3), min_size=1, max_size=3))
def test_multi_document_yaml_round_trip(many):
    """Several groups written as one ``---``-separated YAML text load back equal, in order."""
    assert load_groups_from_text(group_to_yaml(many)) == many


@PROPERTY
@given(step_names())
def test_step_names_survive_yaml_byte_for_byte(name):
    """Any valid step name, used as a step name, a dependency and a param value, survives YAML unchanged."""
    other = "next" if name != "next" else "after"
    group = PipelineGroup(
        name="g",
        steps=[PipelineStep(name, "p", params={"who": name}), PipelineStep(other, "p", depends_on=[name])],
    )
    back = load_group_from_text(group_to_yaml(group).encode("utf-8"))
    assert back.steps[0].name.encode("utf-8") == name.encode("utf-8")
    assert back.steps[1].depends_on == (name,)
    assert back.steps[0].params["who"] == name


# -- the validator and the JSON Schema -------------------------------------------------------


@PROPERTY
@given(group_documents(format="dict"))
def test_schema_and_validator_accept_valid_documents(doc):
    """Every valid generated document is accepted by the hand-written validator and by the shipped JSON Schema."""
    assert error_codes_of(doc) == set()
    errors = [e.message for e in SCHEMA.iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("kind", [k for k in BROKEN_KINDS if k not in YAML_ONLY_KINDS])
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_broken_document_kind_reports_exactly_its_findings(kind, data):
    """A document with one thing wrong is rejected with exactly the finding codes that thing causes; when the JSON Schema can express the rule, the schema rejects it too."""
    doc, expected = data.draw(broken_documents(kinds=[kind]))
    assert error_codes_of(doc) == set(expected.codes)
    if expected.schema_detectable:
        assert not SCHEMA.is_valid(doc)


@pytest.mark.parametrize("kind", YAML_ONLY_KINDS)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_yaml_only_breakage_reports_exactly_its_finding(kind, data):
    """Duplicate keys, syntax errors, tags, excessive depth and bad aliases are each reported with exactly their code."""
    text, expected = data.draw(broken_documents(format="yaml", kinds=[kind]))
    assert error_codes_of(text) == set(expected.codes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_documents(format="yaml"))
def test_broken_documents_as_yaml_report_exactly_their_findings(pair):
    """Any broken document written as YAML text reports the same exact codes as the dict form would."""
    text, expected = pair
    assert error_codes_of(text) == set(expected.codes), expected.kind


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(),
        st.binary(),
        st.tuples(group_documents(format="yaml", max_steps=3), st.integers(0, 10_000), st.text(max_size=5)).map(
            lambda t: t[0][: t[1] % (len(t[0]) + 1)] + t[2] + t[0][t[1] % (len(t[0]) + 1) :]
        ),
    )
)
def test_any_text_loads_or_raises_a_group_error(data):
    """Any text or bytes — random, or a valid group with junk spliced in — either loads or raises a GroupError subclass, nothing else."""
    try:
        load_group_from_text(data)
    except GroupError:
        pass


def test_yaml_kinds_are_only_offered_for_yaml():
    """Text-only breakages are not offered for dict documents."""
    with pytest.raises(Exception, match="duplicate-key"):
        broken_documents(kinds=["duplicate-key"])
