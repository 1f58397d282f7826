"""The parser's complete verdict on a large corpus, one line per (file, grammar): a regression oracle.

    python bench/parser_verdicts.py OUT [--grammars 2.7,3.6,3.7] [--jobs 2] [--quick] [--further-sample N]

Corpus: every ``.py`` file of the standard libraries (tests included, ``site-packages`` left out) of
the CPython 2.7, 3.6, 3.7 and 3.11 builds under ``~/.pyenv/versions`` (those present), plus the
repository's ``tests/data``. Each distinct content is parsed once per grammar; a line reads
``<corpus path> <grammar> <verdict>``, the verdict being ``ok`` with the future features and a
digest of the whole tree (every node's type, value, line, column), or the error's every field
(kind, message, line, offset, source line and column, exception, token, context), followed by the
SRC007 further errors (message, line, column) and the digest of the recovered tree, when that
file is in the further sample (every failing file under ``tests/data``; every ``N``-th other
failing file, N = ``--further-sample``, default 1 = all).

Run it before and after a change of the tokenizer, the parser or the compiler checks: the outputs
must be byte-identical (``cmp``). ``--quick`` takes only tests/data and the 2.7 and 3.7 libraries
without their tests, for a fast first look. It prints the number of lines and the CPU time.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import multiprocessing
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIBS = ("2.7", "3.6", "3.7", "3.11")


def corpus(quick: bool) -> list[tuple[str, Path]]:
    """(name shown, file) of every corpus file, in a fixed order."""
    out: list[tuple[str, Path]] = []
    data = REPO / "tests" / "data"
    out += [(f"tests/data/{p.relative_to(data)}", p) for p in sorted(data.rglob("*.py"))]
    for version in LIBS:
        if quick and version not in ("2.7", "3.7"):
            continue
        found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/lib/python{version}")))
        if not found:
            print(f"no CPython {version} library found; left out", file=sys.stderr)
            continue
        lib = Path(found[-1])
        for p in sorted(lib.rglob("*.py")):
            parts = p.relative_to(lib).parts
            if "site-packages" in parts or (quick and ("test" in parts or "tests" in parts)):
                continue
            out.append((f"lib{version}/{p.relative_to(lib)}", p))
    return out


def _tree_digest(tree: object) -> str:
    """A digest of every node of a tree (iterative: trees may be deep)."""
    h = hashlib.sha256()
    stack = [tree]
    while stack:
        node = stack.pop()
        h.update(f"{node.type}\0{node.value}\0{node.line}\0{node.column}\0{len(node.children)}\1".encode(  # type: ignore[attr-defined]
            "utf-8", "surrogatepass"))
        stack.extend(reversed(node.children))  # type: ignore[attr-defined]
    return h.hexdigest()[:16]


def verdict(job: tuple[bytes, tuple[int, int], bool]) -> str:
    """The complete verdict of one content under one grammar, as one line of text."""
    from modeltemplates.checks.further import further_findings
    from modeltemplates.inspect.pyparse import parse

    data, python, further = job
    result = parse(data, python, "<oracle>")
    if result.error is None:
        features = ",".join(sorted(result.future_features))
        return f"ok [{features}] {_tree_digest(result.tree)}"
    e = result.error
    text = (f"{e.kind}|{e.exc_type}|{e.message}|{e.line}|{e.offset}|{e.source_line}|{e.source_column}|"
            f"{e.token!r}|{'/'.join(e.context)}")
    if further:
        rec = further_findings("<oracle>", data, python, e)
        items = ";".join(f"{f.message}@{f.line}:{f.column}" for f in rec.findings)
        tree = _tree_digest(rec.tree) if rec.tree is not None else "-"
        text += f" further[{items}] {tree}"
    return text.replace("\n", "\\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="file to write the verdicts to")
    ap.add_argument("--grammars", default="2.7,3.6,3.7")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="tests/data and the 2.7/3.7 libraries without tests")
    ap.add_argument("--further-sample", type=int, default=1,
                    help="further errors for every N-th failing library file (0: none)")
    args = ap.parse_args()
    grammars = [tuple(int(x) for x in g.split(".")) for g in args.grammars.split(",")]
    files = corpus(args.quick)
    contents: dict[str, bytes] = {}
    names: list[tuple[str, str]] = []
    for name, path in files:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        contents.setdefault(digest, data)
        names.append((name, digest))
    keys = sorted(contents)
    t0 = time.process_time()
    t_wall = time.perf_counter()
    results: dict[tuple[str, tuple[int, int]], str] = {}
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        for python in grammars:
            firsts = pool.map(verdict, [(contents[k], python, False) for k in keys], chunksize=8)
            for k, v in zip(keys, firsts, strict=True):
                results[k, python] = v
        # Further errors for failing contents: all of tests/data, a sample of the rest.
        in_data = {d for n, d in names if n.startswith("tests/data/")}
        jobs = []
        for python in grammars:
            failing = [k for k in keys if not results[k, python].startswith("ok ")]
            for i, k in enumerate(failing):
                if k in in_data or (args.further_sample and i % args.further_sample == 0):
                    jobs.append((k, python))
        fulls = pool.map(verdict, [(contents[k], p, True) for k, p in jobs], chunksize=2)
        for key, v in zip(jobs, fulls, strict=True):
            results[key] = v
    with open(args.out, "w", encoding="utf-8") as out:
        for name, digest in names:
            for python in grammars:
                out.write(f"{name} {python[0]}.{python[1]} {results[digest, python]}\n")
    print(f"{len(names) * len(grammars)} lines ({len(keys)} distinct files, {len(jobs)} with further errors); "
          f"{time.perf_counter() - t_wall:.0f} s wall, {time.process_time() - t0:.1f} s CPU in this process")


if __name__ == "__main__":
    main()
