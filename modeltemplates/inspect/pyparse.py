"""Parse Python source exactly as the target interpreter (CPython 2.7 or 3.7) compiles it on import.

:func:`parse` runs the stages CPython runs, each after that version's own C code:

1. PEP 263 decoding (:func:`pytokens.decode_source`),
2. tokenizing (:func:`pytokens.tokenize`),
3. LL(1) parsing driven by tables that :mod:`~modeltemplates.inspect.grammars.pgen` generates from the
   version's ``Grammar/Grammar`` (same decisions, same error token, same stack limit as
   ``Parser/parser.c``; 2.7's ``from __future__ import print_function`` hack included),
4. the checks CPython applies to the tree before any code runs: ``ast.c`` (assignment targets,
   arguments, f-strings, string literals...), ``future.c``, ``symtable.c`` and the syntax errors
   of ``compile.c`` (:mod:`~modeltemplates.inspect.grammars.semantics`).

The first problem wins, as in CPython. Nothing is executed; every loop and the parse stack are
bounded; the tree is built and walked without Python recursion.

Tree contract (other modules rely on it)
----------------------------------------
``ParseResult.tree`` is a :class:`Node`. ``Node.type`` is a nonterminal name exactly as in CPython's
Grammar (``file_input``, ``funcdef``, ``classdef``, ``parameters``, ``typedargslist`` (3.7) /
``varargslist``, ``import_name``, ``import_from``, ``dotted_name``, ``power``, ``atom_expr`` (3.7),
``trailer``, ``arglist``, ``argument``, ``expr_stmt``...) or a token type: ``NAME`` (keywords
included), ``NUMBER``, ``STRING``, ``OP`` (every operator and bracket), ``NEWLINE``, ``INDENT``,
``DEDENT``, ``ENDMARKER``. ``value`` is the token text (``""`` for nonterminals and for
NEWLINE/INDENT/DEDENT/ENDMARKER). A nonterminal with exactly one child is replaced by that child
(lib2to3's convention), except the root ``file_input``; so ``import_as_names`` with one name is that
name's node, ``x`` alone is a ``NAME`` leaf, and ``f(x)`` is ``power`` (2.7) / ``atom_expr`` (3.7)
with children ``NAME f`` and ``trailer``. ``line``/``column`` are 1-based and locate the node's
first token (column counts characters). The tree holds no parent links; use
:meth:`Node.iter_nodes` for a preorder walk.

Error positions
---------------
:class:`SyntaxProblem` carries both the interpreter's report (``line``, ``offset``: exactly what
``SyntaxError.lineno``/``.offset`` would be: 1-based, counting bytes in 2.7 and characters in
3.7, 0-based column offsets for errors raised after parsing, ``None`` where CPython gives none; an
error inside a 3.7 f-string expression is reported relative to that expression) and the real place
in the file (``source_line``, ``source_column``, 1-based) for pointing a user at it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, NamedTuple

import attrs

from modeltemplates.inspect import pytokens
from modeltemplates.inspect.grammars import Language, grammar, language, tables
from modeltemplates.inspect.grammars import semantics as _semantics
from modeltemplates.inspect.pytokens import TokenizeError

#: CPython's parser stack depth (``MAXSTACK`` in Parser/parser.h, both versions).
MAXSTACK = 1500
#: Larger sources are not parsed (a finding says so); 20 MB of source is not an inference script.
MAX_SOURCE_BYTES = 20 * 1024 * 1024


class Node(NamedTuple):
    """A concrete-syntax-tree node (see the module docstring for the contract).

    An immutable tuple underneath (a parse makes one per token and per nonterminal kept, so the
    cost of building one matters); compare and hash it like a tuple of its fields.
    """

    type: str
    value: str
    children: tuple[Node, ...]
    line: int
    column: int

    def iter_nodes(self) -> Iterator[Node]:
        """All nodes of this subtree in preorder (self first), without recursion."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            if node.children:
                stack.extend(reversed(node.children))

    def first_leaf(self) -> Node:
        """The first token of this subtree."""
        node = self
        while node.children:
            node = node.children[0]
        return node

    def last_leaf(self) -> Node:
        """The last token of this subtree."""
        node = self
        while node.children:
            node = node.children[-1]
        return node

    def __repr__(self) -> str:
        if self.children:
            return f"Node({self.type}, {len(self.children)} children, {self.line}:{self.column})"
        return f"Node({self.type}, {self.value!r}, {self.line}:{self.column})"


