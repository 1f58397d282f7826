"""What CPython checks between parsing and running: ``ast.c``, ``future.c``, ``symtable.c`` and the
syntax errors of ``compile.c``, for 2.7 and 3.7.

One iterative walk over the concrete syntax tree (no recursion proportional to the input) records
the first error of each compiler phase; the earliest phase wins, as in CPython (the AST is built
for the whole module before the future statements are read, then the symbol table, then the code).
Messages and locations follow each version's C sources: ``ast.c`` errors carry the 0-based column
of the node in 3.7 and no offset in 2.7; ``future.c``/``symtable.c``/``compile.c`` likewise.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from modeltemplates.inspect.grammars import fstrings  # it imports pyparse only when it runs

if TYPE_CHECKING:  # pragma: no cover
    from modeltemplates.inspect.grammars import Language
    from modeltemplates.inspect.pytokens import SourceText

#: A tree node as the parser builds it: the tuple ``(type, value, children, line, column)`` (the
#: fields of ``pyparse.Node``, which is such a tuple too). The checks read the fields by index:
#: ``n[0]`` type, ``n[1]`` value, ``n[2]`` children, ``n[3]`` line, ``n[4]`` column.
Node = Any


@attrs.frozen
class Problem:
    """A compile-phase error; ``with_text`` marks errors whose SyntaxError gets the line text."""

    kind: str
    message: str
    line: int | None
    offset: int | None
    source_line: int
    source_column: int | None = None
    exc_type: str = "SyntaxError"
    with_text: bool = False
    text_line: int = 0


@attrs.frozen
class Outcome:
    problem: Problem | None
    future_features: frozenset[str] = frozenset()


# Phases in the order CPython runs them.
_AST, _FUTURE, _SYMTABLE, _ANALYZE, _COMPILE = range(5)

# symtable flags
DEF_GLOBAL, DEF_LOCAL, DEF_PARAM, DEF_NONLOCAL, USE, DEF_IMPORT, DEF_ANNOT = (1 << i for i in range(7))
DEF_BOUND = DEF_LOCAL | DEF_PARAM | DEF_IMPORT

_SMALL_LEAVES = {"pass", "break", "continue", "return", "raise", "yield", "print"}
_COMPOUND = {
    "if_stmt", "while_stmt", "for_stmt", "try_stmt", "with_stmt", "funcdef", "classdef",
    "decorated", "async_stmt", "async_funcdef",
}
_BINOPS = {"expr", "xor_expr", "and_expr", "shift_expr", "arith_expr", "term"}
_COMP_FOR = {"comp_for", "sync_comp_for", "list_for"}
_TUPLES = {"testlist", "exprlist", "testlist_star_expr", "testlist_safe", "testlist1", "testlist_comp"}
#: Names that are constants, not variables, in 3.x.
_CONSTANTS = frozenset(("None", "True", "False"))
#: The names ``forbidden`` rejects as assignment targets (without ``full``).
_FORBIDDEN_3 = frozenset(("__debug__",))
_FORBIDDEN_27 = frozenset(("None", "__debug__"))
_FORBIDDEN_3_FULL = frozenset(("__debug__", "None", "True", "False"))
#: Keywords that sit among an expression's operands (``not x``, ``a if b else c``...).
_WORDS = frozenset(("if", "else", "not", "and", "or", "in", "is", "lambda", "for", "await", "yield", "from"))


class _Scope:
    """A symbol-table block."""

    __slots__ = (
        "at",
        "children",
        "coroutine",
        "directives",
        "generator",
        "kind",
        "line",
        "name",
        "opt_line",
        "order",
        "parent",
        "returns_value",
        "symbols",
        "unoptimized",
    )

    def __init__(self, kind: str, name: str, line: int, at: Node | None, parent: _Scope | None) -> None:
        self.kind = kind  # module, class, function, lambda, comprehension
        self.name = name
        self.line = line
        self.at = at  # the node whose column is the block's (None: the module, column 0)
        self.parent = parent
        self.children: list[_Scope] = []
        self.symbols: dict[str, int] = {}
        self.directives: dict[str, tuple[int, Node]] = {}  # the first directive: line, node
        self.generator = False
        self.returns_value = False
        self.coroutine = False
        self.unoptimized = 0  # 2.7: 1 import *, 2 bare exec
        self.opt_line = 0
        if parent is not None:
            parent.children.append(self)

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda", "comprehension")


@attrs.define
class _Ctx:
    scope: _Scope
    loop: bool = False  # a loop encloses us in this function
    finally_: bool = False  # the innermost block is a 'finally' body (for 'continue')
    in_async: bool = False  # directly inside an 'async def'


#: Methods the walk schedules for nearly every node: ``_Checker`` keeps them bound as ``_<name>``.
_SCHEDULED = (
    "expr", "call_args", "arguments", "trailer", "stmt", "small", "subscripts", "genexp", "assign_target",
    "loop_target", "scan_only",
)


class _Found(Exception):
    pass


def _block(*_: Any) -> None:
    """Marks a work item ``(_block, (statements, ctx))``: ``walk`` checks the statements of a block
    (an iterator) one at a time, each fully before the next, without an item per statement."""
    raise AssertionError("a block is run by walk")


def check(
    tree: Node, lang: Language, decoded: SourceText, print_function: bool, filename: str,
    *, future_imports: list[Node] | None = None,
) -> Outcome:
    """Run the post-parse checks of ``lang`` over ``tree``.

    ``future_imports``: every ``from __future__ import`` node of the tree in source order, when the
    caller (the parser) collected them; otherwise the tree is searched for them.
    """
    checker = _Checker(lang, decoded, print_function, filename)
    checker.future_imports = future_imports
    try:
        return checker.run(tree)
    finally:
        checker.release()


class _Checker:
    def __init__(self, lang: Language, decoded: SourceText, print_function: bool, filename: str) -> None:
        self.lang = lang
        self.py3 = lang.version[0] >= 3
        self.py37 = lang.version >= (3, 7)
        # the names ``forbidden`` rejects, without and with ``full``
        self.bad_names = _FORBIDDEN_3 if self.py3 else _FORBIDDEN_27
        self.bad_names_full = _FORBIDDEN_3_FULL if self.py3 else _FORBIDDEN_27
        self.decoded = decoded
        self.text = decoded.text
        self.print_function = print_function
        self.filename = filename
        self.first: list[Problem | None] = [None] * 5
        self.future: set[str] = set()
        self.unicode_literals = False
        self._line_starts: list[int] | None = None
        self.analysis_needed = False  # a directive or (2.7) an unoptimized function was seen
        self.future_imports: list[Node] | None = None
        # Bound methods made once: the walk schedules them for nearly every node.
        self._expr: Callable[..., None] = self.expr
        self._trailer: Callable[..., None] = self.trailer
        self._call_args: Callable[..., None] = self.call_args
        self._arguments: Callable[..., None] = self.arguments
        self._stmt: Callable[..., None] = self.stmt
        self._small: Callable[..., None] = self.small
        self._subscripts: Callable[..., None] = self.subscripts
        self._genexp: Callable[..., None] = self.genexp
        self._assign_target: Callable[..., None] = self.assign_target
        self._loop_target: Callable[..., None] = self.loop_target
        self._scan_only: Callable[..., None] = self.scan_only

    def release(self) -> None:
        """Drop the reference cycles once the checks are done: the bound methods kept on ``self``
        and the blocks' links to their children (each child links its parent), so that all of it
        is freed at once instead of waiting for the cyclic garbage collector."""
        for name in _SCHEDULED:
            self.__dict__.pop("_" + name, None)
        scopes = [self.module] if "module" in self.__dict__ else []
        while scopes:
            scope = scopes.pop()
            scopes.extend(scope.children)
            scope.children = []

    # ------------------------------------------------------------ bookkeeping

    def line_start(self, line: int) -> int:
        if self._line_starts is None:
            # the index after each "\n" (the text's only line end), and 0 for line 1
            ends = itertools.accumulate(len(part) + 1 for part in self.text.split("\n"))
            self._line_starts = [0, *itertools.islice(ends, self.text.count("\n"))]
        starts = self._line_starts
        return starts[line - 1] if 0 < line <= len(starts) else 0

    def byte_col(self, node: Node) -> int:
        """CPython's ``col_offset`` of a node: UTF-8 bytes from the line start."""
        leaf = _first_leaf(node)
        start = self.line_start(leaf[3])
        return len(self.text[start : start + leaf[4] - 1].encode("utf-8", "surrogateescape"))

    def scope_col(self, scope: _Scope) -> int:
        """The block's column as the symbol table records it (computed only for an error)."""
        return 0 if scope.at is None else self.byte_col(scope.at)

    def set_offset(self, phase: int, offset: int) -> None:
        problem = self.first[phase]
        if problem is not None and self.py3:
            self.first[phase] = attrs.evolve(problem, offset=offset)

    def error(self, phase: int, message: str, node: Node | None, *, offset: str = "col",
              line: int | None = None, with_text: bool | None = None) -> None:
        """Record ``message`` for ``phase`` unless an earlier error of that phase exists.

        ``offset``: ``col`` (the node's 0-based column in 3.x, None in 2.7), ``none``, ``col1``.
        """
        if self.first[phase] is not None:
            return
        leaf = _first_leaf(node) if node is not None else None
        src_line = leaf[3] if leaf is not None else (line or 1)
        src_col = leaf[4] if leaf is not None else None
        rep_line = line if line is not None else src_line
        off: int | None = None
        if offset == "col" and self.py3 and node is not None:
            off = self.byte_col(node)
        if line is None and leaf is not None and leaf[0] == "STRING" and "\n" in leaf[1]:
            # The tokenizer stamps a multi-line string with the line it ends on, and its column
            # comes out as -1 (CPython 3.7.16 / 2.7.18 on f-string errors in triple-quoted strings).
            rep_line = leaf[3] + leaf[1].count("\n")
            if off is not None:
                off = -1
        if with_text is None:
            with_text = phase in (_AST, _COMPILE)
        self.first[phase] = Problem("syntax", message, rep_line, off, src_line, src_col, "SyntaxError",
                                    with_text, rep_line)
        if phase == _AST:
            raise _Found

    # ------------------------------------------------------------ driver

    def run(self, tree: Node) -> Outcome:
        module = _Scope("module", "top", 1, None, None)
        self.module = module
        with contextlib.suppress(_Found):
            self.walk(tree, module)
        if self.first[_AST] is None:
            self.check_future(tree)
            if self.first[_FUTURE] is None and self.first[_SYMTABLE] is None:
                self.analyze(module)
        for problem in self.first:
            if problem is not None:
                if problem is self.first[_FUTURE]:
                    return Outcome(attrs.evolve(problem, kind="future"), frozenset(self.future))
                return Outcome(problem, frozenset(self.future))
        return Outcome(None, frozenset(self.future))

    def walk(self, tree: Node, module: _Scope) -> None:
        stack: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.stack = stack
        body = [child for child in tree[2] if child[0] not in ("NEWLINE", "ENDMARKER")]
        stack.append((_block, (iter(body), _Ctx(module))))
        stmt = self.stmt
        pop = stack.pop
        push = stack.append
        while stack:
            task = pop()
            func = task[0]
            if func is _block:  # the next statement of a block, the block staying scheduled
                statements, ctx = task[1]
                node = next(statements, None)
                if node is not None:
                    push(task)
                    stmt(node, ctx)
            else:
                func(*task[1])

    def push(self, func: Callable[..., None], *args: Any) -> None:
        self.stack.append((func, args))

    def push_all(self, items: list[tuple[Callable[..., None], tuple[Any, ...]]]) -> None:
        """Schedule ``items`` to run in the given order."""
        self.stack.extend(reversed(items))

    def push_run(self, items: list[tuple[Callable[..., None], tuple[Any, ...]]]) -> None:
        """``push_all(items)`` and, unless it is a block or a statement, run the first item at once
        (it would be the next item the walk runs). Only statement handlers call this: the items
        they make never lead back to one."""
        if not items:
            return
        func, args = items[0]
        if func is _block or func is self._stmt:
            self.stack.extend(reversed(items))
            return
        self.stack.extend(items[:0:-1])
        func(*args)

    # ------------------------------------------------------------ statements

    def suite(self, node: Node, ctx: _Ctx) -> list[tuple[Callable[..., None], tuple[Any, ...]]]:
        """The work item(s) checking a block: one (``_block``) that ``walk`` runs once a statement."""
        if node[0] == "suite":  # NEWLINE INDENT stmt+ DEDENT
            return [(_block, (iter(node[2][2:-1]), ctx))]
        return [(self._stmt, (node, ctx))]

    def stmt(self, node: Node, ctx: _Ctx) -> None:
        t = node[0]
        if t == "simple_stmt":
            kids = node[2]
            if len(kids) == 2:  # one statement and its NEWLINE
                node = kids[0]
            else:
                parts = [c for c in kids if c[0] != "NEWLINE" and c[1] != ";"]
                if len(parts) != 1:
                    self.push_all([(self._small, (c, ctx)) for c in parts])
                    return
                node = parts[0]
            t = node[0]  # one small statement: it would be the next item the walk runs (``small``)
        elif t in _COMPOUND:
            _HANDLERS[t](self, node, ctx)
            return
        handler = _HANDLERS.get(t)
        if handler is not None:
            handler(self, node, ctx)
        elif t == "NAME" and node[1] in _SMALL_LEAVES:
            self.small(node, ctx)
        else:
            self.expr(node, ctx)  # scheduled, it would be the next item the walk runs

    def small(self, node: Node, ctx: _Ctx) -> None:
        t = node[0]
        if t == "NAME" and node[1] in _SMALL_LEAVES:
            v = node[1]
            if v == "print" and not self.py3 and not self.print_function:
                return
            if v in ("pass", "raise"):
                return
            if v == "break":
                if not ctx.loop:
                    self.error(_COMPILE, "'break' outside loop", node)
                return
            if v == "continue":
                self.check_continue(node, ctx)
                return
            if v == "return":
                self.check_return(node, ctx, False)
                return
            if v == "yield":
                self.yield_expr(node, ctx)
                return
        handler = _HANDLERS.get(t)
        if handler is not None:
            handler(self, node, ctx)
            return
        self.expr(node, ctx)  # scheduled, it would be the next item the walk runs

    def check_continue(self, node: Node, ctx: _Ctx) -> None:
        if ctx.finally_:
            self.error(_COMPILE, "'continue' not supported inside 'finally' clause", node)
        elif not ctx.loop:
            self.error(_COMPILE, "'continue' not properly in loop", node)

    def check_return(self, node: Node, ctx: _Ctx, has_value: bool) -> None:
        scope = ctx.scope
        if not scope.is_function or scope.kind == "comprehension":
            self.error(_COMPILE, "'return' outside function", node)
            return
        if has_value:
            if not self.py3 and scope.generator:
                self.error(_SYMTABLE, "'return' with argument inside generator", node, offset="none")
            scope.returns_value = True
            if self.py3 and scope.coroutine and scope.generator:
                self.error(_COMPILE, "'return' with value in async generator", node)

    def s_return_stmt(self, node: Node, ctx: _Ctx) -> None:
        self.check_return(node, ctx, True)
        self.expr(node[2][1], ctx)  # scheduled, it would be the next item the walk runs

    def s_raise_stmt(self, node: Node, ctx: _Ctx) -> None:
        self.push_run([(self._expr, (c, ctx)) for c in node[2][1::2]])

    def s_assert_stmt(self, node: Node, ctx: _Ctx) -> None:
        self.push_run([(self._expr, (c, ctx)) for c in node[2][1::2]])

    def s_print_stmt(self, node: Node, ctx: _Ctx) -> None:
        self.push_run([(self._expr, (c, ctx)) for c in node[2][1:] if c[0] != "OP"])

    def s_exec_stmt(self, node: Node, ctx: _Ctx) -> None:
        if len(node[2]) == 2 and ctx.scope.kind != "module":
            ctx.scope.unoptimized |= 2
            self.analysis_needed = True
            ctx.scope.opt_line = ctx.scope.opt_line or node[3]
        self.push_run([(self._expr, (c, ctx)) for c in node[2][1::2]])

    def s_del_stmt(self, node: Node, ctx: _Ctx) -> None:
        target = node[2][1]
        items = target[2][::2] if target[0] == "exprlist" else [target]
        for item in items:
            self.set_context(item, "del", item, ctx)

    def s_global_stmt(self, node: Node, ctx: _Ctx) -> None:
        self.directive(node, ctx, DEF_GLOBAL, "global")

    def s_nonlocal_stmt(self, node: Node, ctx: _Ctx) -> None:
        self.directive(node, ctx, DEF_NONLOCAL, "nonlocal")

    def directive(self, node: Node, ctx: _Ctx, flag: int, word: str) -> None:
        scope = ctx.scope
        for name_node in node[2][1::2]:
            name = name_node[1]
            cur = scope.symbols.get(name, 0)
            if self.py3 and cur & (DEF_PARAM | DEF_LOCAL | USE | DEF_ANNOT):
                if cur & DEF_PARAM:
                    msg = f"name '{name}' is parameter and {word}"
                elif cur & USE:
                    msg = f"name '{name}' is used prior to {word} declaration"
                elif cur & DEF_ANNOT:
                    msg = f"annotated name '{name}' can't be {word}"
                else:
                    msg = f"name '{name}' is assigned to before {word} declaration"
                self.error(_SYMTABLE, msg, node, with_text=False)
            scope.symbols[name] = cur | flag
            scope.directives.setdefault(name, (node[3], node))
        self.analysis_needed = True

    def s_import_name(self, node: Node, ctx: _Ctx) -> None:
        names = node[2][1]
        items = names[2][::2] if names[0] == "dotted_as_names" else [names]
        for item in items:
            if item[0] == "dotted_as_name":
                bound = item[2][2]
                if bound[1] in self.bad_names:  # ``forbidden`` faults nothing else
                    self.forbidden(bound, bound, ctx)
                self.bind(bound[1], DEF_IMPORT, ctx)
            elif item[0] == "dotted_name":
                self.bind(item[2][0][1], DEF_IMPORT, ctx)
            else:
                if item[1] in self.bad_names:  # ``forbidden`` faults nothing else
                    self.forbidden(item, item, ctx)
                self.bind(item[1], DEF_IMPORT, ctx)

    def s_import_from(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        i = 1
        module = None
        while i < len(kids) and not (kids[i][0] == "NAME" and kids[i][1] == "import"):
            if kids[i][0] != "OP":
                module = _dotted(kids[i])
            i += 1
        rest = kids[i + 1 :]
        if rest[0][0] == "OP" and rest[0][1] == "*":
            if self.py3 and ctx.scope.kind != "module":
                s = ctx.scope
                self.error(_SYMTABLE, "import * only allowed at module level", None, line=s.line,
                           offset="none", with_text=False)
                self.set_offset(_SYMTABLE, self.scope_col(s))
            elif not self.py3 and ctx.scope.kind != "module":
                ctx.scope.unoptimized |= 1
                self.analysis_needed = True
                ctx.scope.opt_line = ctx.scope.opt_line or node[3]
            return
        names = rest[1] if rest[0][0] == "OP" else rest[0]
        if names[0] == "import_as_names":
            items = names[2][::2]
            if rest[0][0] != "OP" and len(names[2]) % 2 == 0:
                self.error(_AST, "trailing comma not allowed without surrounding parentheses", names)
        else:
            items = [names]
        if module == "__future__" and not self.py3:
            for item in items:
                first = item if item[0] == "NAME" else item[2][0]
                if first[1] == "unicode_literals":
                    self.unicode_literals = True
        for item in items:
            if item[0] == "import_as_name":
                bound = item[2][2]
                if bound[1] in self.bad_names:  # ``forbidden`` faults nothing else
                    self.forbidden(bound, bound, ctx)
                self.bind(bound[1], DEF_IMPORT, ctx)
            else:
                if item[1] in self.bad_names:  # ``forbidden`` faults nothing else
                    self.forbidden(item, item, ctx)
                self.bind(item[1], DEF_IMPORT, ctx)

    def s_expr_stmt(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        second = kids[1]
        if len(kids) == 3 and second[0] != "annassign" and self.simple_target(kids[0], ctx):
            # The commonest statements, ``name = value``, ``obj.attr += value``: the target is
            # checked first, as below, then the value (it would be the next item the walk runs).
            value = kids[2]
            if value[0] == "NAME":
                self.use_name(value[1], ctx)
            elif value[0] != "NUMBER":
                self.expr(value, ctx)
            return
        if second[0] == "augassign" or (second[0] == "OP" and second[1] != "=" and second[1].endswith("=")):
            target = kids[0]
            self.expr_then(target, ctx)
            self.set_context(target, "store", target, ctx, visit=False, aug=True)
            kind = self.kind(target)
            if kind not in ("Name", "Attribute", "Subscript"):
                self.error(_AST, "illegal expression for augmented assignment", target)
            self.push(self._expr, kids[2], ctx)
            return
        if second[0] == "annassign":
            self.annassign(node, ctx)
            return
        # a normal assignment: targets left to right, then the value
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        for target in kids[:-2:2]:
            if target[0] == "yield_expr" or (target[0] == "NAME" and target[1] == "yield"):
                items.append((self.ast_error_at, ("assignment to yield expression not possible", target)))
                break
            items.append((self._assign_target, (target, ctx)))
        self.load(kids[-1], ctx, items)
        self.push_run(items)

    def simple_target(self, target: Node, ctx: _Ctx) -> bool:
        """Check a name or a dotted attribute (``a.b.c``) as a target (of an assignment, an
        augmented assignment, a ``for``, a comprehension's ``for``) and return True; return False,
        having done nothing, for any other target.

        For such a target this is all that ``expr_then``, ``set_context`` and ``starred_targets``
        do (``assign_target``, ``loop_target``, the augmented path of ``s_expr_stmt``), in the same
        order. In ``s_expr_stmt`` it runs before the value's names are marked (``load`` does those
        first), which reorders nothing but the entries of the symbol table (see ``load``).
        """
        t = target[0]
        if t == "NAME":
            name = target[1]
            if name == "yield" or (self.py3 and name in _CONSTANTS):
                return False
            if target[1] in self.bad_names:  # ``forbidden`` faults nothing else
                self.forbidden(target, target, ctx)
            symbols = ctx.scope.symbols
            symbols[name] = symbols.get(name, 0) | DEF_LOCAL
            return True
        if t not in {"atom_expr", "power"}:
            return False
        kids = target[2]
        base = kids[0]
        if base[0] != "NAME":
            return False
        for k in kids[1:]:
            if k[0] != "trailer" or k[2][0][1] != ".":
                return False
        self.use_name(base[1], ctx)
        if kids[-1][2][1][1] in self.bad_names_full:  # ``forbidden`` faults nothing else
            self.forbidden(kids[-1][2][1], target, ctx, full=True)
        return True

    def use_name(self, name: str, ctx: _Ctx) -> None:
        """``expr`` of a NAME: mark it used, unless it is a 3.x constant."""
        if not (self.py3 and name in _CONSTANTS):
            symbols = ctx.scope.symbols
            symbols[name] = symbols.get(name, 0) | USE

    def ast_error_at(self, message: str, node: Node) -> None:
        self.error(_AST, message, node)

    def assign_target(self, target: Node, ctx: _Ctx) -> None:
        if self.simple_target(target, ctx):
            return
        self.expr_then(target, ctx)
        self.set_context(target, "store", target, ctx, visit=False)
        self.starred_targets(target)

    def expr_then(self, node: Node, ctx: _Ctx, load: bool = False) -> None:
        """Run the AST checks of ``node``'s sub-expressions now (targets are converted first)."""
        saved = self.stack
        self.stack = []
        if load:
            self.expr(node, ctx)
        else:
            self.scan_only(_unparen(node), ctx)
        while self.stack:
            func, args = self.stack.pop()
            func(*args)
        self.stack = saved

    def scan_only(self, node: Node, ctx: _Ctx) -> None:
        """Visit the loads inside a target (subscripts, attribute bases, call arguments...)."""
        kind = self.kind(node)
        if kind == "Name":
            return
        if kind in ("Tuple", "List"):
            for elt in self.elements(node):
                self.push(self._scan_only, elt, ctx)
            return
        if kind == "Starred":
            self.push(self._scan_only, node[2][1], ctx)
            return
        if kind in ("Attribute", "Subscript"):
            self.trailer_loads(node, ctx)
            return
        self.push(self._expr, node, ctx, True)

    def trailer_loads(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        start = 1 if _await_keyword(kids) else 0
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = [(self._expr, (kids[start], ctx))]
        for tr in kids[start + 1 :]:
            items.append((self._trailer, (tr, ctx)))
        self.push_all(items)

    def annassign(self, node: Node, ctx: _Ctx) -> None:
        target, ann = node[2][0], node[2][1]
        deep = target
        kind = self.kind(target)
        self.expr_then(target, ctx)
        if kind == "Name":
            self.forbidden(target, node, ctx)
        elif kind == "Attribute":
            self.forbidden(target[2][-1][2][1], node, ctx)
        elif kind == "Subscript":
            pass
        elif kind == "List":
            self.error(_AST, "only single target (not list) can be annotated", target)
        elif kind == "Tuple":
            self.error(_AST, "only single target (not tuple) can be annotated", target)
        else:
            self.error(_AST, "illegal target for annotation", target)
        simple = kind == "Name" and deep[0] != "atom"
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = [(self._expr, (ann[2][1], ctx))]
        if len(ann[2]) == 4:
            self.load(ann[2][3], ctx, items)
        self.push_all(items)
        if kind == "Name":
            name = target[1]
            cur = ctx.scope.symbols.get(name, 0)
            if simple and cur & (DEF_GLOBAL | DEF_NONLOCAL) and ctx.scope.kind != "module":
                word = "global" if cur & DEF_GLOBAL else "nonlocal"
                self.error(_SYMTABLE, f"annotated name '{name}' can't be {word}", node, with_text=False)
            self.bind(name, DEF_LOCAL | (DEF_ANNOT if simple else 0), ctx)

    def s_if_stmt(self, node: Node, ctx: _Ctx) -> None:
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        kids = node[2]
        i = 0
        while i < len(kids):
            word = kids[i][1]
            if word in ("if", "elif"):
                self.load(kids[i + 1], ctx, items)
                items.extend(self.suite(kids[i + 3], ctx))
                i += 4
            else:
                items.extend(self.suite(kids[i + 2], ctx))
                i += 3
        self.push_run(items)

    def s_while_stmt(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        inner = _Ctx(ctx.scope, loop=True, finally_=False, in_async=ctx.in_async)
        items = [(self._expr, (kids[1], ctx))]
        items.extend(self.suite(kids[3], inner))
        if len(kids) == 7:
            items.extend(self.suite(kids[6], ctx))
        self.push_run(items)

    def s_for_stmt(self, node: Node, ctx: _Ctx, is_async: bool = False) -> None:
        kids = node[2]
        if is_async and not ctx.in_async:
            self.error(_COMPILE, "'async for' outside async function", node)
        inner = _Ctx(ctx.scope, loop=True, finally_=False, in_async=ctx.in_async)
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        if len(kids) == 9:
            items.extend(self.suite(kids[8], ctx))  # ast.c builds the else-suite first
        items.append((self._loop_target, (kids[1], ctx)))
        self.load(kids[3], ctx, items)
        items.extend(self.suite(kids[5], inner))
        self.push_run(items)

    def loop_target(self, target: Node, ctx: _Ctx) -> None:
        """The target of a ``for`` statement or of a comprehension's ``for``."""
        items = target[2][::2] if target[0] == "exprlist" else [target]
        simple = True
        for item in items:
            if not self.simple_target(item, ctx):
                self.expr_then(item, ctx)
                self.set_context(item, "store", item, ctx, visit=False)
                simple = False
        if not simple:  # names and attributes only: starred_targets finds nothing
            self.starred_targets(target)

    def s_try_stmt(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        items = list(self.suite(kids[2], ctx))
        i = 3
        handlers: list[Node] = []
        while i < len(kids):
            head = kids[i]
            if head[0] == "except_clause" or head[1] == "except":
                handlers.append(head)
                items.append((self.except_clause, (head, ctx)))
                items.extend(self.suite(kids[i + 2], ctx))
                i += 3
            elif head[1] == "else":
                items.extend(self.suite(kids[i + 2], ctx))
                i += 3
            else:  # finally
                fin = _Ctx(ctx.scope, loop=ctx.loop, finally_=True, in_async=ctx.in_async)
                items.extend(self.suite(kids[i + 2], fin))
                i += 3
        for j, h in enumerate(handlers[:-1]):
            if h[0] == "NAME":  # a bare 'except:' before others
                items.append((self.compile_error_at, ("default 'except:' must be last", h)))
                break
            del j
        self.push_run(items)

    def compile_error_at(self, message: str, node: Node) -> None:
        self.error(_COMPILE, message, node)

    def except_clause(self, node: Node, ctx: _Ctx) -> None:
        if node[0] == "NAME":
            return
        kids = node[2]
        if len(kids) == 4:
            name = kids[3]
            if self.py3:
                self.forbidden(name, name, ctx)
                self.bind(name[1], DEF_LOCAL, ctx)
            else:
                self.expr_then(name, ctx)
                self.set_context(name, "store", name, ctx, visit=False)
        self.push(self._expr, kids[1], ctx)

    def s_with_stmt(self, node: Node, ctx: _Ctx, is_async: bool = False) -> None:
        kids = node[2]
        if is_async and not ctx.in_async:
            self.error(_COMPILE, "'async with' outside async function", node)
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        for item in kids[1:-2:2]:
            items.append((self.with_item, (item, ctx)))
        items.extend(self.suite(kids[-1], _Ctx(ctx.scope, loop=ctx.loop, finally_=False, in_async=ctx.in_async)))
        self.push_run(items)

    def with_item(self, item: Node, ctx: _Ctx) -> None:
        if item[0] != "with_item":
            self.push(self._expr, item, ctx)
            return
        self.push_all([(self._expr, (item[2][0], ctx)), (self.with_target, (item, ctx))])

    def with_target(self, item: Node, ctx: _Ctx) -> None:
        target = item[2][2]
        self.expr_then(target, ctx)
        self.set_context(target, "store", item, ctx, visit=False)
        self.starred_targets(target)

    def s_async_stmt(self, node: Node, ctx: _Ctx) -> None:
        inner = node[2][1]
        if inner[0] == "funcdef":
            self.s_funcdef(inner, ctx, is_async=True, outer=node)
        elif inner[0] == "for_stmt":
            self.s_for_stmt(inner, ctx, is_async=True)
        else:
            self.s_with_stmt(inner, ctx, is_async=True)

    def s_async_funcdef(self, node: Node, ctx: _Ctx) -> None:
        self.s_funcdef(node[2][1], ctx, is_async=True, outer=node)

    def s_decorated(self, node: Node, ctx: _Ctx) -> None:
        decs = node[2][0]
        dec_list = decs[2] if decs[0] == "decorators" else [decs]
        items = [(self.decorator, (d, ctx)) for d in dec_list]
        items.append((self._stmt, (node[2][1], ctx)))
        self.push_all(items)

    def decorator(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        name = kids[1]
        self.use((name if name[0] == "NAME" else name[2][0])[1], ctx)
        if len(kids) == 6:
            self.push(self.call_args, kids[3], ctx, True)

    def s_funcdef(self, node: Node, ctx: _Ctx, is_async: bool = False, outer: Node | None = None) -> None:
        kids = node[2]
        name = kids[1]
        if name[1] in self.bad_names:  # ``forbidden`` faults nothing else
            self.forbidden(name, name, ctx)
        self.bind(name[1], DEF_LOCAL, ctx)
        params = kids[2]
        body = kids[-1]
        returns = kids[4] if self.py3 and len(kids) == 7 else None
        scope = _Scope("function", name[1], (outer or node)[3], outer or node, ctx.scope)
        scope.coroutine = is_async
        inner = _Ctx(scope, in_async=is_async)
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = [(self._arguments, (params, ctx, scope))]
        if returns is not None:
            self.load(returns, ctx, items)
        items.extend(self.suite(body, inner))
        self.push_run(items)

    def s_classdef(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        name = kids[1]
        if name[1] in self.bad_names:  # ``forbidden`` faults nothing else
            self.forbidden(name, name, ctx)
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        if len(kids) == 7:
            if self.py3:
                items.append((self.call_args, (kids[3], ctx, False)))
            else:
                bases = kids[3]
                for b in (bases[2][::2] if bases[0] == "testlist" else [bases]):
                    self.load(b, ctx, items)
        scope = _Scope("class", name[1], node[3], node, ctx.scope)
        items.extend(self.suite(kids[-1], _Ctx(scope)))
        self.push_all(items)
        self.bind(name[1], DEF_LOCAL, ctx)

    # ------------------------------------------------------------ names and scopes

    def bind(self, name: str, flag: int, ctx: _Ctx) -> None:
        scope = ctx.scope
        scope.symbols[name] = scope.symbols.get(name, 0) | flag

    def use(self, name: str, ctx: _Ctx) -> None:
        scope = ctx.scope
        scope.symbols[name] = scope.symbols.get(name, 0) | USE

    def forbidden(self, name_node: Node, where: Node, ctx: _Ctx, full: bool = False) -> None:
        name = name_node[1]
        if self.py3:
            if name == "__debug__" or (full and name in ("None", "True", "False")):
                self.error(_AST, "assignment to keyword", where)
        elif name in ("None", "__debug__"):
            self.error(_AST, f"cannot assign to {name}", where)

    def arguments(self, params: Node, ctx: _Ctx, scope: _Scope) -> None:
        """ast_for_arguments + the symbol table's parameter definitions."""
        node = params
        if node[0] == "parameters":
            if len(node[2]) == 2:
                return
            node = node[2][1]
        kids = node[2] if node[0] in ("typedargslist", "varargslist") else (node,)
        n = len(kids)
        py3 = self.py3
        found_default = False
        star_seen = False
        loads: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        names: list[Node] = []
        i = 0
        while i < n:
            ch = kids[i]
            if ch[0] == "OP":
                if ch[1] == ",":
                    i += 1
                    continue
                if ch[1] == "*":
                    star_seen = True
                    nxt = kids[i + 1] if i + 1 < n else None
                    if py3 and (nxt is None or (nxt[0] == "OP" and nxt[1] == "," and i + 2 == n)):
                        self.error(_AST, "named arguments must follow bare *", ch)
                    if nxt is not None and nxt[0] != "OP":
                        names.append(nxt)
                        if nxt[0] == "tfpdef":  # its annotation
                            loads.append((self._expr, (nxt[2][2], ctx)))
                        i += 3
                    else:
                        i += 2
                    continue
                if ch[1] == "**":
                    nxt = kids[i + 1]
                    names.append(nxt)
                    if nxt[0] == "tfpdef":
                        loads.append((self._expr, (nxt[2][2], ctx)))
                    i += 3
                    continue
            has_default = i + 1 < n and kids[i + 1][1] == "=" and kids[i + 1][0] == "OP"
            if has_default:
                self.load(kids[i + 2], ctx, loads)  # a name is marked now (see ``load``)
                if not star_seen:
                    found_default = True
            elif found_default and not star_seen:
                if not self.py3 and ch[0] == "fpdef" and _paren_single(ch):
                    self.error(_AST, "parenthesized arg with default", node)
                self.error(_AST, "non-default argument follows default argument", node)
            if ch[0] == "fpdef" and not self.py3:
                inner = _strip_fpdef(ch)
                if inner[0] == "NAME":
                    names.append(inner)
                else:
                    for leaf in _iter_nodes(inner):
                        if leaf[0] == "NAME":
                            names.append(leaf)
            else:
                names.append(ch)
                if ch[0] == "tfpdef":  # its annotation
                    loads.append((self._expr, (ch[2][2], ctx)))
            i += 3 if has_default else 1
        leaves = [name_node if name_node[0] == "NAME" else name_node[2][0] for name_node in names]
        bad = self.bad_names
        for leaf in leaves:
            if leaf[1] in bad:  # ``forbidden`` faults nothing else
                self.forbidden(leaf, leaf if py3 else node, ctx)
        seen: set[str] = set()
        symbols = scope.symbols
        for leaf in leaves:
            name = leaf[1]
            if name in seen:
                msg = f"duplicate argument '{name}' in function definition"
                self.error(_SYMTABLE, msg, None, line=scope.line, offset="none", with_text=False)
                found = self.first[_SYMTABLE]
                if found is not None and found.message == msg:
                    self.set_offset(_SYMTABLE, self.scope_col(scope))
            seen.add(name)
            symbols[name] = symbols.get(name, 0) | DEF_PARAM
        self.push_all(loads)

    # ------------------------------------------------------------ expressions

    def kind(self, node: Node) -> str:
        """The AST node kind ast.c would build for ``node``."""
        t = node[0]
        if t == "NAME":
            if self.py3 and node[1] in ("None", "True", "False"):
                return "NameConstant"
            return "Name"
        if t in ("NUMBER", "STRING"):
            return "Literal"
        if t == "OP":
            return "Ellipsis" if node[1] == "..." else "Other"
        if t == "atom":
            kids = node[2]
            first = kids[0][1]
            if kids[0][0] == "STRING":
                return "Literal"
            if first == "(":
                if len(kids) == 2:
                    return "Tuple"
                inner = kids[1]
                if inner[0] == "yield_expr" or (inner[0] == "NAME" and inner[1] == "yield"):
                    return "Yield"
                if inner[0] == "testlist_comp":
                    return "GeneratorExp" if _has_comp(inner) else "Tuple"
                return self.kind(inner)
            if first == "[":
                if len(kids) == 2:
                    return "List"
                inner = kids[1]
                if inner[0] in ("listmaker", "testlist_comp") and _has_comp(inner):
                    return "ListComp"
                return "List"
            if first == "{":
                if len(kids) == 2:
                    return "Literal"
                inner = kids[1]
                if inner[0] == "dictorsetmaker" and _has_comp(inner):
                    is_dict = any(c[1] == ":" for c in inner[2][:3]) or inner[2][0][1] == "**"
                    return "DictComp" if is_dict else "SetComp"
                return "Literal"
            if first == "`":
                return "Repr"
            return "Other"
        if t in ("power", "atom_expr"):
            kids = node[2]
            if kids[-2][0] == "OP" and kids[-2][1] == "**":
                return "Operator"
            if t == "power" and self.py3:
                return "Operator"
            if _await_keyword(kids):
                return "Await"
            last = kids[-1]
            if last[0] == "trailer":
                v = last[2][0][1]
                return {"(": "Call", "[": "Subscript", ".": "Attribute"}[v]
            return "Other"
        if t in _BINOPS or t in ("factor", "not_test", "and_test", "or_test"):
            return "Operator"
        if t == "comparison":
            return "Compare"
        if t in ("test", "old_test", "test_nocond"):
            return "IfExp" if len(node[2]) == 5 else "Other"
        if t in ("lambdef", "old_lambdef", "lambdef_nocond"):
            return "Lambda"
        if t == "star_expr":
            return "Starred"
        if t == "yield_expr":
            return "Yield"
        if t in _TUPLES:
            return "GeneratorExp" if t == "testlist_comp" and _has_comp(node) else "Tuple"
        return "Other"

    def elements(self, node: Node) -> list[Node]:
        """Elements of a Tuple/List-kind node."""
        if node[0] in _TUPLES:
            return list(node[2][::2])
        if node[0] == "atom":
            kids = node[2]
            if len(kids) == 2:
                return []
            inner = kids[1]
            if inner[0] in _TUPLES or inner[0] == "listmaker":
                return list(inner[2][::2])
            if kids[0][1] == "(":
                return self.elements(inner)
            return [inner]
        return []

    def set_context(
        self, node: Node, ctx_kind: str, where: Node, ctx: _Ctx, *, visit: bool = True, aug: bool = False
    ) -> None:
        """ast.c ``set_context``: what may be assigned to / deleted, and the names it binds."""
        work = [node]
        store = ctx_kind == "store"
        verb = "assign to" if store else "delete"
        while work:
            e = _unparen(work.pop())
            kind = self.kind(e)
            if kind == "Name":
                if store:
                    self.forbidden(e, where, ctx)
                self.bind(e[1], DEF_LOCAL, ctx)
                if visit:
                    pass
                continue
            if kind == "Attribute":
                if store:
                    self.forbidden(e[2][-1][2][1], where, ctx, full=True)
                if visit:
                    self.trailer_loads(e, ctx)
                continue
            if kind == "Subscript":
                if visit:
                    self.trailer_loads(e, ctx)
                continue
            if kind in ("Tuple", "List"):
                elts = self.elements(e)
                if kind == "Tuple" and not elts and not self.py3:
                    self.error(_AST, f"can't {verb} ()", where)
                work.extend(reversed(elts))
                continue
            if kind == "Starred" and self.py3:
                work.append(e[2][1])
                continue
            name = {
                "Lambda": "lambda", "Call": "function call", "Operator": "operator",
                "GeneratorExp": "generator expression", "Yield": "yield expression",
                "Await": "await expression", "ListComp": "list comprehension",
                "SetComp": "set comprehension", "DictComp": "dict comprehension", "Literal": "literal",
                "NameConstant": "keyword", "Ellipsis": "Ellipsis", "Compare": "comparison",
                "IfExp": "conditional expression", "Repr": "repr",
            }.get(kind, "operator")
            self.error(_AST, f"can't {verb} {name}", where)
        if not store and self.py3:
            for e in _iter_nodes(node):
                if e[0] == "star_expr":
                    self.error(_COMPILE, "can't use starred expression here", e)
                    break

    def starred_targets(self, node: Node) -> None:
        """compile.c: at most one starred target per tuple/list, never a bare one."""
        if not self.py3:
            return
        work = [node]
        while work:
            e = work.pop()
            kind = self.kind(e)
            if kind in ("Tuple", "List"):
                elts = self.elements(e)
                stars = [x for x in elts if self.kind(x) == "Starred"]
                if len(stars) > 1:
                    self.error(_COMPILE, "two starred expressions in assignment", e)
                for x in elts:
                    work.append(_unparen(x[2][1] if self.kind(x) == "Starred" else x))
            elif kind == "Starred" and e is node:
                self.error(_COMPILE, "starred assignment target must be in a list or tuple", e)

    def expr(self, node: Node, ctx: _Ctx, in_target: bool = False) -> None:
        """Check an expression in load context.

        Its parts are checked in the order of a depth-first walk: all but the first are scheduled
        and the first is checked at once (it is the next item the walk would run); when it is an
        expression too, in this loop, so that a chain of nested expressions costs no recursion.
        Names are marked used when they are met (``load`` says why that is safe).
        """
        expr_task = self._expr
        py3 = self.py3
        while True:
            t = node[0]
            if t == "NAME":
                name = node[1]
                if not (py3 and name in _CONSTANTS):
                    symbols = ctx.scope.symbols  # self.use(name, ctx), inline: the commonest case
                    symbols[name] = symbols.get(name, 0) | USE
                return
            items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
            if t in {"atom_expr", "power"}:
                kids = node[2]
                if kids[0][1] == "await" and _await_keyword(kids):
                    self.check_await(node, ctx)
                    kids = kids[1:]
                for k in kids:
                    kt = k[0]
                    if kt == "trailer":
                        tk = k[2]
                        opener = tk[0][1]
                        if opener == "(":
                            if len(tk) == 3:
                                items.append((self._call_args, (tk[1], ctx, True)))
                        elif opener == "[":
                            items.append((self._subscripts, (tk[1], ctx)))
                        # an attribute name checks nothing
                    elif kt == "NAME":
                        name = k[1]
                        if not (py3 and name in _CONSTANTS):
                            symbols = ctx.scope.symbols
                            symbols[name] = symbols.get(name, 0) | USE
                    elif kt not in {"NUMBER", "OP"}:
                        items.append((expr_task, (k, ctx)))
            elif t == "STRING":
                if not _plain_string(node[1]):
                    self.strings([node], node, ctx)
                return
            elif t in {"NUMBER", "OP"}:
                return
            elif t == "atom":
                kids = node[2]
                if kids[0][0] == "STRING":
                    if not self.plain_strings(kids):
                        self.strings(list(kids), node, ctx)
                    return
                if len(kids) == 2:
                    return
                first = kids[0][1]
                inner = kids[1]
                elts: list[Node] | tuple[Node, ...]
                if first == "(":
                    if inner[0] != "testlist_comp":
                        node = inner
                        in_target = False
                        continue
                    if _has_comp(inner):
                        self.genexp(inner, ctx)
                        return
                    elts = inner[2][::2]
                elif first == "[":
                    if inner[0] not in ("listmaker", "testlist_comp"):
                        node = inner[2][1] if inner[0] == "star_expr" else inner
                        in_target = False
                        continue
                    if _has_comp(inner):
                        if py3:
                            self.comprehension(inner, ctx, "list")
                        else:
                            self.listcomp_27(inner, ctx)
                        return
                    elts = inner[2][::2]
                elif first == "{":
                    if inner[0] != "dictorsetmaker":
                        node = inner[2][1] if inner[0] == "star_expr" else inner
                        in_target = False
                        continue
                    kk = inner[2]
                    if _has_comp(inner):
                        is_dict = kk[0][1] == "**" or (len(kk) > 1 and kk[1][1] == ":")
                        if kk[0][1] == "**":
                            self.error(_AST, "dict unpacking cannot be used in dict comprehension", node)
                        self.comprehension(inner, ctx, "dict" if is_dict else "set")
                        return
                    elts = [k for k in kk if k[0] != "OP" or k[1] not in (",", ":", "**")]
                elif first == "`":
                    node = inner
                    in_target = False
                    continue
                else:
                    return
                self.elements_load(elts, ctx, items)
            elif t == "comparison":
                # ast.c converts the right-hand operands before the left one
                kids = node[2]
                for k in kids[2::2]:
                    self.load(k, ctx, items)
                self.load(kids[0], ctx, items)
            elif t in _TUPLES:
                self.elements_load(node[2][::2], ctx, items)
            elif t in ("lambdef", "old_lambdef", "lambdef_nocond"):
                kids = node[2]
                scope = _Scope("lambda", "lambda", node[3], node, ctx.scope)
                inner_ctx = _Ctx(scope)
                if len(kids) == 4:
                    items.append((self._arguments, (kids[1], ctx, scope)))
                self.load(kids[-1], inner_ctx, items)
            elif t == "yield_expr":
                self.yield_expr(node, ctx)
                return
            elif t == "star_expr":
                if not in_target:
                    self.error(_COMPILE, "can't use starred expression here", node)
                node = node[2][1]
                in_target = False
                continue
            else:
                for k in node[2]:
                    kt = k[0]
                    if kt == "NAME":
                        name = k[1]
                        if name in _WORDS:
                            continue
                        if not (py3 and name in _CONSTANTS):
                            symbols = ctx.scope.symbols
                            symbols[name] = symbols.get(name, 0) | USE
                    elif kt not in {"OP", "NUMBER"}:
                        items.append((expr_task, (k, ctx)))
            # the first part now, the others after it
            if not items:
                return
            if len(items) > 1:
                self.stack.extend(items[:0:-1])
            func, args = items[0]
            if func is expr_task:
                node, ctx = args
                in_target = False
                continue
            func(*args)  # call_args, subscripts, arguments: they only schedule work
            return

    def elements_load(
        self, elts: list[Node] | tuple[Node, ...], ctx: _Ctx, items: list[tuple[Callable[..., None], tuple[Any, ...]]]
    ) -> None:
        """``load`` the elements of a tuple/list/set/dict display; a starred one is checked as its
        operand, as ast.c allows ``*x`` there."""
        for k in elts:
            if k[0] == "star_expr":
                k = k[2][1]
            self.load(k, ctx, items)

    def plain_strings(self, tokens: tuple[Node, ...]) -> bool:
        """Whether the string checks cannot fault these adjacent STRING tokens (``_plain_string``
        each, and in 3.x not bytes beside text)."""
        if len(tokens) == 1:
            return _plain_string(tokens[0][1]) != 0
        seen = {_plain_string(tok[1]) for tok in tokens}
        return 0 not in seen and (len(seen) == 1 or not self.py3)

    def load(self, node: Node, ctx: _Ctx, items: list[tuple[Callable[..., None], tuple[Any, ...]]]) -> None:
        """Add ``expr(node, ctx)`` to ``items``, or do it now for a name or a number.

        A number checks nothing. A name only marks itself used in the block's symbol table, and
        doing that before ``items`` run changes nothing but the order of the table's entries. The
        one thing that order decides is which of several erroneous names ``analyze`` reports, and
        such a name enters its table by a parameter or a ``global``/``nonlocal`` statement (used
        before the statement, it is that statement's error, and ``analyze`` does not run).
        Statements never sit inside the expressions whose parts are scheduled here.
        """
        t = node[0]
        if t == "NAME":
            name = node[1]
            if not (self.py3 and name in _CONSTANTS):
                symbols = ctx.scope.symbols
                symbols[name] = symbols.get(name, 0) | USE
        elif t != "NUMBER" and not (t == "STRING" and _plain_string(node[1])):
            items.append((self._expr, (node, ctx)))

    def check_await(self, node: Node, ctx: _Ctx) -> None:
        scope = ctx.scope
        if not scope.is_function:
            self.error(_COMPILE, "'await' outside function", node)
        elif scope.kind != "comprehension" and not ctx.in_async:
            self.error(_COMPILE, "'await' outside async function", node)

    def yield_expr(self, node: Node, ctx: _Ctx) -> None:
        scope = ctx.scope
        is_from = node[0] == "yield_expr" and node[2][1][0] == "yield_arg"
        if not scope.is_function:
            self.error(_COMPILE, "'yield' outside function", node)
        else:
            if not self.py3 and scope.returns_value:
                self.error(_SYMTABLE, "'return' with argument inside generator", node, offset="none")
            scope.generator = True
            if is_from and scope.coroutine:
                self.error(_COMPILE, "'yield from' inside async function", node)
        if node[0] == "yield_expr":
            arg = node[2][1]
            if arg[0] == "yield_arg":
                arg = arg[2][1]
            self.push(self._expr, arg, ctx)

    def trailer(self, node: Node, ctx: _Ctx) -> None:
        kids = node[2]
        first = kids[0][1]
        if first == "(":
            if len(kids) == 3:
                self.call_args(kids[1], ctx, True)
            return
        if first == "[":
            self.push(self._subscripts, kids[1], ctx)
            return

    def subscripts(self, node: Node, ctx: _Ctx) -> None:
        items = node[2][::2] if node[0] == "subscriptlist" else [node]
        work: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        for item in items:
            if item[0] == "subscript":
                for k in item[2]:
                    if k[0] == "sliceop":
                        if len(k[2]) == 2:
                            self.load(k[2][1], ctx, work)
                    elif k[0] != "OP":
                        self.load(k, ctx, work)
            elif item[0] == "sliceop":
                if len(item[2]) == 2:
                    self.load(item[2][1], ctx, work)
            elif item[0] != "OP":
                self.load(item, ctx, work)
        self.push_all(work)

    def call_args(self, arglist: Node, ctx: _Ctx, allowgen: bool) -> None:
        """ast_for_call: argument order, keywords, generator arguments."""
        t = arglist[0]
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        if t not in {"arglist", "argument"}:  # one positional argument: nothing to check here
            self.load(arglist, ctx, items)
            self.stack.extend(items)
            return
        args = arglist[2] if t == "arglist" else [arglist]
        if t == "arglist":
            for a in args:
                if a[0] == "argument" or (a[0] == "OP" and a[1] != ","):
                    break
            else:
                # positional arguments only: nothing to check here either, but 2.7's count
                positional = args[::2]
                if self.py3 or len(positional) <= 255:
                    for a in positional:
                        self.load(a, ctx, items)
                    self.push_all(items)
                    return
        nch = len(args)
        constants = _CONSTANTS if self.py3 else ()  # what ``kind`` does not call a Name
        if self.py3:
            if not self.py37:
                # 3.6's ast_for_call counts arguments (a trailing comma and class bases are fine);
                # 3.7 (bpo-32012) wants any unparenthesized generator to be the only child.
                gens = [a for a in args if a[0] == "argument" and len(a[2]) == 2
                        and a[2][1][0] in _COMP_FOR]
                others = [a for a in args if a[0] != "OP" and a not in gens]
                if len(gens) > 1 or (gens and others):
                    self.error(_AST, "Generator expression must be parenthesized if not sole argument", arglist)
            for a in (args if self.py37 else ()):
                if a[0] == "argument" and len(a[2]) == 2 and a[2][1][0] in _COMP_FOR:
                    if not allowgen:
                        self.error(_AST, "invalid syntax", a)
                    if nch > 1:
                        self.error(_AST, "Generator expression must be parenthesized", a)
            nkeywords = ndoublestars = 0
            keywords: set[str] = set()
            i = 0
            while i < nch:
                a = args[i]
                if a[0] == "OP":
                    i += 1
                    continue
                if a[0] != "argument":
                    if nkeywords:
                        msg = ("positional argument follows keyword argument unpacking" if ndoublestars
                               else "positional argument follows keyword argument")
                        self.error(_AST, msg, a)
                    self.load(a, ctx, items)
                elif a[2][0][0] == "OP" and a[2][0][1] == "*":
                    if ndoublestars:
                        self.error(_AST, "iterable argument unpacking follows keyword argument unpacking", a)
                    self.load(a[2][1], ctx, items)
                elif a[2][0][0] == "OP" and a[2][0][1] == "**":
                    nkeywords += 1
                    ndoublestars += 1
                    self.load(a[2][1], ctx, items)
                elif a[2][1][0] in _COMP_FOR:
                    items.append((self._genexp, (a, ctx)))
                else:
                    key = a[2][0]
                    kind = "Name" if key[0] == "NAME" and key[1] not in constants else self.kind(key)
                    if kind == "Lambda":
                        self.error(_AST, "lambda cannot contain assignment", key)
                    elif kind != "Name":
                        self.error(_AST, "keyword can't be an expression", key)
                    if key[1] in self.bad_names_full:  # ``forbidden`` faults nothing else
                        self.forbidden(key, a, ctx, full=True)
                    if key[1] in keywords:
                        self.error(_AST, "keyword argument repeated", key)
                    keywords.add(key[1])
                    nkeywords += 1
                    self.load(a[2][2], ctx, items)
                i += 1
        else:
            nargs = nkw = ngens = 0
            for a in args:
                if a[0] == "OP":
                    continue
                if a[0] != "argument":
                    nargs += 1
                elif a[2][1][0] in _COMP_FOR:
                    ngens += 1
                elif a[2][1][1] == "=":
                    nkw += 1
            stars = [i for i, a in enumerate(args) if a[0] == "OP" and a[1] in ("*", "**")]
            positional = [a for i, a in enumerate(args) if a[0] != "OP" and i - 1 not in stars]
            del positional
            if ngens > 1 or (ngens and (nargs - len(stars) or nkw)):
                self.error(_AST, "Generator expression must be parenthesized if not sole argument", arglist)
            if nargs - len(stars) + nkw + ngens > 255:
                self.error(_AST, "more than 255 arguments", arglist)
            seen_kw = False
            vararg = False
            keywords = set()
            i = 0
            while i < nch:
                a = args[i]
                if a[0] == "OP":
                    if a[1] in ("*", "**"):
                        vararg = vararg or a[1] == "*"
                        self.load(args[i + 1], ctx, items)
                        i += 2
                        continue
                    i += 1
                    continue
                if a[0] != "argument":
                    if seen_kw:
                        self.error(_AST, "non-keyword arg after keyword arg", a)
                    if vararg:
                        self.error(_AST, "only named arguments may follow *expression", a)
                    self.load(a, ctx, items)
                elif a[2][1][0] in _COMP_FOR:
                    items.append((self._genexp, (a, ctx)))
                else:
                    key = a[2][0]
                    kind = "Name" if key[0] == "NAME" and key[1] not in constants else self.kind(key)
                    if kind == "Lambda":
                        self.error(_AST, "lambda cannot contain assignment", key)
                    elif kind != "Name":
                        self.error(_AST, "keyword can't be an expression", key)
                    if key[1] in self.bad_names:  # ``forbidden`` faults nothing else
                        self.forbidden(key, key, ctx)
                    if key[1] in keywords:
                        self.error(_AST, "keyword argument repeated", key)
                    keywords.add(key[1])
                    seen_kw = True
                    self.load(a[2][2], ctx, items)
                i += 1
        self.push_all(items)

    def genexp(self, node: Node, ctx: _Ctx) -> None:
        self.comprehension(node, ctx, "genexp")

    def comprehension(self, node: Node, ctx: _Ctx, kind: str) -> None:
        """A comprehension: its own scope, the first iterable evaluated outside it."""
        kids = node[2]
        comp = next(k for k in kids if k[0] in _COMP_FOR)
        elt_nodes = [k for k in kids[: kids.index(comp)] if not (k[0] == "OP" and k[1] in (":", "**"))]
        if self.py3 and elt_nodes and self.kind(elt_nodes[0]) == "Starred":
            self.error(_AST, "iterable unpacking cannot be used in comprehension", elt_nodes[0])
        scope = _Scope("comprehension", kind, node[3], node, ctx.scope)
        inner = _Ctx(scope, in_async=ctx.in_async)
        fors = _comp_chain(comp)
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.load(elt_nodes[0], inner, items)
        if len(elt_nodes) > 1:
            self.load(elt_nodes[1], inner, items)
        for index, (for_node, is_async) in enumerate(fors):
            target, iterable = for_node[2][1], for_node[2][3]
            items.append((self._loop_target, (target, inner)))
            self.load(iterable, ctx if index == 0 else inner, items)
            for cond in _comp_ifs(for_node):
                self.load(cond, inner, items)
            if is_async and not ctx.in_async and kind != "genexp" and self.py3:
                items.append((self.compile_error_at,
                              ("asynchronous comprehension outside of an asynchronous function", node)))
        self.push_all(items)

    def listcomp_27(self, node: Node, ctx: _Ctx) -> None:
        """2.7 list comprehensions run in the enclosing scope."""
        kids = node[2]
        items: list[tuple[Callable[..., None], tuple[Any, ...]]] = [(self._expr, (kids[0], ctx))]
        for for_node, _ in _comp_chain(kids[1]):
            items.append((self._loop_target, (for_node[2][1], ctx)))
            self.load(for_node[2][3], ctx, items)
            for cond in _comp_ifs(for_node):
                self.load(cond, ctx, items)
        self.push_all(items)

    # ------------------------------------------------------------ string literals

    def strings(self, tokens: list[Node], atom: Node, ctx: _Ctx) -> None:
        if self.py3:
            fstrings.check_strings_3x(self, tokens, atom, ctx)
        else:
            fstrings.check_strings_27(self, tokens, atom)

    # ------------------------------------------------------------ future.c

    def check_future(self, tree: Node) -> None:
        """future.c's ``future_parse`` and compile.c's check of later future imports."""
        stmts = _module_statements(tree)
        done = False
        prev_line = 0
        ff_lineno = -1
        found_doc = False
        first = 1 if self.py3 and stmts and _is_docstring(stmts[0][0]) else 0
        late = "from __future__ imports must occur at the beginning of the file"
        off = "col" if self.py3 else "none"
        for node, line in stmts[first:]:
            if done and line > prev_line:
                break
            prev_line = line
            if node[0] == "import_from" and _dotted(node[2][1]) == "__future__":
                if done:
                    self.error(_FUTURE, late, node, offset=off, with_text=False)
                    return
                rest = node[2][3:]
                names = rest[1] if rest[0][0] == "OP" and rest[0][1] == "(" else rest[0]
                items = names[2][::2] if names[0] == "import_as_names" else [names]
                for item in items:
                    feature = (item if not item[2] else item[2][0])[1]
                    if feature == "braces":
                        self.error(_FUTURE, "not a chance", node, offset=off, with_text=False)
                        return
                    if feature not in self.lang.future_features:
                        self.error(_FUTURE, f"future feature {feature} is not defined", node, offset=off,
                                   with_text=False)
                        return
                    self.future.add(feature)
                ff_lineno = line
            elif not self.py3 and not found_doc and (node[0] in {"STRING", "atom"} or _is_expression(node)):
                if _is_docstring(node):
                    found_doc = True
                else:
                    done = True
            else:
                done = True
        if self.future_imports is not None:
            future_imports = [(n, n[3]) for n in self.future_imports]
        elif "__future__" in self.text:  # a future import names the token __future__
            future_imports = _all_future_imports(tree)
        else:
            future_imports = []
        for node, line in future_imports:
            if line > ff_lineno:
                self.error(_COMPILE, late, node)
                break

    # ------------------------------------------------------------ symtable analysis

    def analyze(self, module: _Scope) -> None:
        """symtable.c's analysis pass: nonlocal bindings, free variables, 2.7's unoptimized
        functions. Iterative: every scope is analysed with the names its enclosing functions bind.

        Each error it reports needs a ``global``/``nonlocal`` statement or (2.7) an unoptimized
        function: without one (``analysis_needed``) there is nothing to look at."""
        if not self.analysis_needed:
            return
        order: list[tuple[_Scope, frozenset[str] | None]] = []
        work: list[tuple[_Scope, frozenset[str] | None]] = [(module, None)]
        while work:
            scope, bound = work.pop()
            order.append((scope, bound))
            if scope.kind == "class":
                child_bound = (bound or frozenset()) | ({"__class__"} if self.py3 else set())
            elif scope.kind == "module":
                child_bound = frozenset()
            else:
                local = {n for n, f in scope.symbols.items() if f & DEF_BOUND and not f & DEF_GLOBAL}
                child_bound = (bound or frozenset()) | local
            for child in reversed(scope.children):
                work.append((child, child_bound))
        free_of: dict[int, bool] = {}
        for scope, bound in order:
            for name, flags in scope.symbols.items():
                if flags & DEF_GLOBAL and flags & DEF_NONLOCAL and self.py3:
                    self.directive_error(scope, name, f"name '{name}' is nonlocal and global")
                    return
                if flags & DEF_GLOBAL and flags & DEF_PARAM and not self.py3:
                    self.error(_ANALYZE, f"name '{name}' is local and global", None, line=scope.line,
                               offset="none", with_text=False)
                    return
                if flags & DEF_NONLOCAL and self.py3:
                    if flags & DEF_PARAM:
                        self.directive_error(scope, name, f"name '{name}' is parameter and nonlocal")
                        return
                    if bound is None:
                        self.directive_error(scope, name, "nonlocal declaration not allowed at module level")
                        return
                    if name not in bound:
                        self.directive_error(scope, name, f"no binding for nonlocal '{name}' found")
                        return
        if self.py3:
            return
        # 2.7 check_unoptimized: import * / bare exec in a function with nested free variables
        for scope, bound in reversed(order):
            # 2.7 marks a nested block "free" for any name it neither binds nor declares global
            nested = bound is not None and scope.kind != "module" and _inside_function(scope)
            has_free = nested and any(not f & (DEF_BOUND | DEF_GLOBAL) for f in scope.symbols.values())
            child_free = any(free_of.get(id(c), False) for c in scope.children)
            free_of[id(scope)] = has_free or child_free
            if scope.kind == "function" and scope.unoptimized and (has_free or child_free):
                trailer = ("contains a nested function with free variables" if child_free
                           else "is a nested function")
                if scope.unoptimized == 1:
                    msg = f"import * is not allowed in function '{scope.name}' because it {trailer}"
                elif scope.unoptimized == 2:
                    msg = f"unqualified exec is not allowed in function '{scope.name}' because it {trailer}"
                else:
                    msg = (f"function '{scope.name}' uses import * and bare exec, which are illegal "
                           f"because it {trailer}")
                self.error(_ANALYZE, msg, None, line=scope.opt_line, offset="none", with_text=False)
                return

    def directive_error(self, scope: _Scope, name: str, message: str) -> None:
        found = scope.directives.get(name)
        if found is not None:
            line, col = found[0], self.byte_col(found[1]) if self.py3 else 0
        else:
            line, col = scope.line, self.scope_col(scope)
        self.error(_ANALYZE, message, None, line=line, offset="none", with_text=False)
        self.set_offset(_ANALYZE, col)


# ---------------------------------------------------------------- tree helpers


def _inside_function(scope: _Scope) -> bool:
    parent = scope.parent
    while parent is not None:
        if parent.is_function:
            return True
        parent = parent.parent
    return False


def _unparen(node: Node) -> Node:
    """``(x)`` is ``x`` to ast.c (not a tuple, not a generator, not a yield)."""
    while (
        node[0] == "atom"
        and len(node[2]) == 3
        and node[2][0][1] == "("
        and node[2][1][0] not in ("testlist_comp", "yield_expr")
        and not (node[2][1][0] == "NAME" and node[2][1][1] == "yield")
    ):
        node = node[2][1]
    return node


def _iter_nodes(tree: Node) -> Iterator[Node]:
    """Every node of ``tree`` in preorder, without recursion (``pyparse.Node.iter_nodes``)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if node[2]:
            stack.extend(reversed(node[2]))


def _first_leaf(node: Node) -> Node:
    while node[2]:
        node = node[2][0]
    return node


def _await_keyword(kids: tuple[Node, ...]) -> bool:
    """Whether an ``atom_expr`` starts with the ``await`` keyword. In 2.7, and in 3.6 outside
    ``async def``, ``await`` is a plain name (``await(x)``, ``await.attr``, ``await ** 2``): then a
    trailer or ``**`` follows it, never an atom."""
    if kids[0][0] != "NAME" or kids[0][1] != "await" or len(kids) < 2:
        return False
    second = kids[1]
    return second[0] != "trailer" and not (second[0] == "OP" and second[1] == "**")


def _plain_string(text: str) -> int:
    """0 if the string checks may fault this STRING token, else 1 (text) or 2 (bytes): ASCII
    without a backslash has no escape and nothing to decode, and it is not an f-string."""
    if not text.isascii() or "\\" in text:
        return 0
    first = text[0]
    if first in {"'", '"'}:
        return 1
    prefix = (text[0] if text[1] == "'" or text[1] == '"' else text[:2]).lower()
    if "f" in prefix:
        return 0
    return 2 if "b" in prefix else 1


def _has_comp(node: Node) -> bool:
    for k in node[2]:  # noqa: SIM110 (no generator per call: this runs for every display)
        if k[0] in _COMP_FOR:
            return True
    return False


def _comp_chain(comp: Node) -> list[tuple[Node, bool]]:
    """The 'for' parts of a comprehension chain as (for-node, is_async)."""
    out: list[tuple[Node, bool]] = []
    node: Node | None = comp
    while node is not None:
        if node[0] == "comp_for" and node[2][0][0] == "NAME" and node[2][0][1] == "async":
            out.append((node[2][1], True))
            node = node[2][1]
        elif node[0] in ("comp_for", "sync_comp_for", "list_for"):
            out.append((node, False))
        nxt = None
        for k in node[2]:
            if k[0] in ("comp_for", "list_for", "comp_iter", "list_iter", "comp_if", "list_if"):
                nxt = k
        while nxt is not None and nxt[0] in ("comp_iter", "list_iter", "comp_if", "list_if"):
            inner = None
            for k in nxt[2]:
                if k[0] in ("comp_for", "list_for", "comp_iter", "list_iter", "comp_if", "list_if"):
                    inner = k
            nxt = inner
        node = nxt
    return out


def _comp_ifs(for_node: Node) -> list[Node]:
    """Conditions directly following one 'for' part (up to the next 'for')."""
    out: list[Node] = []
    tail = for_node[2][4] if len(for_node[2]) == 5 else None
    while tail is not None and tail[0] in ("comp_if", "list_if", "comp_iter", "list_iter"):
        if tail[0] in ("comp_iter", "list_iter"):
            tail = tail[2][0]
            continue
        out.append(tail[2][1])
        tail = tail[2][2] if len(tail[2]) == 3 else None
    return out


def _paren_single(fpdef: Node) -> bool:
    node = fpdef
    while node[0] == "fpdef" and len(node[2]) == 3:
        node = node[2][1]
    return bool(node[0] == "NAME")


def _strip_fpdef(fpdef: Node) -> Node:
    node = fpdef
    while node[0] == "fpdef" and len(node[2]) == 3:
        node = node[2][1]
    return node


def _dotted(node: Node) -> str:
    if node[0] == "NAME":
        return str(node[1])
    if node[0] == "dotted_name":
        return "".join(k[1] for k in node[2])
    return ""


def _is_docstring(node: Node) -> bool:
    return bool(node[0] == "STRING" or (node[0] == "atom" and node[2][0][0] == "STRING"))


def _module_statements(tree: Node) -> list[tuple[Node, int]]:
    out: list[tuple[Node, int]] = []
    for child in tree[2]:
        if child[0] in ("NEWLINE", "ENDMARKER"):
            continue
        if child[0] == "simple_stmt":
            for k in child[2]:
                if k[0] != "NEWLINE" and k[1] != ";":
                    out.append((k, k[3]))
        else:
            out.append((child, child[3]))
    return out


def _all_future_imports(tree: Node) -> list[tuple[Node, int]]:
    return [
        (n, n[3])
        for n in _iter_nodes(tree)
        if n[0] == "import_from" and _dotted(n[2][1]) == "__future__"
    ]


def _is_expression(node: Node) -> bool:
    return node[0] not in (
        "expr_stmt", "print_stmt", "del_stmt", "return_stmt", "raise_stmt", "import_name", "import_from",
        "global_stmt", "exec_stmt", "assert_stmt", "nonlocal_stmt",
    ) and not (node[0] == "NAME" and node[1] in _SMALL_LEAVES) and node[0] not in _COMPOUND


#: The statement handlers by node type (``_Checker.s_<type>``), called as ``handler(checker, node, ctx)``.
_HANDLERS: dict[str, Callable[[_Checker, Node, _Ctx], None]] = {
    name[2:]: func for name, func in vars(_Checker).items() if name.startswith("s_")
}
