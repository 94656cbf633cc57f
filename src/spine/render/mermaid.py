"""``GraphView`` → Mermaid ``flowchart`` text that GitHub renders in markdown.

Node ids are generated; labels keep letters, digits, spaces and ``_ . -`` and write every
other character as a Mermaid entity code (``#60;`` for ``<``), so no name — quotes,
brackets, ``-->``, ``%%``, backticks, HTML — can break the syntax or inject markup.
"""

from __future__ import annotations

from spine.render.view import EdgeKind, GraphView, NodeKind

_SAFE = set(" _.-")


def escape_label(text: str) -> str:
    """Mermaid-safe label text (entity codes for everything that is not plainly safe)."""
    out = []
    for ch in text:
        if (ch.isalnum() and ch.isprintable()) or ch in _SAFE:
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def to_mermaid(view: GraphView, *, direction: str = "TB") -> str:
    """Mermaid flowchart for ``view``: critical path thick, cycles red, ghosts dashed."""
    if direction not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"direction must be TB, LR, BT or RL, got {direction!r}")
    lines = [f"flowchart {direction}"]
    for n in view.nodes:
        if n.kind is NodeKind.GHOST:
            lines.append(f'    {n.id}["missing: {escape_label(n.name)}"]:::ghost')
            continue
        label = escape_label(n.name)
        if n.pipeline:
            label += f"<br/><small>{escape_label(n.pipeline)}</small>"
        cls = ":::cycle" if n.in_cycle else ":::critical" if n.critical else ""
        lines.append(f'    {n.id}["{label}"]{cls}')
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