@attrs.frozen
class SyntaxProblem:
    """Why the interpreter would refuse the module, in its own words.

    ``kind``: ``syntax``, ``indentation``, ``tab``, ``encoding``, ``nul``, ``future`` or ``limit``.
    ``exc_type`` is the exception import raises (``SyntaxError``, ``IndentationError``,
    ``TabError``, ``ValueError``, ``MemoryError``). ``token`` is the offending token's text when
    the parser stopped on one, ``context`` the texts of up to three tokens before it.
    """

    kind: str
    message: str
    line: int | None
    offset: int | None
    source_line: int
    source_column: int | None = None
    exc_type: str = "SyntaxError"
    token: str | None = None
    context: tuple[str, ...] = ()

    def interpreter_says(self) -> str:
        """``TabError: msg (line N, offset M)``: the exception as the interpreter raises it."""
        if self.line is None:
            return f"{self.exc_type}: {self.message}"
        return f"{self.exc_type}: {self.message} (line {self.line}, offset {self.offset})"

    def describe(self) -> str:
        """``SyntaxError: msg (line N, offset M)``, the way the fidelity labels write it."""
        if self.exc_type == "MemoryError" or self.line is None:
            return f"{self.exc_type}: {self.message}"
        shown = "SyntaxError" if self.exc_type == "IndentationError" else self.exc_type
        prefix = "SyntaxError: TabError: " if self.exc_type == "TabError" else f"{shown}: "
        if self.exc_type == "IndentationError":
            prefix = "IndentationError: "
        return f"{prefix}{self.message} (line {self.line}, offset {self.offset})"


#: A node as the parser builds it: a plain ``(type, value, children, line, column)`` tuple. Such
#: trees cost a fraction of :class:`Node` trees to build, and the cyclic garbage collector stops
#: tracking their tuples as its passes meet them (it tracks every instance of a tuple subclass
#: for good and walks them at each full pass). The compiler checks read them; :attr:`ParseResult.tree`
#: makes the :class:`Node` tree only when someone asks for it (most files' trees are never read).
RawNode = tuple[str, str, tuple[Any, ...], int, int]


@attrs.frozen
class ParseResult:
    """The outcome of :func:`parse`: a tree or the first problem (never both), plus facts.

    ``raw_tree`` is the tree as plain tuples (see :data:`RawNode`); :attr:`tree` is the same tree
    as :class:`Node` objects, made on first use.
    """

    raw_tree: RawNode | None = attrs.field(repr=False)
    error: SyntaxProblem | None
    encoding: str
    future_features: frozenset[str] = frozenset()
    version: tuple[int, int] = (3, 7)

    @property
    def ok(self) -> bool:
        return self.error is None

    @functools.cached_property
    def tree(self) -> Node | None:
        """The syntax tree (see the module docstring), or None when the source has an error."""
        return None if self.raw_tree is None else as_nodes(self.raw_tree)


def as_nodes(raw: RawNode) -> Node:
    """The :class:`Node` tree of a plain-tuple tree (iterative: trees may be deep)."""
    # The nodes in preorder, each node's children right to left: read backwards, that is every
    # node after its children, left to right, so one stack of finished nodes builds the tree.
    order = []
    work = [raw]
    while work:
        node = work.pop()
        order.append(node)
        if node[2]:
            work.extend(node[2])
    new, node_type = tuple.__new__, Node
    done: list[Node] = []
    for node in reversed(order):
        kids = node[2]
        if kids:
            made = tuple(done[-len(kids):])
            del done[-len(kids):]
            done.append(new(node_type, (node[0], node[1], made, node[3], node[4])))
        else:
            done.append(new(node_type, node))
    return done[0]


