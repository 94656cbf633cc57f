"""The loader property at a large budget, on demand:

    uv run python fuzz/run_hypothesis.py --examples 200000

The test suite runs the same property with a CI-sized budget (tests/test_loader_fuzz.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings

from fuzz._target import load_everything
from fuzz.strategies import inputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    @settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(inputs())
    def prop(data: bytes | str) -> None:
        load_everything(data)

    if args.seed is not None:
        from hypothesis import seed

        prop = seed(args.seed)(prop)
    prop()
    print(f"ok: {args.examples} inputs, every one loaded or ended in a GroupError")


if __name__ == "__main__":
    main()
