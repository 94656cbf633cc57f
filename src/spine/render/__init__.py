"""Drawing groups: a view model (:mod:`.view`), then DOT, Mermaid, SVG and HTML from it.

Data in, data out: ``build_graph_view(group)`` → ``GraphView``; ``to_dot(view)`` and
``to_mermaid(view)`` return strings; ``dot_to_svg(dot)`` runs Graphviz; the HTML report
is built as data (``build_report``) and only then rendered (``render_report``).
"""

from spine.render.dot import layout_effort, to_dot
from spine.render.mermaid import to_mermaid
from spine.render.svg import GraphvizError, GraphvizNotFoundError, dot_to_svg, find_dot
from spine.render.view import EdgeKind, EdgeView, GraphView, NodeKind, NodeView, build_graph_view, display

__all__ = [
    "EdgeKind",
    "EdgeView",
    "GraphView",
    "GraphvizError",
    "GraphvizNotFoundError",
    "NodeKind",
    "NodeView",
    "build_graph_view",
    "display",
    "dot_to_svg",
    "find_dot",
    "layout_effort",
    "to_dot",
    "to_mermaid",
]
