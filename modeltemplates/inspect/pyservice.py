"""Facts about an inference script, read from its concrete syntax tree without running it.

:func:`analyze_service` walks the tree of :mod:`modeltemplates.inspect.pyparse` once, iteratively,
and records what the service checks need: imports (and the names they bind), classes with their
bases resolved through those bindings, methods with their parameters, zero-argument ``super()``
calls, and file accesses whose path is a relative string literal. Node types are CPython's grammar
symbols (2.7 and 3.7), one-child nonterminals collapsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal, Protocol

import attrs

#: Most nodes one walk visits; a larger tree is analysed up to here and marked ``truncated``.
MAX_NODES = 2_000_000
#: Most facts of each kind kept.
MAX_FACTS = 5_000
#: Longest dotted name or literal kept in a fact.
MAX_TEXT = 300


class SyntaxNode(Protocol):
    """The shape of a parse-tree node this module reads (``pyparse.Node`` has it)."""

    @property
    def type(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def children(self) -> Sequence[SyntaxNode]: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


ParamKind = Literal["positional", "vararg", "keyword_only", "kwarg"]


@attrs.frozen
class ImportedName:
    """One name of a ``from`` import: ``from x import name as alias`` (``*`` for a star import)."""

    name: str
    alias: str | None = None

    @property
    def bound(self) -> str:
        return self.alias or self.name


@attrs.frozen
class ImportFact:
    """One imported module: ``import a.b as c`` or ``from ..a import b as c``.

    ``module`` is the dotted name without its leading dots (``""`` for ``from . import m``);
    ``level`` counts those dots. ``guarded`` is true inside ``try`` with an ``except ImportError``
    (or broader) handler, or under an ``if`` that tests the Python version. ``toplevel`` is false
    inside a function or class body.
    """

    kind: Literal["import", "from"]
    module: str
    level: int
    line: int
    column: int
    alias: str | None = None
    names: tuple[ImportedName, ...] = ()
    guarded: bool = False
    toplevel: bool = True

    @property
    def absolute(self) -> bool:
        return self.level == 0

    @property
    def top(self) -> str:
        """First component of the module (``""`` for ``from . import m``)."""
        return self.module.split(".", 1)[0]

    @property
    def qualified_module(self) -> str:
        return "." * self.level + self.module

    @property
    def statement(self) -> str:
        """The import as source text (normalised)."""
        if self.kind == "import":
            return f"import {self.module}" + (f" as {self.alias}" if self.alias else "")
        names = ", ".join(n.name + (f" as {n.alias}" if n.alias else "") for n in self.names)
        return f"from {self.qualified_module} import {names}"

    def bindings(self) -> Iterator[tuple[str, str]]:
        """``(local name, qualified target)`` pairs the statement binds."""
        if self.kind == "import":
            if self.alias:
                yield self.alias, self.module
            elif self.module:
                yield self.top, self.top
            return
        base = self.qualified_module
        for item in self.names:
            if item.name != "*":
                sep = "" if base.endswith(".") else "."
                yield item.bound, f"{base}{sep}{item.name}"


@attrs.frozen
class Param:
    """A formal parameter. Python 2 tuple parameters are named by their source, e.g. ``(a, b)``."""

    name: str
    kind: ParamKind = "positional"
    has_default: bool = False


@attrs.frozen
class FunctionFact:
    """A ``def`` with its parameters and decorator names."""

    name: str
    line: int
    column: int
    params: tuple[Param, ...] = ()
    decorators: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        parts = []
        bare_star = not any(p.kind == "vararg" for p in self.params)
        for p in self.params:
            if p.kind == "keyword_only" and bare_star:
                parts.append("*")
                bare_star = False
            text = {"vararg": "*", "kwarg": "**"}.get(p.kind, "") + p.name
            parts.append(text + ("=..." if p.has_default else ""))
        return f"{self.name}({', '.join(parts)})"

    def accepts_positional(self, count: int) -> bool:
        """Whether calling the function with ``count`` positional arguments binds them all.

        ``count`` includes ``self`` for a method called through an instance; a ``staticmethod``
        decorator is taken into account by the caller.
        """
        positional = [p for p in self.params if p.kind == "positional"]
        required = sum(1 for p in positional if not p.has_default)
        if any(p.kind == "keyword_only" and not p.has_default for p in self.params):
            return False
        has_vararg = any(p.kind == "vararg" for p in self.params)
        return required <= count and (has_vararg or count <= len(positional))


@attrs.frozen
class BaseRef:
    """A base class expression of a ``class`` statement.

    ``text`` is the dotted name as written (or ``None`` when the base is not a dotted name);
    ``resolved`` is that name with its first component replaced by what an import bound it to
    (``pms.PTServingBaseService`` -> ``model_service.pytorch_model_service.PTServingBaseService``).
    ``local`` is true when the name is a class or function defined in the same file.
    """

    text: str | None
    resolved: str | None
    line: int
    column: int
    local: bool = False


@attrs.frozen
class ClassFact:
    """A ``class`` statement with its bases and the functions defined directly in its body."""

    name: str
    line: int
    column: int
    bases: tuple[BaseRef, ...] = ()
    methods: tuple[FunctionFact, ...] = ()
    toplevel: bool = True

    def method(self, name: str) -> FunctionFact | None:
        """The last definition of ``name`` in the body (the one that wins)."""
        found = None
        for m in self.methods:
            if m.name == name:
                found = m
        return found


@attrs.frozen
class SuperCall:
    """``super()`` called without arguments. ``builtin`` is false when ``super`` was imported
    (``from builtins import super`` of the ``future`` package makes the call valid on Python 2)."""

    line: int
    column: int
    class_name: str | None
    function: str | None
    builtin: bool = True


@attrs.frozen
class FileAccess:
    """A call that opens or reads a file by a relative literal path, e.g. ``open('label.json')``."""

    call: str
    path: str
    line: int
    column: int
    class_name: str | None = None
    function: str | None = None


@attrs.frozen
class FileLoad:
    """A call that unpickles a file named by a literal, e.g. ``torch.load(os.path.join(d, 'w.pth'))``.

    ``path`` is the literal file name the path expression ends with (anchored or not), without a
    leading ``/`` or ``./``; ``call`` the loader (``torch.load``, ``pickle.load``, ``numpy.load``
    with ``allow_pickle=True``, ``joblib.load``...).
    """

    call: str
    path: str
    line: int


#: Calls that unpickle what they read, with the argument that names (or opens) the file.
LOAD_CALLS: Mapping[str, tuple[int, str]] = {
    "torch.load": (0, "f"),
    "pickle.load": (0, "file"),
    "cPickle.load": (0, "file"),
    "_pickle.load": (0, "file"),
    "dill.load": (0, "file"),
    "joblib.load": (0, "filename"),
    "sklearn.externals.joblib.load": (0, "filename"),
    "numpy.load": (0, "file"),
    "pandas.read_pickle": (0, "filepath_or_buffer"),
}


@attrs.frozen
class ServiceFacts:
    """Everything :func:`analyze_service` found, in source order."""

    imports: tuple[ImportFact, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    super_calls: tuple[SuperCall, ...] = ()
    file_accesses: tuple[FileAccess, ...] = ()
    truncated: bool = False
    loads: tuple[FileLoad, ...] = ()

    def toplevel_classes(self) -> dict[str, ClassFact]:
        """Module-level classes by name (a later definition replaces an earlier one)."""
        return {c.name: c for c in self.classes if c.toplevel}

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary for a report's facts."""
        return {
            "imports": [
                {"statement": i.statement, "line": i.line, "guarded": i.guarded} for i in self.imports
            ],
            "classes": [
                {
                    "name": c.name,
                    "line": c.line,
                    "bases": [b.resolved or b.text for b in c.bases],
                    "methods": [m.signature for m in c.methods],
                }
                for c in self.classes
            ],
            "super_calls": [{"line": c.line, "class": c.class_name} for c in self.super_calls],
            "relative_paths": [
                {"call": a.call, "path": a.path, "line": a.line} for a in self.file_accesses
            ],
            "truncated": self.truncated,
            "loads": [{"call": a.call, "path": a.path, "line": a.line} for a in self.loads],
        }


