"""Drawing groups: a view model (:mod:`.view`), then DOT, Mermaid, SVG and HTML from it.

Data in, data out: ``build_graph_view(group)`` → ``GraphView``; ``to_dot(view)`` and
``to_mermaid(view)`` return strings; ``dot_to_svg(dot)`` runs Graphviz; the HTML report
is built as data (``build_report``) and only then rendered (``render_report``); so is the
run report (:mod:`.run_report`), whose graph is ``dot_with_status(plan, result)``.
"""

from spine.render.dot import NodeDecoration, layout_effort, to_dot
from spine.render.mermaid import to_mermaid
from spine.render.run_report import dot_with_status
from spine.render.svg import GraphvizError, GraphvizNotFoundError, dot_to_svg, find_dot
from spine.render.view import EdgeKind, EdgeView, GraphView, NodeKind, NodeView, build_graph_view, display

__all__ = [
    "EdgeKind",
    "EdgeView",
    "GraphView",
    "GraphvizError",
    "GraphvizNotFoundError",
    "NodeDecoration",
    "NodeKind",
    "NodeView",
    "build_graph_view",
    "display",
    "dot_to_svg",
    "dot_with_status",
    "find_dot",
    "layout_effort",
    "to_dot",
    "to_mermaid",
]
