"""Checking groups: paths, documents or groups in, a typed :class:`ValidationReport` out.

The one pipeline behind ``spine group validate``, ``report``, ``plan``, ``fuzz`` and
``diff`` (and later the HTTP API): read (de-duplicated by resolved path), check and lint,
find duplicate group names, work out which run params each group reads, resolve plans
when run params are given, drop ignored warning codes.

    report = check_paths(["groups/"], CheckSettings(registry=..., strict=True))
    for g in report.groups:
        print(g.name, g.valid, [f.code for f in g.findings], [p.name for p in g.run_params.params])

It sits above :mod:`spine.orchestration` and :mod:`spine.lint` (it uses both) and below
:mod:`spine.render` (whose CI formats take its report) and :mod:`spine.cli`.
"""

from spine.check.codes import ERROR_CODES, IGNORABLE_CODES, WARNING_CODES, ignore_codes
from spine.check.errors import (
    CheckInputError,
    GitSourceError,
    IgnoreCodeError,
    NoGroupFilesError,
    PathNotFoundError,
    RunParamSyntaxError,
)
from spine.check.pipeline import STDIN, check_documents, check_groups, check_paths, group_files, read_paths
from spine.check.report import CheckSettings, FileCheck, GroupCheck, PlanStatus, ValidationReport
from spine.check.run_params import (
    ParamRead,
    RunParam,
    RunParamUse,
    TemplateParams,
    parse_params,
    run_params_of,
    template_params,
)
from spine.check.sources import GIT_PREFIX, Source, parse_git_spec, read_source

__all__ = [
    "ERROR_CODES",
    "GIT_PREFIX",
    "IGNORABLE_CODES",
    "STDIN",
    "WARNING_CODES",
    "CheckInputError",
    "CheckSettings",
    "FileCheck",
    "GitSourceError",
    "GroupCheck",
    "IgnoreCodeError",
    "NoGroupFilesError",
    "ParamRead",
    "PathNotFoundError",
    "PlanStatus",
    "RunParam",
    "RunParamSyntaxError",
    "RunParamUse",
    "Source",
    "TemplateParams",
    "ValidationReport",
    "check_documents",
    "check_groups",
    "check_paths",
    "group_files",
    "ignore_codes",
    "parse_git_spec",
    "parse_params",
    "read_paths",
    "read_source",
    "run_params_of",
    "template_params",
]