# Calls that read or open a file, by qualified name: index and keyword of the path argument.
# Signatures from the libraries' documentation (builtins / io / codecs / os.path; numpy.load,
# loadtxt, genfromtxt, fromfile; torch.load, torch.jit.load; PIL.Image.open; cv2.imread;
# pandas.read_csv; joblib.load; h5py.File). ``file`` is Python 2's builtin.
FILE_CALLS: Mapping[str, tuple[int, str]] = {
    "open": (0, "file"),
    "io.open": (0, "file"),
    "codecs.open": (0, "filename"),
    "os.listdir": (0, "path"),
    "numpy.load": (0, "file"),
    "numpy.loadtxt": (0, "fname"),
    "numpy.genfromtxt": (0, "fname"),
    "numpy.fromfile": (0, "file"),
    "torch.load": (0, "f"),
    "torch.jit.load": (0, "f"),
    "PIL.Image.open": (0, "fp"),
    "cv2.imread": (0, "filename"),
    "pandas.read_csv": (0, "filepath_or_buffer"),
    "joblib.load": (0, "filename"),
    "sklearn.externals.joblib.load": (0, "filename"),
    "h5py.File": (0, "name"),
}
_PY2_FILE_CALLS: Mapping[str, tuple[int, str]] = {"file": (0, "name")}
_JOIN = "os.path.join"
_FILE_CALL_NAMES = frozenset(
    name.rsplit(".", 1)[-1] for name in (*FILE_CALLS, *_PY2_FILE_CALLS, _JOIN, *LOAD_CALLS)
)
# Names whose presence makes a path expression "derived from the model location".
_ANCHORS = frozenset({"model_path", "__file__", "model_dir", "model_dir_path"})
# An ``if`` whose test mentions one of these selects code by Python version.
_VERSION_NAMES = frozenset({"version_info", "hexversion", "version", "python_version", "PY2", "PY3"})
# ``except`` classes under which a failed import is handled.
_IMPORT_HANDLERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# Modules whose ``super`` replaces the builtin (``future`` backports zero-argument super to 2.7).
_SUPER_PROVIDERS = ("builtins.super", "future.builtins.super", "future.builtins.newsuper.newsuper")

