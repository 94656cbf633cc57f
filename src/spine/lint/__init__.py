"""Lint: warnings with stable codes about groups that are valid but probably not meant."""

from spine.lint.rules import LINT_CODES, Closure, lint_group

__all__ = ["LINT_CODES", "Closure", "lint_group"]
