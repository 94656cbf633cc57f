"""Plan diffs: what a change does to a group, as data (renderers live in :mod:`spine.render`)."""

from spine.diff.compare import (
    Change,
    DiffEdge,
    DiffNode,
    DiffReport,
    GroupDiff,
    KeyChange,
    MergedGraph,
    StepChange,
    StepRef,
    StepRename,
    diff_groups,
    diff_mappings,
    diff_sets,
    find_renames,
)

__all__ = [
    "Change",
    "DiffEdge",
    "DiffNode",
    "DiffReport",
    "GroupDiff",
    "KeyChange",
    "MergedGraph",
    "StepChange",
    "StepRef",
    "StepRename",
    "diff_groups",
    "diff_mappings",
    "diff_sets",
    "find_renames",
]