_STRING_PREFIX = re.compile(r"^([A-Za-z]*)('''|\"\"\"|'|\")")


@attrs.frozen
class _Ctx:
    scope: Literal["module", "class", "function"] = "module"
    cls: _ClassBuilder | None = None
    func: FunctionFact | None = None
    guarded: bool = False
    locals_key: int | None = None  # id of the innermost function node, for local imports
    dead: bool = False  # under ``if __name__ == '__main__':``, which never runs on the platform
    # in the handler of a ``try`` that guards imports: the fallback keeps the try body's bindings
    fallback: bool = False


@attrs.define
class _ClassBuilder:
    name: str
    line: int
    column: int
    bases: tuple[BaseRef, ...]
    toplevel: bool
    methods: list[FunctionFact] = attrs.Factory(list)


@attrs.define
class _Walker:
    version: tuple[int, int]
    imports: list[ImportFact] = attrs.Factory(list)
    classes: list[_ClassBuilder] = attrs.Factory(list)
    supers: list[tuple[SyntaxNode, _Ctx]] = attrs.Factory(list)
    calls: list[tuple[SyntaxNode, _Ctx]] = attrs.Factory(list)
    module_bindings: dict[str, str] = attrs.Factory(dict)
    local_defs: set[str] = attrs.Factory(set)
    function_bindings: dict[int, dict[str, str]] = attrs.Factory(dict)
    decorators: dict[int, tuple[str, ...]] = attrs.Factory(dict)
    truncated: bool = False

    def walk(self, root: SyntaxNode) -> None:
        stack: list[tuple[SyntaxNode, _Ctx]] = [(root, _Ctx())]
        visited = 0
        while stack:
            node, ctx = stack.pop()
            visited += 1
            if visited > MAX_NODES:
                self.truncated = True
                return
            if node.children:  # a leaf has nothing to visit
                stack.extend(reversed(self.visit(node, ctx)))

    def _room(self, items: Sequence[object]) -> bool:
        if len(items) >= MAX_FACTS:
            self.truncated = True
            return False
        return True

    def visit(self, node: SyntaxNode, ctx: _Ctx) -> list[tuple[SyntaxNode, _Ctx]]:
        t = node.type
        children = node.children
        if not children:
            return []
        if t == "classdef":
            return self._classdef(node, ctx)
        if t == "funcdef":
            return self._funcdef(node, ctx)
        if t == "decorated":
            target = children[-1]
            if target.type == "async_funcdef" and target.children:  # 'async' funcdef
                target = target.children[-1]
            self.decorators[id(target)] = tuple(_decorator_names(children[0]))
        elif t == "import_name":
            self._import_name(node, ctx)
            return []
        elif t == "import_from":
            self._import_from(node, ctx)
            return []
        elif t == "try_stmt":
            return self._try(node, ctx)
        elif t == "if_stmt":
            return self._if(node, ctx)
        elif t in ("power", "atom_expr"):
            self._trailers(node, ctx)
        elif t == "expr_stmt" and ctx.scope == "module":
            self._alias_assignment(node)
        return [(c, ctx) for c in children]

    # -- definitions -------------------------------------------------------------------------

    def _bind(self, ctx: _Ctx, name: str, target: str) -> None:
        if ctx.fallback and name in (self.module_bindings if ctx.scope == "module" else
                                     self.function_bindings.get(ctx.locals_key or 0, {})):
            return  # the try body's import succeeded where a fallback import would rebind it
        if ctx.scope == "module":
            self.module_bindings[name] = target
            self.local_defs.discard(name)
        elif ctx.locals_key is not None:
            self.function_bindings.setdefault(ctx.locals_key, {})[name] = target

    def _classdef(self, node: SyntaxNode, ctx: _Ctx) -> list[tuple[SyntaxNode, _Ctx]]:
        kids = node.children
        name = kids[1].value if len(kids) > 1 else ""
        bases: list[BaseRef] = []
        if len(kids) > 2 and kids[2].type == "OP" and kids[2].value == "(" and kids[3].value != ")":
            for expr in _split_arguments(kids[3]):
                parts = _dotted(expr)
                pos = _first_leaf(expr)
                if parts is None:
                    bases.append(BaseRef(None, None, pos.line, pos.column))
                    continue
                resolved, local = self._resolve(parts, ctx)
                bases.append(BaseRef(".".join(parts)[:MAX_TEXT], resolved, pos.line, pos.column, local))
        self.decorators.pop(id(node), None)
        toplevel = ctx.scope == "module" and not ctx.dead
        builder = _ClassBuilder(name, node.line, node.column, tuple(bases), toplevel)
        if self._room(self.classes):
            self.classes.append(builder)
        if ctx.scope == "module" and name:
            self.module_bindings.pop(name, None)
            self.local_defs.add(name)
        inner = _Ctx("class", builder, None, ctx.guarded, ctx.locals_key, ctx.dead)
        return [(kids[-1], inner)]

    def _funcdef(self, node: SyntaxNode, ctx: _Ctx) -> list[tuple[SyntaxNode, _Ctx]]:
        kids = node.children
        # ``def`` NAME parameters ['->' test] ':' suite
        name = kids[1].value if len(kids) > 1 else ""
        params = _parameters(kids[2]) if len(kids) > 2 else ()
        fact = FunctionFact(name, node.line, node.column, params, self.decorators.pop(id(node), ()))
        if ctx.scope == "class" and ctx.cls is not None and self._room(ctx.cls.methods):
            ctx.cls.methods.append(fact)
        if ctx.scope == "module" and name:
            self.module_bindings.pop(name, None)
            self.local_defs.add(name)
        cls = ctx.cls if ctx.scope in ("class", "function") else None
        inner = _Ctx("function", cls, fact, ctx.guarded, id(node), ctx.dead)
        if ctx.locals_key is not None:  # a nested function sees its parent's local imports
            self.function_bindings[id(node)] = dict(self.function_bindings.get(ctx.locals_key, {}))
        return [(c, inner) for c in kids[2:]]

    def _alias_assignment(self, node: SyntaxNode) -> None:
        """``Base = pms.PTServingBaseService`` at module level binds like an import."""
        kids = node.children
        if len(kids) == 3 and kids[0].type == "NAME" and kids[1].value == "=":
            parts = _dotted(kids[2])
            if parts is not None:
                resolved, local = self._resolve(parts, _Ctx())
                if resolved is not None and not local:
                    self.module_bindings[kids[0].value] = resolved
                    self.local_defs.discard(kids[0].value)

    def _resolve(self, parts: Sequence[str], ctx: _Ctx) -> tuple[str | None, bool]:
        head, rest = parts[0], list(parts[1:])
        scope = self.function_bindings.get(ctx.locals_key, {}) if ctx.locals_key is not None else {}
        target = scope.get(head) or self.module_bindings.get(head)
        if target is not None:
            return ".".join([target, *rest])[:MAX_TEXT], False
        return ".".join(parts)[:MAX_TEXT], head in self.local_defs and not rest

    # -- imports -----------------------------------------------------------------------------

    def _add_import(self, fact: ImportFact, ctx: _Ctx) -> None:
        if self._room(self.imports):
            self.imports.append(fact)
        for name, target in fact.bindings():
            self._bind(ctx, name, target)

    def _import_name(self, node: SyntaxNode, ctx: _Ctx) -> None:
        # 'import' dotted_as_names
        for item in _split_commas(node.children[1]):
            if item.type == "dotted_as_name":
                module, alias = _dotted_text(item.children[0]), item.children[-1].value
            else:
                module, alias = _dotted_text(item), None
            pos = _first_leaf(item)
            self._add_import(
                ImportFact("import", module, 0, pos.line, pos.column, alias=alias,
                           guarded=ctx.guarded, toplevel=ctx.scope == "module"),
                ctx,
            )

    def _import_from(self, node: SyntaxNode, ctx: _Ctx) -> None:
        # 'from' ('.'* dotted_name | '.'+) 'import' ('*' | '(' import_as_names ')' | import_as_names)
        kids = node.children
        level, module, i = 0, "", 1
        while i < len(kids) and not (kids[i].type == "NAME" and kids[i].value == "import"):
            k = kids[i]
            if k.type == "OP" and set(k.value) == {"."}:
                level += len(k.value)
            else:
                module = _dotted_text(k)
            i += 1
        names: list[ImportedName] = []
        for item in kids[i + 1:]:
            if item.type == "OP" and item.value in ("(", ")"):
                continue
            for one in _split_commas(item):
                if one.type == "import_as_name":
                    names.append(ImportedName(one.children[0].value, one.children[-1].value))
                elif one.type in ("NAME", "OP") and one.value != ",":
                    names.append(ImportedName(one.value))
        self._add_import(
            ImportFact("from", module, level, node.line, node.column, names=tuple(names[:MAX_FACTS]),
                       guarded=ctx.guarded, toplevel=ctx.scope == "module"),
            ctx,
        )

    def _try(self, node: SyntaxNode, ctx: _Ctx) -> list[tuple[SyntaxNode, _Ctx]]:
        kids = node.children
        handles = any(
            (k.type == "except_clause" and _catches_import_error(k))
            or (k.type == "NAME" and k.value == "except")  # a bare ``except:``
            for k in kids
        )
        if not handles:
            return [(c, ctx) for c in kids]
        out: list[tuple[SyntaxNode, _Ctx]] = []
        guarded = attrs.evolve(ctx, guarded=True)
        handler = attrs.evolve(ctx, guarded=True, fallback=True)
        current = guarded  # the ``try`` body
        for k in kids:
            if k.type == "except_clause" or (k.type == "NAME" and k.value == "except"):
                current = handler if k.type == "NAME" or _catches_import_error(k) else ctx
            elif k.type == "NAME" and k.value in ("else", "finally"):
                current = ctx
            out.append((k, current))
        return out

    def _if(self, node: SyntaxNode, ctx: _Ctx) -> list[tuple[SyntaxNode, _Ctx]]:
        # if_stmt: 'if' test ':' suite ('elif' test ':' suite)* ['else' ':' suite]
        kids = node.children
        tests = [kids[i + 1] for i, k in enumerate(kids[:-1]) if k.type == "NAME" and k.value in ("if", "elif")]
        if any(_mentions(t, _VERSION_NAMES) for t in tests):
            ctx = attrs.evolve(ctx, guarded=True)
        out: list[tuple[SyntaxNode, _Ctx]] = []
        current = ctx
        for i, k in enumerate(kids):
            if k.type == "NAME" and k.value in ("if", "elif", "else"):
                main = k.value != "else" and i + 1 < len(kids) and _is_main_test(kids[i + 1])
                current = attrs.evolve(ctx, guarded=True, dead=True) if main else ctx
            out.append((k, current))
        return out

    # -- calls -------------------------------------------------------------------------------

    def _trailers(self, node: SyntaxNode, ctx: _Ctx) -> None:
        if ctx.dead:
            return
        kids = node.children
        start = 1 if kids[0].type == "AWAIT" or (kids[0].value == "await" and len(kids) > 2) else 0
        atom = kids[start]
        trailers = kids[start + 1:]
        if not trailers or trailers[0].type != "trailer":
            return
        is_super = atom.type == "NAME" and atom.value == "super" and _is_empty_call(trailers[0])
        if is_super and self._room(self.supers):
            self.supers.append((node, ctx))
        # Keep only calls whose callee could be a file access once names are resolved.
        for callee, _ in _calls_in(node):
            resolved = self._resolve(callee, ctx)[0] or ""
            relevant = callee[-1] in _FILE_CALL_NAMES or resolved.rsplit(".", 1)[-1] in _FILE_CALL_NAMES
            if relevant and self._room(self.calls):
                self.calls.append((node, ctx))

    # -- result ------------------------------------------------------------------------------

    def facts(self) -> ServiceFacts:
        file_calls = dict(FILE_CALLS)
        if self.version[0] == 2:
            file_calls.update(_PY2_FILE_CALLS)
        accesses: list[FileAccess] = []
        consumed: set[int] = set()
        for node, ctx in self.calls:
            for callee, trailer in _calls_in(node):
                if id(trailer) in consumed:
                    continue
                resolved, local = self._resolve(callee, ctx)
                if resolved is None or local:
                    continue
                arg: SyntaxNode | None = None
                if resolved == _JOIN:
                    arg = trailer
                elif resolved in file_calls:
                    index, keyword = file_calls[resolved]
                    arg = _argument(trailer, index, keyword)
                if arg is None:
                    continue
                path = self._relative_path(arg, ctx, consumed)
                if path is not None and len(accesses) < MAX_FACTS:
                    pos = _first_leaf(node)
                    accesses.append(FileAccess(
                        resolved, path[:MAX_TEXT], pos.line, pos.column,
                        ctx.cls.name if ctx.cls else None, ctx.func.name if ctx.func else None,
                    ))
        loads = self._loads()
        super_builtin = self.module_bindings.get("super") not in _SUPER_PROVIDERS
        supers = tuple(
            SuperCall(
                node.line, node.column, ctx.cls.name if ctx.cls else None,
                ctx.func.name if ctx.func else None, builtin=super_builtin,
            )
            for node, ctx in self.supers
        )
        classes = tuple(
            ClassFact(b.name, b.line, b.column, b.bases, tuple(b.methods), b.toplevel) for b in self.classes
        )
        return ServiceFacts(tuple(self.imports), classes, supers, tuple(accesses), self.truncated, loads)

    def _loads(self) -> tuple[FileLoad, ...]:
        """Unpickling calls whose file is named by a literal (plain, joined or concatenated)."""
        out: list[FileLoad] = []
        for node, ctx in self.calls:
            for callee, trailer in _calls_in(node):
                resolved, local = self._resolve(callee, ctx)
                if resolved is None or local or resolved not in LOAD_CALLS:
                    continue
                if resolved == "numpy.load":
                    flag = _argument(trailer, 2, "allow_pickle")
                    if flag is None or flag.value != "True":
                        continue  # numpy refuses object arrays without allow_pickle=True
                index, keyword = LOAD_CALLS[resolved]
                arg = _argument(trailer, index, keyword)
                name = _file_literal(arg) if arg is not None else None
                if name is not None and len(out) < MAX_FACTS:
                    out.append(FileLoad(resolved, name[:MAX_TEXT], _first_leaf(node).line))
        return tuple(out)

    def _relative_path(self, expr: SyntaxNode, ctx: _Ctx, consumed: set[int]) -> str | None:
        """The relative literal a path expression starts with, or None when it is not one.

        ``expr`` may be a ``trailer`` (the arguments of ``os.path.join``).
        """
        if expr.type == "trailer":
            args = list(_positional_args(expr))
            if not args or any(_mentions(a, _ANCHORS) or _absolute_literal(a) for a in args[1:]):
                return None
            head = self._relative_path(args[0], ctx, consumed)
            if head is None:
                return None
            rest = [_literal_prefix(_unparen(a)) for a in args[1:]]
            return "/".join([head, *(r if r is not None else "..." for r in rest)])
        if _mentions(expr, _ANCHORS):
            return None
        expr = _unparen(expr)
        literal = _literal_prefix(expr)
        if literal is not None:
            return literal if _is_relative(literal) else None
        if expr.type in ("arith_expr", "term") and len(expr.children) >= 3:
            if expr.type == "term" and expr.children[1].value != "%":
                return None
            if expr.type == "arith_expr" and expr.children[1].value != "+":
                return None
            head = _literal_prefix(_unparen(expr.children[0]))
            if head is not None and expr.type == "term":
                head = head.split("%", 1)[0]
            if head and _is_relative(head):
                return head
            return None
        if expr.type in ("power", "atom_expr"):
            for callee, trailer in _calls_in(expr):
                resolved, _ = self._resolve(callee, ctx)
                if resolved == _JOIN:
                    consumed.add(id(trailer))
                    return self._relative_path(trailer, ctx, consumed)
                break
            # 'data/{}.json'.format(name)
            kids = expr.children
            fmt = len(kids) >= 3 and kids[1].children and kids[1].children[-1].value == "format"
            if fmt and _literal_prefix(kids[0]) is not None:
                head = (_literal_prefix(kids[0]) or "").split("{", 1)[0]
                return head if head and _is_relative(head) else None
        return None


