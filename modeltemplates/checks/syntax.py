"""Does the target interpreter accept this Python file? (``SRC`` rules)

:func:`check_source` parses a file with :func:`modeltemplates.inspect.pyparse.parse` as the
template's CPython (2.7 or 3.7) would on import and turns the first problem into a finding that
quotes the interpreter, names the construct when it is a well-known version difference (f-strings
on 2.7, ``print x`` on 3.7, ...) and says how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.inspect.pyparse import ParseResult, SyntaxProblem, parse

E, W = Severity.ERROR, Severity.WARNING

SYNTAX = Rule(
    "SRC001", "Python syntax the target interpreter rejects", E,
    what="Every Python file of the package is parsed the way the template's interpreter (CPython 2.7 or "
    "3.7) compiles it on import: its tokenizer, its grammar and the checks it makes before running "
    "anything (assignment targets, argument order, f-string expressions, misplaced return/yield/"
    "break...). The finding quotes the SyntaxError the interpreter raises, with its line and offset.",
    why="The model service imports the inference script when the model is deployed; a file that does not "
    "compile under that interpreter fails the deployment (or the first request) no matter how well it "
    "ran on a newer Python.",
    fix="Rewrite the construct for the template's Python version (the hint names it), or choose a "
    "template whose runtime matches the code.",
    basis=Basis.SERVICE_FAILS,
    evidence="Fidelity set (tests/data/fidelity/sources): the verdicts of real CPython 2.7.18 and 3.7.8; the "
        "service imports customize_service.py and a SyntaxError stops it.",
)
ENCODING = Rule(
    "SRC002", "Source encoding the interpreter cannot read", E,
    what="PEP 263 as the interpreter applies it: Python 2.7 reads a file without a coding declaration "
    "as ASCII, so any byte above 0x7F, even in a comment, is an error; a declared codec must exist and "
    "decode the file; a UTF-8 byte order mark only goes with a utf-8 declaration.",
    why="The file fails to import with SyntaxError before a line of it runs.",
    fix="Add `# -*- coding: utf-8 -*-` as line 1 or 2 (and save the file as UTF-8), or remove the "
    "non-ASCII characters.",
    basis=Basis.SERVICE_FAILS,
    evidence="PEP 263 and the fidelity set: CPython 2.7 'Non-ASCII character ... but no encoding declared'.",
)
TABS = Rule(
    "SRC003", "Inconsistent use of tabs and spaces", E,
    what="Python 3 refuses indentation whose meaning depends on the tab width (TabError). Python 2 "
    "accepts it, counting a tab as advancing to the next multiple of 8 columns.",
    why="The file fails to import on a Python 3 runtime; on 2.7 the nesting may silently differ from "
    "what an editor with another tab width shows.",
    fix="Re-indent the file with spaces only (most editors: 'convert indentation to spaces').",
    basis=Basis.SERVICE_FAILS,
    evidence="CPython's tokenizer raises TabError on inconsistent tabs and spaces (fidelity set).",
)
FUTURE = Rule(
    "SRC004", "Unknown or misplaced __future__ import", E,
    what="`from __future__ import` must name a feature the interpreter knows (2.7 has no "
    "`annotations`, for example) and must come before any other statement except the docstring.",
    why="The compiler rejects the module with SyntaxError.",
    fix="Remove the import (and the syntax that needs it) or move it to the top of the file.",
    basis=Basis.SERVICE_FAILS,
    evidence="CPython: 'future feature ... is not defined' is a SyntaxError at import (fidelity set).",
)
LIMITS = Rule(
    "SRC005", "Source beyond the interpreter's limits", E,
    what="CPython's parser keeps at most 1500 grammar states on its stack; deeply nested brackets or "
    "expressions overflow it (\"s_push: parser stack overflow\", MemoryError). Files over 20 MB are "
    "not parsed at all.",
    why="The import fails with MemoryError; such files are almost always generated data, not code.",
    fix="Flatten the nesting (build the structure in steps) or ship the data as a data file.",
    basis=Basis.SERVICE_FAILS,
    evidence="CPython 2.7/3.7 Parser/parser.c MAXSTACK 1500: 's_push: parser stack overflow' (MemoryError) at "
        "import. A file over this tool's own size limit is reported as a warning instead (not checked).",
)
NUL = Rule(
    "SRC006", "NUL bytes in Python source", E,
    what="A NUL byte in a .py file. Python 3 refuses the file (ValueError: source code string cannot "
    "contain null bytes); Python 2.7 silently drops the rest of that line.",
    why="The file fails to import (3.x) or runs other code than it shows (2.7); NUL bytes usually mean "
    "a binary or UTF-16 file saved with a .py name.",
    fix="Save the file as UTF-8 text; remove stray NUL characters.",
    basis=Basis.SERVICE_FAILS,
    evidence="CPython 3: 'source code string cannot contain null bytes' (ValueError) at import.",
)

RULES: tuple[Rule, ...] = (SYNTAX, ENCODING, TABS, FUTURE, LIMITS, NUL)

_RULE_OF_KIND = {
    "syntax": SYNTAX,
    "indentation": SYNTAX,
    "tab": TABS,
    "encoding": ENCODING,
    "future": FUTURE,
    "limit": LIMITS,
    "nul": NUL,
}


@attrs.frozen
class SourceResult:
    """Findings for one file plus the parse (its tree feeds the service-class analysis)."""

    findings: tuple[Finding, ...]
    parse: ParseResult


def check_source(path: str, data: bytes, python: tuple[int, int]) -> SourceResult:
    """Check one Python file (``path`` is package-relative) for interpreter ``python``."""
    result = parse(data, python, path)
    findings: list[Finding] = []
    version = f"{python[0]}.{python[1]}"
    if python[0] == 2 and b"\0" in data[: 64 * 1024 * 1024]:
        line = data.count(b"\n", 0, data.find(b"\0")) + 1
        findings.append(NUL.finding(
            path, f"NUL byte on line {line}: Python {version} drops the rest of that line when it reads the file",
            line=line, severity=W,
        ))
    problem = result.error
    if problem is not None:
        findings.append(_finding(path, problem, data, python))
    return SourceResult(tuple(findings), result)


def describe_problem(path: str, problem: SyntaxProblem, data: bytes, python: tuple[int, int]) -> Finding:
    """The finding for ``problem`` in ``data``: the interpreter's words, the construct, a fix."""
    return _finding(path, problem, data, python)


