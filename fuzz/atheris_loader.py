"""Coverage-guided fuzzing of the loader with atheris (libFuzzer for Python).

    uv run --with atheris python fuzz/atheris_loader.py -max_total_time=300 fuzz/corpus

Any exception other than a GroupError subclass is a crash: atheris stops and writes the
input to ``crash-<hash>``; replay it with ``python fuzz/atheris_loader.py crash-<hash>``.
The seed corpus is ``examples/groups`` (copied into ``fuzz/corpus`` on first run).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["spine"]):
    from fuzz._target import load_everything


def test_one_input(data: bytes) -> None:
    load_everything(data)


def main() -> None:
    corpus = HERE / "corpus"
    if not corpus.exists():
        corpus.mkdir()
        for f in sorted((HERE.parent / "examples" / "groups").rglob("*.yaml")):
            shutil.copy(f, corpus / f.name)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