def parse(source: bytes, version: tuple[int, int], filename: str = "<module>") -> ParseResult:
    """Parse and check ``source`` as CPython ``version`` would when importing it.

    ``filename`` appears where the interpreter's messages name the file. Raises ValueError only
    for an unsupported ``version``; every problem with the source is in the result.
    """
    lang = language(version)
    version = lang.version
    if len(source) > MAX_SOURCE_BYTES:
        too_big = SyntaxProblem(
            "limit", f"source is {len(source)} bytes; files over {MAX_SOURCE_BYTES} bytes are not parsed",
            None, None, 1, exc_type="SizeLimit",
        )
        return ParseResult(None, too_big, "", frozenset(), version)
    decoded = pytokens.decode_source(source, lang.tokenizer, filename)
    if decoded.problem is not None:
        p = decoded.problem
        decode_error = SyntaxProblem(p.kind, p.message, p.line, p.offset, p.source_line, None, p.exc_type)
        return ParseResult(None, decode_error, decoded.encoding, frozenset(), version)
    driver = _Driver(lang, decoded)
    # The cyclic collector is left alone: pausing it would halve the time on multi-MB files, but
    # it is process-wide state, and an embedding application's threads would see it switched.
    tree, problem = driver.run()
    if problem is not None or tree is None:
        return ParseResult(None, problem, decoded.encoding, frozenset(), version)
    found = _semantics.check(tree, lang, decoded, driver.print_function, filename,
                             future_imports=driver.future_imports)
    if found.problem is not None:
        return ParseResult(None, _problem_from(found.problem, decoded, lang), decoded.encoding,
                           found.future_features, version)
    return ParseResult(tree, None, decoded.encoding, found.future_features, version)


def _problem_from(p: _semantics.Problem, decoded: pytokens.SourceText, lang: Language) -> SyntaxProblem:
    message = p.message
    if p.with_text and lang.version[0] == 3 and p.exc_type == "SyntaxError" and p.text_line:
        message = _legacy_statement_message(message, _line_text(decoded.text, p.text_line))
    return SyntaxProblem(p.kind, message, p.line, p.offset, p.source_line, p.source_column, p.exc_type)


def _line_text(text: str, line: int) -> str:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start : end + 1]


def _legacy_statement_message(message: str, text: str) -> str:
    """3.x's SyntaxError.__init__ rewrites the message of a ``print x`` / ``exec x`` line
    (``_report_missing_parentheses`` in Objects/exceptions.c)."""
    if "(" in text:
        return message

    def check(start: int) -> str | None:
        while start < len(text) and text[start].isspace():
            start += 1
        if start == len(text):
            return None
        if text.startswith("print ", start):
            end = text.find(";", start + 6)
            data = text[start + 6 : len(text) if end < 0 else end].strip(" \t\r\n")
            tail = ' end=" "' if data.endswith(",") else ""
            return f"Missing parentheses in call to 'print'. Did you mean print({data}{tail})?"
        if text.startswith("exec ", start):
            return "Missing parentheses in call to 'exec'"
        return None

    found = check(0)
    if found is None:
        colon = text.find(":")
        if colon >= 0:
            found = check(colon + 1)
    return found or message


_TOKEN_MESSAGES = {
    "E_TOKEN": ("SyntaxError", "syntax", "invalid token"),
    "E_EOFS": ("SyntaxError", "syntax", "EOF while scanning triple-quoted string literal"),
    "E_EOLS": ("SyntaxError", "syntax", "EOL while scanning string literal"),
    "E_TABSPACE": ("TabError", "tab", "inconsistent use of tabs and spaces in indentation"),
    "E_DEDENT": ("IndentationError", "indentation", "unindent does not match any outer indentation level"),
    "E_TOODEEP": ("IndentationError", "indentation", "too many levels of indentation"),
    "E_LINECONT": ("SyntaxError", "syntax", "unexpected character after line continuation character"),
    "E_IDENTIFIER": ("SyntaxError", "syntax", "invalid character in identifier"),
    "E_EOF": ("SyntaxError", "syntax", "unexpected EOF while parsing"),
}