def recognise(problem: SyntaxProblem, data: bytes, python: tuple[int, int]) -> tuple[str, str | None]:
    """The well-known construct behind ``problem`` (``""`` if none) and its fix."""
    return _recognise(problem, _line(data, problem.source_line), python)


def _finding(path: str, problem: SyntaxProblem, data: bytes, python: tuple[int, int]) -> Finding:
    version = f"{python[0]}.{python[1]}"
    rule = _RULE_OF_KIND.get(problem.kind, SYNTAX)
    if problem.exc_type == "SizeLimit":  # this tool's own bound, not CPython's: not checked
        return LIMITS.finding(path, f"{problem.message}: a limit of this tool, so the file was not checked",
                              line=None, severity=W, hint="Raise Settings.max_text_bytes if the file is genuine.")
    said = problem.interpreter_says()
    construct, hint = _recognise(problem, _line(data, problem.source_line), python)
    message = f"Python {version} cannot import this file: {said}"
    if construct:
        message = f"{construct}; the template runs Python {version} ({said})"
    return rule.finding(path, message, line=problem.source_line, column=problem.source_column, hint=hint)


def _line(data: bytes, line: int) -> str:
    start = 0
    for _ in range(max(0, line - 1)):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return ""
    end = data.find(b"\n", start)
    raw = data[start:] if end < 0 else data[start:end]
    return raw[:2000].decode("utf-8", "replace")


_Matcher = Callable[[SyntaxProblem, str], bool]


def _tok(p: SyntaxProblem) -> str:
    return p.token or ""


def _prev(p: SyntaxProblem) -> str:
    return p.context[-1] if p.context else ""


def _before(p: SyntaxProblem, line_text: str) -> str:
    """The text of the line before the offending token."""
    return line_text[: max(0, (p.source_column or 1) - 1)]


