"""Throughput of the Python 2.7/3.7 source parser (``modeltemplates.inspect.pyparse.parse``).

    python bench/bench_parse.py [--repeat 3] [--max-mb 2] [--profile ordinary-3.7] [--source DIR]

Two kinds of input, each parsed as 2.7 and as 3.7:

* ``ordinary``: the top-level ``.py`` files of this interpreter's stdlib, one ``parse`` call per
  file, keeping for each version only the files that version accepts (a rejected file stops
  early and would flatter the figure), up to ``--max-mb`` of source;
* ``onefile``: the 3.7 ordinary files joined into one module (a big vendored file: the tree of
  the whole file is alive at once);
* ``dense``: generated expression-heavy code (weight tables, nested arithmetic, calls, subscripts,
  dict displays), valid in both versions, where every atom descends the whole expression grammar.

Prints MB/s (best of ``--repeat`` runs) for ``parse`` as a whole and for the tokenizer alone.
It never asserts and is not part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# --source DIR measures the modeltemplates package of another checkout (e.g. a worktree of an
# older commit), to compare two versions on the same machine in the same minute.
_SOURCE = sys.argv[sys.argv.index("--source") + 1] if "--source" in sys.argv[:-1] else str(REPO)
sys.path.insert(0, _SOURCE)

from modeltemplates.inspect import pyparse, pytokens  # noqa: E402
from modeltemplates.inspect.grammars import language  # noqa: E402

VERSIONS = ((2, 7), (3, 7))


def ordinary_corpus(version: tuple[int, int], max_bytes: int) -> list[bytes]:
    """Stdlib files this version parses without error, in name order, up to ``max_bytes``."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    out: list[bytes] = []
    total = 0
    for path in sorted(lib.glob("*.py")):
        data = path.read_bytes()
        if total + len(data) > max_bytes:
            continue
        if pyparse.parse(data, version).ok:
            out.append(data)
            total += len(data)
    return out


def dense_corpus(target_bytes: int, seed: int = 7) -> list[bytes]:
    """Expression-heavy modules of ~64 KB each, valid as 2.7 and 3.7."""
    rnd = random.Random(seed)
    names = ["x", "y", "w", "bias", "scale", "alpha", "beta", "gamma", "h", "k"]

    def num() -> str:
        return rnd.choice([f"{rnd.uniform(-9, 9):.6f}", str(rnd.randint(0, 999)), f"{rnd.random():.3e}"])

    def expr(depth: int) -> str:
        r = rnd.random()
        if depth <= 0 or r < 0.3:
            return rnd.choice([num(), rnd.choice(names)])
        if r < 0.55:
            op = rnd.choice(["+", "-", "*", "/", "**", "%", "//"])
            return f"{expr(depth - 1)} {op} {expr(depth - 1)}"
        if r < 0.7:
            return f"({expr(depth - 1)})"
        if r < 0.8:
            return f"{rnd.choice(names)}[{expr(depth - 1)}]"
        if r < 0.9:
            return f"f({expr(depth - 1)}, {expr(depth - 1)})"
        return f"-{expr(depth - 1)}"

    modules: list[bytes] = []
    total = 0
    while total < target_bytes:
        lines: list[str] = []
        size = 0
        i = 0
        while size < 64 * 1024:
            kind = i % 4
            if kind == 0:
                row = ", ".join(num() for _ in range(12))
                line = f"W{i} = [[{row}], [{row}]]"
            elif kind == 1:
                line = f"v{i} = {expr(5)}"
            elif kind == 2:
                items = ", ".join(f"'k{j}': {expr(2)}" for j in range(6))
                line = f"D{i} = {{{items}}}"
            else:
                line = f"r{i} = f(x, {expr(3)}, key={expr(2)}) if {expr(2)} > 0 else {expr(3)}"
            lines.append(line)
            size += len(line) + 1
            i += 1
        data = ("\n".join(lines) + "\n").encode()
        modules.append(data)
        total += len(data)
    return modules


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-mb", type=float, default=2.0, help="ordinary corpus size cap per version")
    ap.add_argument("--dense-mb", type=float, default=0.5, help="dense corpus size")
    ap.add_argument("--profile", help="profile one case instead, e.g. dense-3.7 or ordinary-2.7")
    ap.add_argument("--source", help="checkout whose modeltemplates package is measured (default: this one)")
    args = ap.parse_args()
    cases: dict[str, list[bytes]] = {}
    for v in VERSIONS:
        cases[f"ordinary-{v[0]}.{v[1]}"] = ordinary_corpus(v, int(args.max_mb * 1e6))
    dense = dense_corpus(int(args.dense_mb * 1e6))
    for v in VERSIONS:
        cases[f"dense-{v[0]}.{v[1]}"] = dense
    # One big module (vendored code): the 3.7 files joined, minus those with future imports.
    cases["onefile-3.7"] = [b"\n".join(f for f in cases["ordinary-3.7"] if b"__future__" not in f)]

    def run_parse(files: list[bytes], v: tuple[int, int]) -> None:
        for data in files:
            result = pyparse.parse(data, v)
            if not result.ok:
                raise SystemExit(f"bench input rejected: {result.error}")

    def run_tokens(files: list[bytes], v: tuple[int, int]) -> None:
        rules = language(v).tokenizer
        for data in files:
            text = pytokens.decode_source(data, rules, "<bench>").text
            for _ in pytokens.tokenize(text, rules):
                pass

    if args.profile:
        files = cases[args.profile]
        v = (int(args.profile[-3]), int(args.profile[-1]))
        prof = cProfile.Profile()
        prof.runcall(run_parse, files, v)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return

    print(f"python {sys.version.split()[0]}, best of {args.repeat}, {Path(pyparse.__file__).parents[2]}")
    print(f"{'case':<14} {'files':>5} {'MB':>6} {'parse MB/s':>11} {'tokenize MB/s':>14}")
    for name, files in cases.items():
        v = (int(name[-3]), int(name[-1]))
        mb = sum(map(len, files)) / 1e6
        pt = best_of(args.repeat, lambda files=files, v=v: run_parse(files, v))
        tt = best_of(args.repeat, lambda files=files, v=v: run_tokens(files, v))
        print(f"{name:<14} {len(files):>5} {mb:>6.2f} {mb / pt:>11.2f} {mb / tt:>14.2f}")


if __name__ == "__main__":
    main()
