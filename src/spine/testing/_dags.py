"""Random DAGs, acyclic by construction."""

from __future__ import annotations

from hypothesis import strategies as st

from spine.testing._checks import check_bool, check_int, check_range, check_strategy

Dag = list[tuple[str, tuple[str, ...]]]


def dags(
    min_steps: int = 1,
    max_steps: int = 25,
    max_dependencies: int = 3,
    *,
    names: st.SearchStrategy[str] | None = None,
    shuffle: bool = True,
) -> st.SearchStrategy[Dag]:
    """Random DAGs as a list of ``(step name, dependency names)`` in declaration order.

    Acyclic by construction: the ``i``-th node generated may only depend on nodes
    generated before it (up to ``max_dependencies`` of them, distinct). The declaration
    order is then a drawn permutation of the generation order, so DAGs *declared out of
    topological order* are covered; with ``shuffle=False`` the declaration order is a
    topological order.

    How it shrinks: towards fewer steps (``min_steps``), then fewer edges (each node's
    dependency list shrinks towards empty), then each dependency towards the node
    generated just before (so failures come out as short chains), then the declaration
    order towards the generation order, and names towards the simplest ones
    (``"s0"``, ``"s1"`` … by default, or whatever ``names`` shrinks to).

    :param min_steps: at least this many steps (≥ 0).
    :param max_steps: at most this many steps (≥ ``min_steps``).
    :param max_dependencies: at most this many dependencies per step (≥ 0).
    :param names: a strategy for step names (drawn unique), e.g.
        :func:`spine.testing.step_names`; by default ``"s0"``, ``"s1"`` ….
    :param shuffle: declare the steps in a drawn order instead of a topological one.
    """
    check_int("min_steps", min_steps)
    check_int("max_steps", max_steps)
    check_range("min_steps", min_steps, "max_steps", max_steps)
    check_int("max_dependencies", max_dependencies)
    if names is not None:
        check_strategy("names", names)
    check_bool("shuffle", shuffle)
    return _dags(min_steps, max_steps, max_dependencies, names, shuffle)


@st.composite
def dag_indices(
    draw: st.DrawFn, min_steps: int, max_steps: int, max_dependencies: int
) -> list[list[int]]:
    """``deps[i]``: indices ``< i`` node ``i`` depends on (generation order)."""
    n = draw(st.integers(min_steps, max_steps))
    deps: list[list[int]] = []
    for i in range(n):
        k = min(i, max_dependencies)
        if k == 0:
            deps.append([])
            continue
        # Draw how far back each dependency is: shrinks towards 1, the previous node.
        back = draw(st.lists(st.integers(1, i), unique=True, max_size=k))
        deps.append([i - b for b in back])
    return deps


@st.composite
def unique_names(draw: st.DrawFn, n: int, names: st.SearchStrategy[str] | None) -> list[str]:
    if names is None:
        return [f"s{i}" for i in range(n)]
    return draw(st.lists(names, min_size=n, max_size=n, unique=True))


@st.composite
def declaration_order(draw: st.DrawFn, n: int, shuffle: bool) -> list[int]:
    if not shuffle or n < 2:
        return list(range(n))
    return draw(st.permutations(range(n)))


@st.composite
def _dags(
    draw: st.DrawFn,
    min_steps: int,
    max_steps: int,
    max_dependencies: int,
    names: st.SearchStrategy[str] | None,
    shuffle: bool,
) -> Dag:
    deps = draw(dag_indices(min_steps, max_steps, max_dependencies))
    labels = draw(unique_names(len(deps), names))
    order = draw(declaration_order(len(deps), shuffle))
    return [(labels[i], tuple(labels[j] for j in deps[i])) for i in order]