def _after_unpacking(p: SyntaxProblem, s: str) -> bool:
    """A comma, or the closing parenthesis after one, that follows ``*args`` / ``**kwargs``."""
    if _tok(p) == "," and len(p.context) >= 2 and p.context[-2] in ("*", "**"):
        return True
    return _tok(p) == ")" and _prev(p) == "," and bool(re.search(r"[(,]\s*\*\*?\s*[\w(\[{]", _before(p, s)))


def _decorator(p: SyntaxProblem, s: str) -> bool:
    return s.lstrip().startswith("@") and _tok(p) in ("[", "(", ".")


def _star_in_subscript(p: SyntaxProblem, s: str) -> bool:
    """``a[*b]`` / ``a[1, *b]``: a star right inside the brackets of a subscript (not a list display)."""
    before = _before(p, s)
    if _tok(p) != "*" or _prev(p) not in ("[", ",") or "[" not in before:
        return False
    opener = before[: before.rfind("[")].rstrip()
    return bool(opener) and (opener[-1].isalnum() or opener[-1] in "_)]")


def _keyword_name(p: SyntaxProblem, s: str, keywords: frozenset[str]) -> bool:
    return _prev(p) in keywords and _tok(p) in ("=", ".", "(", ",", ")") and bool(
        re.match(r"\s*" + re.escape(_prev(p)) + r"\s*[=.(,)]", _before(p, s) + _tok(p)) or _tok(p) == "=")


_KEYWORDS_27 = frozenset({"and", "as", "assert", "break", "class", "continue", "def", "del", "elif", "else",
                          "except", "exec", "finally", "for", "from", "global", "if", "import", "in", "is",
                          "lambda", "not", "or", "pass", "print", "raise", "return", "try", "while", "with",
                          "yield"})
_KEYWORDS_37 = frozenset({"False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
                          "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
                          "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
                          "return", "try", "while", "with", "yield"})

_DECORATOR = (_decorator, "a decorator that is not a dotted name with at most one call (e.g. @x[0], "
              "@a.b(c)(d)) needs Python 3.9+",
              "assign the decorator to a name first (deco = x[0]) and write @deco")
_RETURN_STAR = (lambda p, s: _tok(p) == "*" and bool(re.match(r"\s*(return|yield)\b", s)),
                "an unparenthesized starred expression after return / yield (return *a, b) needs Python 3.8+",
                "put the tuple in parentheses: return (*a, b)")
_SUBSCRIPT_STAR = (_star_in_subscript, "a starred expression inside [] (a[*b]) needs Python 3.11+",
                   "build the index tuple first: a[tuple(b)]")


_STR_PREFIX = re.compile(r"^[A-Za-z]{1,3}$")