def analyze_service(tree: SyntaxNode, version: tuple[int, int]) -> ServiceFacts:
    """Facts about the inference script whose parse tree is ``tree`` (parsed for ``version``)."""
    walker = _Walker(version)
    walker.walk(tree)
    return walker.facts()


# -- tree helpers ------------------------------------------------------------------------------


def _first_leaf(node: SyntaxNode) -> SyntaxNode:
    for _ in range(10_000):
        if not node.children:
            return node
        node = node.children[0]
    return node


def _leaves(node: SyntaxNode, limit: int = 10_000) -> Iterator[SyntaxNode]:
    stack = [node]
    seen = 0
    while stack and seen < limit:
        n = stack.pop()
        seen += 1
        if n.children:
            stack.extend(reversed(n.children))
        else:
            yield n


def _mentions(node: SyntaxNode, names: frozenset[str]) -> bool:
    return any(leaf.type == "NAME" and leaf.value in names for leaf in _leaves(node))


def _is_main_test(test: SyntaxNode) -> bool:
    """``__name__ == '__main__'`` (either order, any quotes)."""
    leaves = list(_leaves(test, 50))
    has_name = any(leaf.type == "NAME" and leaf.value == "__name__" for leaf in leaves)
    return has_name and any(leaf.type == "STRING" and "__main__" in leaf.value for leaf in leaves)


