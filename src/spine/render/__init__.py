"""Drawing groups: a view model (:mod:`.view`), then DOT, Mermaid, SVG and HTML from it.

Data in, data out: ``build_graph_view(group)`` → ``GraphView``; ``to_dot(view)`` and
``to_mermaid(view)`` return strings; the HTML report is built as data
(``report.build_report``) and only then rendered (``report.render_report``); so is the
run report (:mod:`.run_report`), whose graph is ``dot_with_status(plan, result)``.
Graphviz runs in one place, :mod:`.svg`: ``draw_svg(dot_text, dot)`` → ``Picture``, or a
``Graphviz`` pool that draws while the caller builds the rest of the page.
"""

from spine.render.dot import NodeDecoration, layout_effort, to_dot
from spine.render.mermaid import to_mermaid
from spine.render.run_report import dot_with_status
from spine.render.svg import Drawing, Graphviz, GraphvizError, GraphvizNotFoundError, NoPicture, Picture, draw_svg, find_dot
from spine.render.view import Direction, EdgeKind, EdgeView, GraphView, NodeKind, NodeView, build_graph_view, display

__all__ = [
    "Direction",
    "Drawing",
    "EdgeKind",
    "EdgeView",
    "GraphView",
    "Graphviz",
    "GraphvizError",
    "GraphvizNotFoundError",
    "NoPicture",
    "NodeDecoration",
    "NodeKind",
    "NodeView",
    "Picture",
    "build_graph_view",
    "display",
    "dot_with_status",
    "draw_svg",
    "find_dot",
    "layout_effort",
    "to_dot",
    "to_mermaid",
]
