"""Hypothesis strategies for pipeline groups: fuzz your group definitions and your code.

Use them in your own test suite::

    from hypothesis import given
    from spine.orchestration import PlanResolver
    from spine.testing import groups

    @given(groups())
    def test_every_group_plans(group):
        plan = PlanResolver().resolve(group)
        assert len(plan.steps) == len(group.steps)

What is here:

* names — :func:`step_names` (awkward but valid: quotes, ``<script>``, ``->``, braces,
  emoji, CJK, right-to-left text, ``__proto__``), :func:`invalid_step_names`,
  :func:`group_names`, :func:`invalid_group_names`, :func:`pipeline_names`;
* graphs and groups — :func:`dags` (acyclic by construction), :func:`groups` (valid
  models), :func:`group_documents` (the same as dicts or YAML text), :func:`policies`,
  :func:`template_strings`;
* invalid on purpose, each paired with the :class:`ExpectedFindings` it must cause —
  :func:`cyclic_groups`, :func:`groups_with_missing_dependencies`,
  :func:`broken_documents`, :func:`mutations`;
* run parameters — :func:`run_params` (satisfy the pipelines' ``ParamDef``\\ s and every
  ``params.<name>`` the templates use) and :func:`invalid_run_params`.

Every strategy checks its arguments when it is built and raises
``hypothesis.errors.InvalidArgument`` with a message saying what is wrong.

hypothesis is an optional dependency of spine: install it with the ``fuzz`` extra
(``pip install 'spine-core[fuzz]'``) or on its own (``pip install hypothesis``).
"""

try:
    import hypothesis as _hypothesis  # noqa: F401
except ImportError as _exc:  # tested by hiding hypothesis from sys.modules
    raise ImportError(
        "spine.testing needs hypothesis, which is not installed: install it with "
        "`pip install 'spine-core[fuzz]'` (or `pip install hypothesis`) to use spine's strategies"
    ) from _exc

from spine.testing._dags import dags
from spine.testing._groups import (
    BROKEN_KINDS,
    SCHEMA_DETECTABLE_KINDS,
    ExpectedFindings,
    broken_documents,
    cyclic_groups,
    group_documents,
    groups,
    groups_with_missing_dependencies,
    policies,
    template_strings,
)
from spine.testing._mutations import MUTATION_KINDS, mutations
from spine.testing._names import (
    AWKWARD_STEP_NAMES,
    group_names,
    invalid_group_names,
    invalid_step_names,
    pipeline_names,
    step_names,
)
from spine.testing._params import (
    invalid_run_params,
    param_values_for,
    run_params,
    template_param_names,
)
from spine.testing._values import param_values

__all__ = [
    "AWKWARD_STEP_NAMES",
    "BROKEN_KINDS",
    "MUTATION_KINDS",
    "SCHEMA_DETECTABLE_KINDS",
    "ExpectedFindings",
    "broken_documents",
    "cyclic_groups",
    "dags",
    "group_documents",
    "group_names",
    "groups",
    "groups_with_missing_dependencies",
    "invalid_group_names",
    "invalid_run_params",
    "invalid_step_names",
    "mutations",
    "param_values",
    "param_values_for",
    "pipeline_names",
    "policies",
    "run_params",
    "step_names",
    "template_param_names",
    "template_strings",
]