class _Driver:
    """The LL(1) parser of ``Parser/parser.c`` + ``parsetok.c`` over the generated tables."""

    def __init__(self, lang: Language, decoded: pytokens.SourceText) -> None:
        self.lang = lang
        self.decoded = decoded
        self.text = decoded.text
        self.print_function = False
        self.barry = False
        #: Every ``from __future__ import`` node, in source order (for the compiler's checks).
        self.future_imports: list[RawNode] = []

    def run(self, start: str = "file_input") -> tuple[RawNode | None, SyntaxProblem | None]:
        """Parse the whole token stream from the nonterminal ``start``.

        The stack is three flat lists: ``states`` (a :class:`~.pgen.DriverTables` id per entry),
        ``bases`` (where that entry's children start in ``values``) and ``values`` (finished
        children of all open frames, in order). A frame popped with one child leaves it in place
        (the collapse costs nothing). CPython's stack limit counts frames, and an entry may stand
        for several (a run): the count is made only when the stack holds enough entries to near it.
        """
        t = tables(self.lang.version)
        rows, pops, accept_only = t.rows, t.defaults, t.accept_only
        data = _driver_data(self.lang.version)
        node_names, import_from, shallow = data.node_names, data.import_from, data.shallow
        value_labels, kind_labels, special = data.by_value, data.by_kind, data.special
        ne_label, print_label, name_label, async_labels = data.ne, data.print, data.name, data.async_
        contextual = self.lang.tokenizer.contextual_async
        async_keywords: set[int] = set()
        py3 = self.lang.version[0] >= 3
        states = [t.state_base[grammar(self.lang.version).nt_index(start)]]
        bases = [0]
        values: list[RawNode] = []
        print_function = self.print_function
        barry = self.barry
        try:
            tokens = pytokens.tokenize(self.text, self.lang.tokenizer, final_newline=self.decoded.final_newline)
            if contextual:
                tokens = pytokens.async_keywords(tokens, async_keywords)
            for tok in tokens:
                value = tok[1]
                label = value_labels.get(value)
                if label is None:
                    label = kind_labels[tok[0]]
                    if label is None:  # an operator the grammar does not know
                        return None, self._syntax_error(tok, None, _context(values))
                elif label in special:  # print, async, await, != (else no check at all)
                    if (label == print_label and print_function) or (
                            label in async_labels and tok[5] not in async_keywords):
                        label = name_label
                    elif label == ne_label and py3 and (value == "<>") != barry:
                        return None, self._syntax_error(tok, None, _context(values), barry=value == "!=")
                while True:  # pop complete frames until one takes the token
                    top = states[-1]
                    act = rows[top].get(label)
                    if act is not None:
                        break
                    code = pops[top]
                    if code == 0:  # a real frame is complete
                        states.pop()
                        base = bases.pop()
                        if not states:
                            return None, self._syntax_error(tok, None, _context(values))
                        if len(values) - base != 1:
                            kids = tuple(values[base:])
                            del values[base:]
                            node = (node_names[top], "", kids, kids[0][3], kids[0][4])
                            values.append(node)
                            if top in import_from:
                                self._future_hack(node)
                                print_function, barry = self.print_function, self.barry
                    elif code > 0:  # a run of frames is complete
                        states.pop()
                        bases.pop()
                    else:
                        return None, self._syntax_error(tok, _expected(self.lang.version, -1 - code),
                                                        _context(values))
                new_top, outer, push, need, then_pop = act
                if len(states) > shallow and _depth(states, data.frames) + need > MAXSTACK:
                    return None, self._overflow(tok)
                if outer < 0:
                    states[-1] = new_top
                else:
                    states[-1] = outer
                    states.append(new_top)
                    bases.append(bases[-1])
                if push >= 0:
                    states.append(push)
                    bases.append(len(values))
                values.append((tok[0], value, (), tok[2], tok[3] + 1))
                while then_pop:  # pop frames that can take nothing more
                    top = states[-1]
                    only = accept_only[top]
                    if only is False:
                        break
                    if only is True:
                        states.pop()
                        base = bases.pop()
                        if not states:
                            return self._make(top, values[base:], start), None
                        if len(values) - base != 1:
                            kids = tuple(values[base:])
                            del values[base:]
                            node = (node_names[top], "", kids, kids[0][3], kids[0][4])
                            values.append(node)
                            if top in import_from:
                                self._future_hack(node)
                                print_function, barry = self.print_function, self.barry
                    elif only[0] < 0:  # a run whose frames all pop
                        states.pop()
                        bases.pop()
                    else:  # a run whose inner frames pop
                        states[-1] = only[0]
        except TokenizeError as exc:
            return None, self._token_error(exc)
        return None, SyntaxProblem("syntax", "unexpected end of token stream", None, None, 1)

    def _make(self, state: int, children: list[RawNode], start: str) -> RawNode:
        """The root node (never collapsed for ``file_input``)."""
        if len(children) == 1 and start != "file_input":
            return children[0]
        first = children[0]
        nt = tables(self.lang.version).state_nt[state]
        return (grammar(self.lang.version).names[nt], "", tuple(children), first[3], first[4])

    def _future_hack(self, node: RawNode) -> None:
        """2.7/3.x ``future_hack``: a ``from __future__ import`` changes how the parser reads on.

        Called for every ``import_from`` node as it is completed; also keeps the future imports.
        """
        # Nodes are plain tuples here: [0] type, [1] value, [2] children (see RawNode).
        kids = node[2]
        module = kids[1]
        if module[0] == "NAME" and module[1] == "__future__":
            self.future_imports.append(node)
        if node[0] != "import_from" or len(kids) < 4:
            return
        if kids[0][1] != "from":
            return
        mod = kids[1]
        if mod[0] == "NAME" and mod[1] != "__future__":
            return
        if not (kids[2][0] == "NAME" and kids[2][1] == "import"):
            return
        names = kids[3]
        if names[0] == "OP":
            if names[1] != "(":
                return
            names = kids[4]
        items = names[2][::2] if names[0] == "import_as_names" else (names,)
        for item in items:
            first = item if item[0] == "NAME" else item[2][0]
            if first[1] == "print_function":
                self.print_function = True
            elif first[1] == "barry_as_FLUFL" and self.lang.version[0] >= 3:
                self.barry = True

    # ------------------------------------------------------------ error reports

    def _line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def _offset(self, buf: int, cur: int) -> int:
        return pytokens.interpreter_offset(self.text, buf, cur, self.lang.tokenizer, self.decoded.offset_encoding)

    def _syntax_error(
        self, tok: pytokens.Token, expected: int | None, history: list[str], *, barry: bool = False
    ) -> SyntaxProblem:
        kind, value, line, col0, end_line, start, end, at_eof = tok
        g = grammar(self.lang.version)
        py3 = self.lang.version[0] >= 3
        if at_eof:
            buf = self._line_start(max(0, len(self.text) - 1))
            cur = len(self.text)
        else:
            buf = self._line_start(start)
            cur = end
        offset = self._offset(buf, cur)
        if kind == "OP" and not value.isascii() and self.lang.tokenizer.file_reader:
            offset = self._offset(buf, start) + 1  # 2.7 stops after the first byte of the character
        source_line, source_col = line, col0 + 1
        context = tuple(history[-3:])
        eof_error = at_eof and (py3 or end_line <= 1)
        if eof_error:
            exc, pkind, msg = "SyntaxError", "syntax", "unexpected EOF while parsing"
        elif expected is not None and g.labels[expected].value == "INDENT":
            exc, pkind, msg = "IndentationError", "indentation", "expected an indented block"
        elif kind == "INDENT":
            exc, pkind, msg = "IndentationError", "indentation", "unexpected indent"
        elif kind == "DEDENT":
            exc, pkind, msg = "IndentationError", "indentation", "unexpected unindent"
        elif barry:
            exc, pkind, msg = "SyntaxError", "syntax", "with Barry as BDFL, use '<>' instead of '!='"
        else:
            exc, pkind, msg = "SyntaxError", "syntax", "invalid syntax"
        if py3 and exc == "SyntaxError":
            text = self.text[buf : pytokens._line_end(self.text, max(buf, cur - 1))]
            msg = _legacy_statement_message(msg, text)
        return SyntaxProblem(pkind, msg, end_line, offset, source_line, source_col, exc, value, context)

    def _token_error(self, exc: TokenizeError) -> SyntaxProblem:
        exc_type, kind, msg = _TOKEN_MESSAGES[exc.code]
        offset = self._offset(exc.buf, exc.cur)
        start_line = self.text.count("\n", 0, exc.start) + 1
        start_col = exc.start - self._line_start(exc.start) + 1
        if exc.code in ("E_TABSPACE", "E_DEDENT", "E_TOODEEP"):
            start_col = None  # type: ignore[assignment]
        if self.lang.version[0] >= 3 and exc_type == "SyntaxError":
            text = self.text[exc.buf : pytokens._line_end(self.text, max(exc.buf, exc.cur - 1))]
            msg = _legacy_statement_message(msg, text)
        return SyntaxProblem(kind, msg, exc.lineno, offset, start_line, start_col, exc_type)

    def _overflow(self, tok: pytokens.Token) -> SyntaxProblem:
        return SyntaxProblem(
            "limit", "s_push: parser stack overflow", None, None, tok[2], tok[3] + 1, "MemoryError", tok[1]
        )


