"""Hypothesis strategies for YAML-ish input: near-valid group files and plain junk."""

from __future__ import annotations

from hypothesis import strategies as st

_TOKENS = [
    "apiVersion: spine.io/v1\n", "kind: PipelineGroup\n", "metadata:\n", "  name: g\n", "spec:\n",
    "  pipelines:\n", "    - name: a\n", "      pipeline: p.a\n", "      depends_on: [a]\n",
    "      depends_on: b\n", "      params: {x: 1}\n", "  defaults: {t: \"{{ params.tier }}\"}\n",
    "  policy: {execution: parallel, max_concurrency: 0}\n", "---\n", "&a ", "*a", "<<: *a\n",
    "!!python/object/apply:os.system [x]\n", "!!int x", "!custom ", "[", "]", "{", "}", ": ", "- ",
    "\n", "  ", "\t", "'", '"', "?", "#", "%YAML 1.1\n", "name: \"<script>\"\n", "\u202e", "\x00",
    "\ufeff", "😀", "{{ params.x }}", "{% for %}", "9 ** 9 ** 9", "~", "yes", "2024-01-05", "0x1F",
    "{{ params.x | defualt(1) }}", "{{ params.x | upper }}", "{{ x is nonsense }}", "{{ params.x[0] }}",
    "      params: {t: \"{{ params.tier | nofilter }}\"}\n",
]


@st.composite
def yaml_texts(draw: st.DrawFn, max_tokens: int = 60) -> str:
    """Texts assembled from YAML and group-format fragments, so that most inputs get
    past the tokenizer and exercise the composer, the spec checks and the planner."""
    tokens = draw(st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=8)), max_size=max_tokens))
    return "".join(tokens)


def inputs() -> st.SearchStrategy[bytes | str]:
    """Near-valid YAML text, arbitrary text, and arbitrary bytes."""
    return st.one_of(yaml_texts(), st.text(max_size=400), st.binary(max_size=400))
