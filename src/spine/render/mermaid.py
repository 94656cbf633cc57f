r"""``GraphView`` → Mermaid ``flowchart`` text that GitHub renders in markdown.

Node ids are generated; labels keep letters, digits, spaces and ``_ . -`` and write every
other character as a Mermaid entity code (``#60;`` for ``<``), so no name — quotes,
brackets, ``-->``, ``%%``, backticks, HTML — can break the syntax or inject markup.

Entity codes are not the end of it: Mermaid decodes them *before* it reads a label's text
for its own conventions, so a name holding one of these pairs would not show as written:

==============================  ==============================================================
pair                            what Mermaid makes of it
==============================  ==============================================================
``\`` then ``n``                ``\n`` is a line break
``$`` then ``$``                ``$$…$$`` is KaTeX math
``:`` then ``fa-``              ``fa:fa-car`` (``fab:``, ``fas:`` …) is a Font Awesome icon
``ﬂ`` + ``°``, ``¶`` + ``ß``    its own placeholders for entity codes, decoded a second time
==============================  ==============================================================

— so :data:`SPLIT`, an empty ``<span></span>``, goes between the two characters: it shows
nothing and is not text, so the pair never reaches Mermaid's text passes. The labels are
plain strings (``["…"]``), not Mermaid's markdown strings (``["`…`"]``), so ``*``, ``_``
and backticks are literal already. ``tests/test_render_mermaid.py`` checks all of this
with Mermaid's own renderer.
"""

from __future__ import annotations

from typing import Any

from spine.core.escape import MERMAID_SPLIT, mermaid_label
from spine.render.view import Direction, EdgeKind, GraphView, NodeKind

#: An empty element between two characters that Mermaid would read together as syntax
#: (the rules live in :mod:`spine.core.escape`).
SPLIT = MERMAID_SPLIT


def escape_label(text: str) -> str:
    """Label markup that Mermaid shows as exactly ``text``: entity codes for everything
    that is not plainly safe, and :data:`SPLIT` inside pairs Mermaid would interpret
    (:func:`spine.core.escape.mermaid_label`)."""
    return mermaid_label(text)


def to_mermaid(view: GraphView, *, direction: str = "TB") -> str:
    """Mermaid flowchart for ``view``: critical path thick, cycles red, ghosts dashed."""
    direction = Direction.of(direction)
    lines = [f"flowchart {direction}"]
    node_lines: dict[str, str] = {}
    for n in view.nodes:
        if n.kind is NodeKind.GHOST:
            node_lines[n.id] = f'{n.id}["missing: {escape_label(n.name)}"]:::ghost'
            continue
        label = escape_label(n.name)
        if n.pipeline:
            label += f"<br/><small>{escape_label(n.pipeline)}</small>"
        cls = ":::cycle" if n.in_cycle else ":::critical" if n.critical else ""
        node_lines[n.id] = f'{n.id}["{label}"]{cls}'
    if view.clusters:
        # a nested group is a subgraph (ids generated, the title escaped like a label)
        members: dict[str | None, list[str]] = {}
        for n in view.nodes:
            members.setdefault(n.clusters[-1] if n.clusters else None, []).append(n.id)
        children: dict[str | None, list[Any]] = {}
        for c in view.clusters:
            children.setdefault(c.parent, []).append(c)

        def emit(cid: str | None, indent: str) -> None:
            lines.extend(indent + node_lines[nid] for nid in members.get(cid, ()))
            for c in children.get(cid, ()):
                title = f"{escape_label(c.step)}<br/><small>group {escape_label(c.group)} v{c.version}</small>"
                lines.append(f'{indent}subgraph {c.id} ["{title}"]')
                emit(c.id, indent + "    ")
                lines.append(f"{indent}end")

        emit(None, "    ")
    else:
        lines.extend(f"    {line}" for line in node_lines.values())
    red: list[int] = []
    for i, e in enumerate(view.edges):
        arrow = {EdgeKind.CRITICAL: "==>", EdgeKind.MISSING: "-.->"}.get(e.kind, "-->")
        lines.append(f"    {e.source} {arrow} {e.target}")
        if e.kind is EdgeKind.CYCLE:
            red.append(i)
    lines.append("    classDef critical stroke:#1f6feb,stroke-width:2px")
    lines.append("    classDef cycle stroke:#d1242f,stroke-width:2px,fill:#ffebe9")
    lines.append("    classDef ghost stroke:#8c959f,stroke-dasharray:4 3,fill:#fff,color:#8c959f")
    if red:
        lines.append(f"    linkStyle {','.join(map(str, red))} stroke:#d1242f,stroke-width:2px")
    return "\n".join(lines) + "\n"