def _context(values: list[RawNode]) -> list[str]:
    """The texts of the (up to three) tokens before the offending one: the last leaves of the
    finished children of the open frames, which hold every token shifted so far, in order."""
    texts: list[str] = []
    work = list(values[-3:])  # each subtree holds a token at least
    while work and len(texts) < 3:
        node = work.pop()
        if node[2]:
            work.extend(node[2][-3:])
        else:
            texts.append(node[1])
    texts.reverse()
    return texts


@attrs.frozen
class _DriverData:
    """What the driver of one grammar reads besides its tables (built once per version)."""

    by_value: dict[str, int]  # keywords and operators (``<>`` is ``!=``)
    by_kind: dict[str, int | None]  # the token classes; None for an operator the grammar lacks
    special: frozenset[int]  # labels that need a second look (print, async, await, !=)
    ne: int
    print: int
    name: int
    async_: frozenset[int]
    #: Per stack id, the name of the nonterminal a real frame builds ("" for runs).
    node_names: tuple[str, ...]
    #: Per stack id, the number of CPython frames it stands for.
    frames: tuple[int, ...]
    #: Stack ids of the ``import_from`` frames (the parser reads a ``from __future__`` import).
    import_from: frozenset[int]
    #: A stack of at most this many entries cannot overflow with the next token, whatever it is.
    shallow: int


