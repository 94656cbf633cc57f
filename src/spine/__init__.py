"""spine: pipeline groups — named, versioned DAGs of pipeline steps.

The public API lives in :mod:`spine.orchestration` (groups, loader, planner) and
:mod:`spine.framework` (pipelines and their parameters).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
