"""Cost of reporting every syntax problem of a file (``checks.further.further_findings``).

    python bench/bench_further.py [--repeat 3]

A Python 3 file with six kinds of Python-3-only syntax, checked for Python 2.7, alone and inside
~120 KB and ~1 MB of ordinary code (constructs first, then last). Prints the time of the first
verdict (``check_source``), of the further findings, and how many further findings each gives
(the parse budget, ``PARSE_BUDGET``, caps the passes on big files). Never asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from modeltemplates.checks.further import further_findings  # noqa: E402
from modeltemplates.checks.syntax import check_source  # noqa: E402
from tests.test_further import SIX_KINDS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    filler = b"".join(b"def f%d(a, b):\n    return a + b * %d\n\n" % (i, i) for i in range(3000))
    cases = {
        "six kinds alone": SIX_KINDS,
        "120 KB, constructs first": SIX_KINDS + filler,
        "120 KB, constructs last": filler + SIX_KINDS,
        "1 MB, constructs last": filler * 8 + SIX_KINDS,
    }
    print(f"{'case':<28} {'bytes':>9} {'first':>8} {'further':>8} {'found':>6}")
    for name, data in cases.items():
        best_first = best_further = float("inf")
        found = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            first = check_source("m.py", data, (2, 7)).parse.error
            t1 = time.perf_counter()
            assert first is not None
            found = len(further_findings("m.py", data, (2, 7), first).findings)
            t2 = time.perf_counter()
            best_first, best_further = min(best_first, t1 - t0), min(best_further, t2 - t1)
        print(f"{name:<28} {len(data):>9} {best_first:>7.3f}s {best_further:>7.3f}s {found:>6}")


if __name__ == "__main__":
    main()