def _split_commas(node: SyntaxNode) -> list[SyntaxNode]:
    """Items of a comma-separated list node (or the node itself when it is a single item)."""
    if node.type in ("dotted_as_names", "import_as_names", "testlist", "arglist", "exprlist"):
        return [c for c in node.children if not (c.type == "OP" and c.value == ",")]
    return [node]


def _split_arguments(node: SyntaxNode) -> list[SyntaxNode]:
    """Positional, non-star argument expressions of a base list or call (keywords dropped)."""
    out = []
    star = False
    for item in _split_commas(node):
        if item.type == "OP" and item.value in ("*", "**"):
            star = True
            continue
        if star:
            star = False
            continue
        if item.type == "argument":
            continue  # keyword, *args, **kwargs or a generator
        out.append(item)
    return out


def _dotted_text(node: SyntaxNode) -> str:
    """``a.b.c`` from a ``dotted_name`` (or a NAME)."""
    return "".join(leaf.value for leaf in _leaves(node, 1000))[:MAX_TEXT]


def _dotted(node: SyntaxNode) -> list[str] | None:
    """``['a', 'b']`` for the expression ``a.b``; None for anything that is not a dotted name."""
    if node.type == "NAME":
        return [node.value]
    if node.type not in ("power", "atom_expr"):
        return None
    kids = node.children
    if kids[0].type != "NAME":
        return None
    parts = [kids[0].value]
    for trailer in kids[1:]:
        tk = trailer.children
        if trailer.type != "trailer" or len(tk) != 2 or tk[0].value != "." or tk[1].type != "NAME":
            return None
        parts.append(tk[1].value)
    return parts


