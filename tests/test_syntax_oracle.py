"""Differential test against the real interpreters, where this machine has them.

Every snippet in ``tests/data/syntax_snippets/`` and every fidelity source is compiled by the real
CPython 2.7 / 3.7 (``compile(data, path, "exec", 0, True)`` in one subprocess per version) and by our
parser; the verdict and the error line must agree. For 2.7, whose ``compile()`` of
a string and ``import`` place errors at the end of a file differently, a failing file is also imported
(it cannot run: it does not compile). Source-encoding cases are compared by verdict only, since
``compile()`` of bytes and ``import`` apply PEP 263 differently; the fidelity labels cover them.
A second test does the same for deterministic one-edit mutations of every snippet.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from modeltemplates.inspect.pyparse import parse
from tests.conftest import FIDELITY

SNIPPETS = Path(__file__).resolve().parent / "data" / "syntax_snippets"

_ORACLE = r"""
import sys
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    try:
        compile(data, path, 'exec', 0, True)
        sys.stdout.write('%s\tOK\n' % path)
    except SyntaxError as e:
        line = e.lineno
        if sys.version_info[0] == 2:
            # Python 2's import reads the file with its file tokenizer, which places errors at the
            # end of the file differently from compile() of a string; ask import itself. The file
            # failed to compile, so importing it runs nothing.
            import imp
            try:
                imp.load_source('_oracle_%d' % abs(hash(path)), path)
            except SyntaxError as e2:
                line = e2.lineno
            except Exception:
                pass
        sys.stdout.write('%s\t%s\n' % (path, line))
    except Exception as e:
        sys.stdout.write('%s\tERR\n' % path)
"""

#: Deterministic single-edit mutations of every snippet: delete, insert or duplicate a few bytes.
_MUTATION_CHARS = list("()[]{}:,.=*@'\"\\#\n\t ;-+%<>!`ab0L")


def _interpreter(version: tuple[int, int]) -> str | None:
    """A real ``pythonX.Y``: pyenv's versions folder first (its shims may not be active), then PATH."""
    name = f"python{version[0]}.{version[1]}"
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(root.glob(f"{version[0]}.{version[1]}.*/bin/{name}"), reverse=True):
        return str(candidate)
    found = shutil.which(name)
    return found if found and "shims" not in found else None


def _files() -> list[Path]:
    files = sorted(SNIPPETS.glob("*.py"))
    files += sorted((FIDELITY / "sources").glob("*.py"))
    return files


def _mutations(files: list[Path], out: Path, per_file: int = 8) -> list[Path]:
    rng = random.Random(20261125)
    made = []
    for f in files:
        data = f.read_bytes()
        for k in range(per_file):
            b = bytearray(data)
            op, i = rng.randrange(3), rng.randrange(len(b) + 1)
            if op == 0 and len(b) > 1:
                del b[min(i, len(b) - 1)]
            elif op == 1:
                b[i:i] = rng.choice(_MUTATION_CHARS).encode()
            else:
                j = rng.randrange(len(b) + 1)
                b[i:i] = b[j : j + rng.randrange(1, 6)]
            target = out / f"{f.stem}__{k}.py"
            target.write_bytes(bytes(b))
            made.append(target)
    return made


def _disagreements(version: tuple[int, int], files: list[Path]) -> list[str]:
    exe = _interpreter(version)
    if exe is None:
        pytest.skip(f"no python{version[0]}.{version[1]} on this machine")
    done = subprocess.run(
        [exe, "-c", _ORACLE, *map(str, files)], check=False, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0 or not done.stdout:
        pytest.skip(f"{exe} did not run: {done.stderr.strip()[:200]}")
    real = dict(line.split("\t", 1) for line in done.stdout.splitlines())
    out = []
    for f in files:
        result = parse(f.read_bytes(), version)
        ours = "OK" if result.error is None else str(result.error.line)
        theirs = real[str(f)]
        if theirs == "ERR":  # e.g. a ValueError for NUL bytes: a rejection all the same
            theirs = ours if result.error is not None else "rejected"
        if result.error is not None and result.error.kind == "encoding" and theirs != "OK":
            continue  # both reject; compile() and import place encoding errors differently
        if ours != theirs:
            out.append(f"{f.name}: real {theirs}, ours {ours} {result.error}")
    return out


@pytest.mark.parametrize("version", [(2, 7), (3, 6), (3, 7)], ids=["py27", "py36", "py37"])
def test_verdicts_agree_with_the_real_interpreter(version: tuple[int, int]) -> None:
    files = [f for f in _files() if f.read_bytes().isascii()]
    assert len(files) > 150
    assert _disagreements(version, files) == []


@pytest.mark.parametrize("version", [(2, 7), (3, 6), (3, 7)], ids=["py27", "py36", "py37"])
def test_mutated_sources_agree_with_the_real_interpreter(version: tuple[int, int], tmp_path: Path) -> None:
    files = _mutations([f for f in _files() if f.read_bytes().isascii() and f.stat().st_size], tmp_path)
    assert _disagreements(version, files) == []
