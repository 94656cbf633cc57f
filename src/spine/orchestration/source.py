"""Where a group came from: its file and the positions the checks point at."""

from __future__ import annotations

from dataclasses import dataclass, field

Pos = tuple[int | None, int | None]


@dataclass(slots=True)
class SourceMap:
    """File and 1-based positions of a group document's parts.

    Kept small on purpose (a few tuples per step) so that a 100k-step group does not
    carry its whole YAML event stream around.
    """

    file: str | None
    #: 0-based index of the document in a multi-document file.
    document: int = 0
    #: Position of the document (or of ``metadata.name``).
    group: Pos = (None, None)
    #: Positions of top-level fields by dotted path (``"spec.policy.max_concurrency"``).
    fields: dict[str, Pos] = field(default_factory=dict)
    #: Per step (declaration order): the step mapping's start.
    steps: list[Pos] = field(default_factory=list)
    #: Per step: ``{key: position of its value}`` for the step's keys.
    step_fields: list[dict[str, Pos]] = field(default_factory=list)
    #: Per step: position of each ``depends_on`` item.
    deps: list[list[Pos]] = field(default_factory=list)

    def of_field(self, path: str) -> Pos:
        return self.fields.get(path, self.group)

    def of_step(self, index: int, key: str | None = None) -> Pos:
        if 0 <= index < len(self.steps):
            if key is not None and index < len(self.step_fields):
                pos = self.step_fields[index].get(key)
                if pos is not None:
                    return pos
            return self.steps[index]
        return self.group

    def of_dep(self, index: int, dep_index: int) -> Pos:
        if 0 <= index < len(self.deps) and 0 <= dep_index < len(self.deps[index]):
            return self.deps[index][dep_index]
        return self.of_step(index, "depends_on")