# (matcher, construct, hint) for errors under 2.7 -- the newer syntax people bring to it.
_PY2: list[tuple[_Matcher, str, str]] = [
    _SUBSCRIPT_STAR,
    (lambda p, s: p.kind == "encoding" and "Non-ASCII" in p.message,
     "non-ASCII characters without a coding declaration",
     "add `# -*- coding: utf-8 -*-` as line 1 or 2 (and save the file as UTF-8)"),
    (lambda p, s: p.kind == "future" and "annotations" in p.message,
     "`from __future__ import annotations` needs Python 3.7+",
     "remove the import and any annotations that rely on it"),
    (lambda p, s: _tok(p)[:1] in "'\"" and _prev(p).lower() in ("f", "rf", "fr"),
     "f-strings need Python 3.6+", "use '{}'.format(x) or '%s' % x"),
    (lambda p, s: _tok(p)[:1] in "'\"" and _prev(p).lower() == "rb",
     "the rb'' string prefix needs Python 3.3+", "write br'...' instead"),
    (lambda p, s: _tok(p) == "def" and _prev(p) == "async",
     "async def needs Python 3.5+", "use a plain function"),
    (lambda p, s: _tok(p) in ("for", "with") and _prev(p) == "async",
     "async for / async with need Python 3.5+", "use a plain for loop or with statement"),
    (lambda p, s: _prev(p) == "await",
     "await needs Python 3.5+", "call the function and use its result directly"),
    (lambda p, s: _tok(p) == "=" and bool(re.match(r"\s*print\s*\(", s)),
     "print() with keyword arguments (end=, sep=, file=) needs the print function",
     "add `from __future__ import print_function` as the first statement"),
    (lambda p, s: _prev(p) == "nonlocal",
     "`nonlocal` is Python 3 only", "keep the value in a mutable container or an attribute"),
    (lambda p, s: _tok(p) == "from" and _prev(p) == "yield",
     "`yield from` needs Python 3.3+", "loop over the iterable and yield each item"),
    (lambda p, s: _tok(p) == "from" and bool(re.match(r"\s*raise\b", s)),
     "`raise ... from ...` needs Python 3", "raise the new exception without `from`"),
    (lambda p, s: _tok(p) == ":" and bool(re.match(r"\s*(async\s+)?def\b", s)),
     "function annotations need Python 3", "remove the annotations (or move them into a comment)"),
    (lambda p, s: _tok(p) == ">" and _prev(p) == "-",
     "return annotations (->) need Python 3", "remove the annotation"),
    (lambda p, s: _tok(p) == "@" and not s.lstrip().startswith("@"),
     "the @ matrix-multiplication operator needs Python 3.5+", "use torch.matmul(a, b) or a.dot(b)"),
    (lambda p, s: _tok(p).startswith("_") and _prev(p)[:1].isdigit(),
     "underscores in numeric literals need Python 3.6+", "write the number without underscores"),
    (lambda p, s: _tok(p) in (":", "=") and ":=" in s,
     "assignment expressions (:=) need Python 3.8+", "assign on a separate line"),
    (lambda p, s: _tok(p) == "/" and bool(re.match(r"\s*def\b", s)),
     "positional-only parameters (/) need Python 3.8+", "remove the / marker"),
    (lambda p, s: _tok(p) == "," and _prev(p) == "*" and bool(re.match(r"\s*def\b", s)),
     "keyword-only parameters (a bare *) need Python 3", "give the parameter a default instead"),
    (lambda p, s: _tok(p) == "=" and bool(re.match(r"\s*class\s+\w+\s*\(", s)),
     "class keyword arguments (metaclass=...) need Python 3",
     "set `__metaclass__ = ...` in the class body instead"),
    (lambda p, s: _tok(p) == ":" and not re.match(r"\s*(def|class|if|elif|else|for|while|with|try|except|"
                                                   r"finally|lambda)\b", s) and "lambda" not in s,
     "variable annotations need Python 3.6+", "remove the annotation (or use a type comment)"),
    (lambda p, s: _tok(p) in ("*", "**") and bool(re.match(r"\s*def\b", s)),
     "keyword-only parameters (a bare *) need Python 3", "give the parameter a default instead"),
    (lambda p, s: _tok(p) == "*" and bool(re.match(r"\s*for\b", s)) and " in " not in _before(p, s),
     "extended unpacking in a for target (for a, *b in ...) needs Python 3",
     "loop over the items and slice each one: `for item in seq: a, b = item[0], item[1:]`"),
    (lambda p, s: _tok(p) == "*" and "=" in s and "=" not in _before(p, s)
     and not s.lstrip().startswith(("def", "print")),
     "extended unpacking (a, *b = ...) needs Python 3", "slice the sequence instead"),
    (_after_unpacking,
     "arguments or a trailing comma after *args / **kwargs need Python 3.5+ (3.6+ in a def)",
     "remove the comma after *args / **kwargs, and put *args after the other positional "
     "arguments and **kwargs last"),
    _DECORATOR,
    _RETURN_STAR,
    (lambda p, s: _tok(p) == "." and "..." in s,
     "the ... (Ellipsis) literal outside [] is Python 3 only", "write Ellipsis, or pass for an empty body"),
    (lambda p, s: _prev(p) == "*" and _tok(p) in (":", ")", ",") and bool(re.search(r"\b(def|lambda)\b", s)),
     "keyword-only parameters (a bare *) need Python 3", "give the parameter a default instead"),
    (lambda p, s: "lambda" in s and "*" in _before(p, s) and _prev(p) != "*" and (
        _tok(p) in ("=", ",", ":") or (_tok(p).isidentifier() and _prev(p) == ",")),
     "keyword-only parameters (after *args) need Python 3", "pass the value positionally or through **kwargs"),
    (lambda p, s: _keyword_name(p, s, _KEYWORDS_27),
     "a Python 2.7 keyword used as a name (exec and print are statements in Python 2)",
     "rename it (e.g. exec_ or print_fn)"),
    (lambda p, s: _tok(p) in ("*", "**"),
     "* or ** unpacking here (several in one call, or inside [...], (...), {...}) needs Python 3.5+",
     "merge the sequences or dicts first: list(a) + list(b), dict(a, **b)"),
    (lambda p, s: _tok(p) == "print" and not re.match(r"\s*print\b", s),
     "print used as a value (passed or assigned) needs the print function",
     "add `from __future__ import print_function` as the first statement"),
]

