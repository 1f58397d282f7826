"""Every problem in one run: what the target interpreter would reject *after* the first error.

CPython stops at the first syntax error, so a Python 3 script checked for 2.7 shows one error per
run. :func:`further_findings` keeps going without changing that first verdict (``SRC001``... as
:func:`~modeltemplates.checks.syntax.check_source` reports it): it blanks the logical line of the
error the interpreter stopped at, keeping every other line and column where it was, parses again
with the same interpreter rules, and repeats. Each further error becomes an ``SRC007`` finding
that names the construct (f-string, annotation, ``nonlocal``...) and says it follows the first.

How a line is blanked keeps the file's shape: a simple statement becomes ``pass``; a compound
statement's header keeps its block valid (``def name(*args, **kwargs):`` keeps a function's name,
``class Name(Base):`` its name and plain bases, a loop becomes ``while 1:``, anything else
``if 1:``). When the rewritten file parses, its tree is what the service-class, import and path
checks read. Nothing is executed; the work is bounded by a count of findings and a budget of
bytes parsed.
"""

from __future__ import annotations

import attrs

from modeltemplates.checks.syntax import SYNTAX, describe_problem, recognise
from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.inspect import pytokens
from modeltemplates.inspect.grammars import language
from modeltemplates.inspect.pyparse import Node, SyntaxProblem, parse

FURTHER = Rule(
    "SRC007", "Further syntax the target interpreter rejects", Severity.ERROR,
    what="After the first syntax error of a file (reported as the interpreter reports it, by SRC001 and "
    "its siblings), the checker blanks that statement and parses on, with the same interpreter's rules, "
    "to list every further construct the target Python lacks (f-strings, annotations, `nonlocal`, "
    "keyword-only arguments, `async`, `:=`, ...). Each finding says which error it follows.",
    why="The interpreter reports one error per import attempt; fixing them one upload at a time is slow. "
    "Every one of these lines must change before the file imports on the template's runtime.",
    fix=SYNTAX.fix,
    basis=Basis.SERVICE_FAILS,
    evidence="The same parser and fidelity set as SRC001; tests/test_further.py checks against real CPython "
    "2.7.18 that each further error is the one the interpreter reports once the earlier ones are gone.",
)

RULES: tuple[Rule, ...] = (FURTHER,)

#: At most this many further findings per file.
MAX_FURTHER = 50
#: Stop when the re-parses (and the tokenizing that finds each statement) together have read this
#: many bytes: a 100 KB file gets about 10 passes, a file over 1 MB one (bench/bench_further.py).
PARSE_BUDGET = 2 << 20
#: Errors after which parsing on means something: syntax and ``__future__`` problems.
_RECOVERABLE = frozenset({"syntax", "future"})


@attrs.frozen
class Recovery:
    """Further findings of one file, and the tree of its rewritten text when that parsed."""

    findings: tuple[Finding, ...]
    tree: Node | None


def further_findings(path: str, data: bytes, python: tuple[int, int], first: SyntaxProblem) -> Recovery:
    """Findings for the errors the interpreter would report after ``first`` (see module doc)."""
    if first.kind not in _RECOVERABLE or first.exc_type == "SizeLimit" or first.line is None:
        return Recovery((), None)
    lines = data.split(b"\n")
    blanked: set[int] = set()
    problem = first
    found: list[Finding] = []
    budget = PARSE_BUDGET
    version = f"{python[0]}.{python[1]}"
    while len(found) < MAX_FURTHER and budget >= 2 * len(data):
        budget -= len(data)  # the tokenizing up to the statement (at most the whole file)
        extent = _blank_statement(lines, problem, python)
        if extent is None or blanked.issuperset(extent):
            break
        blanked.update(extent)
        source = b"\n".join(lines)
        budget -= len(source)
        result = parse(source, python, path)
        nxt = result.error
        if nxt is None:
            return Recovery(tuple(found), result.tree)
        if nxt.kind not in _RECOVERABLE or nxt.source_line in blanked or nxt.line is None:
            break
        finding = describe_problem(path, nxt, source, python)
        construct, _ = recognise(nxt, source, python)
        what = construct or f"Python {version} also rejects this ({nxt.interpreter_says()})"
        message = f"{what} (follows the first error, line {first.source_line})"
        found.append(FURTHER.finding(path, message, line=finding.line, column=finding.column, hint=finding.hint))
        problem = nxt
    return Recovery(tuple(found), None)