def _calls_in(node: SyntaxNode) -> Iterator[tuple[list[str], SyntaxNode]]:
    """``(dotted callee, call trailer)`` for each call of a dotted name in a trailer chain."""
    kids = node.children
    start = 1 if kids and (kids[0].type == "AWAIT" or kids[0].value == "await") and len(kids) > 2 else 0
    if kids[start].type != "NAME":
        return
    parts = [kids[start].value]
    for trailer in kids[start + 1:]:
        if trailer.type != "trailer":
            return
        tk = trailer.children
        if tk[0].value == "(":
            yield list(parts), trailer
            return
        if tk[0].value != "." or len(tk) != 2:
            return
        parts.append(tk[1].value)


def _is_empty_call(trailer: SyntaxNode) -> bool:
    kids = trailer.children
    return len(kids) == 2 and kids[0].value == "(" and kids[1].value == ")"


def _positional_args(trailer: SyntaxNode) -> Iterator[SyntaxNode]:
    kids = trailer.children
    if len(kids) != 3:
        return
    yield from _split_arguments(kids[1])


def _argument(trailer: SyntaxNode, index: int, keyword: str) -> SyntaxNode | None:
    """The argument at position ``index`` or passed as ``keyword=`` in a call trailer."""
    kids = trailer.children
    if len(kids) != 3:
        return None
    positional = list(_positional_args(trailer))
    if index < len(positional):
        return positional[index]
    for item in _split_commas(kids[1]):
        ak = item.children
        if item.type == "argument" and len(ak) == 3 and ak[1].value == "=" and ak[0].value == keyword:
            return ak[2]
    return None


