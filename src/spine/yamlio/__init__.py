"""The safe, located YAML reader: libyaml's events composed into plain values with positions.

File I/O stays in the loader; this package turns bytes or text into :class:`Document`\\ s
and :class:`~spine.core.findings.Finding`\\ s, within :class:`~spine.core.limits.Limits`.
"""

from spine.core.limits import Limits
from spine.yamlio.reader import MERGE_KEY, Document, gc_paused, read_bytes, read_documents

__all__ = ["MERGE_KEY", "Document", "Limits", "gc_paused", "read_bytes", "read_documents"]