def _blank_statement(lines: list[bytes], problem: SyntaxProblem, python: tuple[int, int]) -> range | None:
    """Rewrite (in ``lines``) the logical line holding ``problem``; return its line numbers."""
    target = problem.source_line
    if not 1 <= target <= len(lines):
        return None
    tokens = _statement_tokens(b"\n".join(lines), target, python)
    if tokens:
        first_line, last_line = tokens[0][2], max(target, tokens[-1][2])
    else:
        first_line = last_line = target
    first_text = lines[first_line - 1]
    indent = first_text[: len(first_text) - len(first_text.lstrip(b" \t\f"))]
    ending = b"\r" if first_text.endswith(b"\r") else b""
    lines[first_line - 1] = indent + _replacement(tokens, first_text) + ending
    for n in range(first_line + 1, last_line + 1):
        lines[n - 1] = b"\r" if lines[n - 1].endswith(b"\r") else b""
    return range(first_line, last_line + 1)


def _statement_tokens(source: bytes, target: int, python: tuple[int, int]) -> list[pytokens.Token]:
    """The tokens of the logical line that holds line ``target`` (without NEWLINE/INDENT/DEDENT);
    empty when the tokenizer cannot get there."""
    rules = language(python).tokenizer
    decoded = pytokens.decode_source(source, rules, "<further>")
    if decoded.problem is not None:
        return []
    current: list[pytokens.Token] = []
    try:
        for tok in pytokens.tokenize(decoded.text, rules, final_newline=decoded.final_newline):
            kind = tok[0]
            if kind in ("INDENT", "DEDENT", "ENDMARKER"):
                continue
            if kind == "NEWLINE":
                if current and current[0][2] <= target <= tok[2]:
                    return current
                if current and current[0][2] > target:
                    return []
                current = []
                continue
            current.append(tok)
    except pytokens.TokenizeError:
        pass
    if current and current[0][2] <= target:
        return [t for t in current if t[2] <= target]
    return []


def _replacement(tokens: list[pytokens.Token], first_text: bytes) -> bytes:
    """What stands in for a blanked statement (see the module docstring)."""
    values = [t[1] for t in tokens]
    if not values:
        return b"if 1:" if first_text.split(b"#", 1)[0].rstrip().endswith(b":") else b"pass"
    header = values[-1] == ":"
    words = values[1:] if values[0] == "async" else values
    keyword = words[0] if words else ""
    name = words[1] if len(words) > 1 and words[1].isidentifier() and words[1].isascii() else "_"
    if keyword == "def":
        return f"def {name}(*args, **kwargs):{'' if header else ' pass'}".encode()
    if keyword == "class":
        return f"class {name}{_plain_bases(words)}:{'' if header else ' pass'}".encode()
    if not header:
        return b"pass"
    if keyword in ("for", "while"):
        return b"while 1:"
    return b"if 1:"


def _plain_bases(words: list[str]) -> str:
    """``(A, b.C)`` from a class header's tokens, keeping only bases that are dotted names
    (keywords such as ``metaclass=`` and ``*args`` dropped)."""
    if len(words) < 4 or words[2] != "(":
        return ""
    bases: list[str] = []
    item: list[str] = []
    depth = 0
    for value in [*words[3:], ")"]:
        if depth == 0 and value in (",", ")"):
            if item and all(v == "." or (v.isidentifier() and v.isascii()) for v in item):
                bases.append("".join(item))
            item = []
            if value == ")":
                break
            continue
        depth += value in ("(", "[", "{")
        depth -= value in (")", "]", "}")
        item.append(value)
    return f"({', '.join(bases)})" if bases else ""