def _unparen(node: SyntaxNode) -> SyntaxNode:
    for _ in range(100):
        kids = node.children
        if node.type == "atom" and len(kids) == 3 and kids[0].value == "(" and kids[2].value == ")":
            node = kids[1]
        else:
            break
    return node


def _literal_prefix(node: SyntaxNode) -> str | None:
    """The text of a string literal (concatenated), up to its first ``{`` for an f-string."""
    pieces = [node] if node.type == "STRING" else list(node.children) if node.type == "atom" else []
    if not pieces or any(p.type != "STRING" for p in pieces):
        return None
    out = []
    for piece in pieces:
        match = _STRING_PREFIX.match(piece.value)
        if match is None:
            return None
        prefix, quote = match.group(1).lower(), match.group(2)
        body = piece.value[len(match.group(0)):len(piece.value) - len(quote)]
        if "f" in prefix:
            out.append(body.split("{", 1)[0])
            break
        out.append(body)
    return "".join(out)


def _file_literal(expr: SyntaxNode) -> str | None:
    """The last string literal in a path expression that names a file (``'w.pth'`` in
    ``os.path.join(model_dir, 'w.pth')``, ``open(d + '/l.pkl', 'rb')``), without a leading ``/``/``./``."""
    found: str | None = None
    for leaf in _leaves(expr, 2000):
        if leaf.type != "STRING":
            continue
        text = _literal_prefix(leaf)
        if text and "{" not in text and "%" not in text and ("." in text or "/" in text):
            found = text
    if found is None:
        return None
    found = found.replace("\\", "/")
    while found.startswith(("./", "/")):
        found = found[2:] if found.startswith("./") else found[1:]
    return found or None


