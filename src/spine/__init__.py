"""spine: pipeline groups — named, versioned DAGs of pipeline steps.

The public API lives in :mod:`spine.orchestration` (groups, loader, planner) and
:mod:`spine.framework` (pipelines and their parameters).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spine-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