# ... and the Python 2 idioms that 3.7 refuses.
_PY3: list[tuple[_Matcher, str, str]] = [
    (lambda p, s: "Missing parentheses in call to 'print'" in p.message,
     "the print statement is Python 2 only", "call the function: print(...)"),
    (lambda p, s: "Missing parentheses in call to 'exec'" in p.message,
     "the exec statement is Python 2 only", "call the function: exec(code, namespace)"),
    (lambda p, s: p.kind == "tab", "tabs and spaces mixed in indentation", TABS.fix),
    (lambda p, s: _tok(p) == "<>", "the <> operator is Python 2 only", "use !="),
    (lambda p, s: _tok(p) == "`", "backticks are Python 2 only", "use repr(x)"),
    (lambda p, s: p.message == "invalid token" and bool(re.search(r"\b0[0-7]+\b", s)),
     "old-style octal literals (0777) are Python 2 only", "write 0o777"),
    (lambda p, s: _tok(p) in ("L", "l") and _prev(p)[:1].isdigit(),
     "the L suffix of long integers is Python 2 only", "drop the L: Python 3 integers have no size limit"),
    (lambda p, s: _tok(p)[:1] in "'\"" and _prev(p).lower() in ("ur", "ru"),
     "the ur'' string prefix is Python 2 only", "write r'...' (strings are unicode in Python 3)"),
    (lambda p, s: _tok(p) == "," and bool(re.match(r"\s*except\b", s)),
     "`except E, e:` is Python 2 only", "write `except E as e:`"),
    (lambda p, s: _tok(p) == "," and bool(re.match(r"\s*raise\b", s)),
     "`raise E, msg` is Python 2 only", "write `raise E(msg)`"),
    (lambda p, s: _tok(p) == "(" and bool(re.search(r"(\bdef\s+\w+\s*\(.*\(|\blambda\s*\()", s)),
     "tuple parameters are Python 2 only", "take one parameter and unpack it in the body"),
    (lambda p, s: _prev(p) in ("async", "await") or _tok(p) in ("async", "await"),
     "async and await are reserved keywords since Python 3.7", "rename the variable, argument or module"),
    (lambda p, s: "keyword" in p.message and "assign" in p.message,
     "True, False and None cannot be assigned to in Python 3", "use another name"),
    (lambda p, s: _tok(p) in (":", "=") and ":=" in s,
     "assignment expressions (:=) need Python 3.8+", "assign on a separate line"),
    (lambda p, s: _tok(p) == "/" and bool(re.match(r"\s*def\b", s)),
     "positional-only parameters (/) need Python 3.8+", "remove the / marker"),
    _DECORATOR,
    _SUBSCRIPT_STAR,
    _RETURN_STAR,
    (lambda p, s: _keyword_name(p, s, _KEYWORDS_37), "a Python keyword used as a name", "rename it"),
    (lambda p, s: p.line == 1 and bool(re.search(r"""f(['"]).*\{[^}]*=\}""", s)),
     "the = specifier in f-strings ({x=}) needs Python 3.8+", "write f'x={x!r}'"),
]


def _recognise(problem: SyntaxProblem, line_text: str, python: tuple[int, int]) -> tuple[str, str | None]:
    table = _PY2 if python[0] == 2 else _PY3
    for matcher, construct, hint in table:
        try:
            if matcher(problem, line_text):
                return construct, hint
        except (IndexError, re.error):  # pragma: no cover - defensive
            continue
    if problem.kind == "indentation":
        return "", "indent the block consistently (the same spaces for every line of a block)"
    return "", None