@functools.cache
def _driver_data(version: tuple[int, int]) -> _DriverData:
    """The driver data of ``version`` (two threads may build it at once: the results are equal)."""
    g = grammar(version)
    t = tables(version)
    by_value = {**g.keywords, **g.operators}
    ne_label = g.operators.get("!=", -1)
    if ne_label >= 0:
        by_value["<>"] = ne_label
    print_label = g.keywords.get("print", -1)
    contextual = language(version).tokenizer.contextual_async
    async_labels = frozenset(g.keywords[w] for w in ("async", "await") if contextual and w in g.keywords)
    special = {print_label, *async_labels}
    if version[0] >= 3:
        special.add(ne_label)
    special.discard(-1)
    frames = (1,) * t.nstates + tuple(len(run) for run in t.runs)
    most_needed = max((act[3] for row in t.rows for act in row.values()), default=0)
    return _DriverData(
        by_value=by_value, by_kind={**g.tokens, "OP": None}, special=frozenset(special), ne=ne_label,
        print=print_label, name=g.tokens["NAME"], async_=async_labels,
        node_names=tuple(g.names[nt] for nt in t.state_nt) + ("",) * len(t.runs), frames=frames,
        import_from=frozenset(i for i, nt in enumerate(t.state_nt) if g.names[nt] == "import_from"),
        shallow=(MAXSTACK - most_needed) // max(frames),
    )


def _depth(states: list[int], frames: tuple[int, ...]) -> int:
    """How many CPython parser frames the stack entries ``states`` stand for."""
    return sum(frames[entry] for entry in states)


def _expected(version: tuple[int, int], state: int) -> int | None:
    """The one label the real state ``state`` can take, if it takes only one."""
    g, t = grammar(version), tables(version)
    nt = t.state_nt[state]
    accel = g.states[nt][state - t.state_base[nt]][0]
    return next(iter(accel)) if len(accel) == 1 else None


def pytokens_alias(op: str) -> str:
    """The grammar label of an operator token (``<>`` and ``!=`` are one token type)."""
    return "!=" if op == "<>" else op