def _is_relative(text: str) -> bool:
    if not text or "://" in text or text.startswith(("/", "\\", "~", "$")):
        return False
    return not re.match(r"^[A-Za-z]:[\\/]", text)


def _absolute_literal(node: SyntaxNode) -> bool:
    text = _literal_prefix(_unparen(node))
    return bool(text) and not _is_relative(text or "")


def _decorator_names(node: SyntaxNode) -> Iterator[str]:
    items = node.children if node.type == "decorators" else [node]
    for deco in items:
        if deco.type == "decorator" and len(deco.children) > 1:
            yield _dotted_text(deco.children[1])


def _catches_import_error(clause: SyntaxNode) -> bool:
    # except_clause: 'except' [test [('as' | ',') test]]
    kids = clause.children
    if len(kids) < 2:
        return True
    caught = kids[1]
    names = {leaf.value for leaf in _leaves(caught) if leaf.type == "NAME"}
    return bool(names & _IMPORT_HANDLERS)


def _param_name(node: SyntaxNode) -> str:
    if node.type == "NAME":
        return node.value
    kids = node.children
    if kids and kids[0].type == "NAME":  # tfpdef / tname: NAME [':' test]
        return kids[0].value
    return "".join(leaf.value if leaf.value != "," else ", " for leaf in _leaves(node, 200))[:MAX_TEXT]


def _parameters(node: SyntaxNode) -> tuple[Param, ...]:
    """Formal parameters from a ``parameters`` node: ``'(' [varargslist | typedargslist] ')'``."""
    kids = node.children
    if len(kids) < 3:
        return ()
    inner = kids[1]
    items = inner.children if inner.type in ("varargslist", "typedargslist") else (inner,)
    params: list[Param] = []
    mode: ParamKind = "positional"
    pending: str | None = None
    expect_default = False
    for item in items:
        if expect_default:
            if params:
                params[-1] = attrs.evolve(params[-1], has_default=True)
            expect_default = False
            continue
        if item.type == "OP":
            if item.value == ",":
                if pending == "*":  # a bare ``*``: keyword-only parameters follow
                    mode, pending = "keyword_only", None
            elif item.value == "=":
                expect_default = True
            elif item.value in ("*", "**"):
                pending = item.value
            continue
        name = _param_name(item)
        if pending == "*":
            params.append(Param(name, "vararg"))
            mode, pending = "keyword_only", None
        elif pending == "**":
            params.append(Param(name, "kwarg"))
            pending = None
        else:
            params.append(Param(name, mode))
        if len(params) >= 255:
            break
    return tuple(params)
