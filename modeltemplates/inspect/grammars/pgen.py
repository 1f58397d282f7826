"""A parser generator in the manner of CPython's ``pgen``: EBNF grammar text -> LL(1) tables.

Each rule becomes an NFA, the NFA a DFA (subset construction), the DFA is minimised by merging
equivalent states, and every DFA state gets an *accelerator*: for each label the parser may see
there, either "shift to state S" or "push nonterminal N, then continue at state S". This is the
data CPython's own ``Parser/parser.c`` runs on, so a parser driven by these tables makes the same
decisions, raises its syntax errors on the same token and grows its stack exactly as deep.

Meta-grammar (as pgen's)::

    rule: NAME ':' rhs NEWLINE        rhs: alt ('|' alt)*        alt: item+
    item: '[' rhs ']' | atom ['+' | '*']                         atom: '(' rhs ')' | NAME | STRING

Names in capitals are token classes (``NAME``, ``NUMBER``, ``STRING``, ``NEWLINE``, ``INDENT``,
``DEDENT``, ``ENDMARKER``); quoted words are keywords, quoted punctuation is an operator.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

#: Token classes a grammar may name.
TOKEN_CLASSES = frozenset({"NAME", "NUMBER", "STRING", "NEWLINE", "INDENT", "DEDENT", "ENDMARKER"})

#: Operators that are the same token type to CPython's tokenizer (``<>`` is ``NOTEQUAL`` too).
OPERATOR_ALIASES = {"<>": "!="}

_META_TOKEN = re.compile(r"\s*(?:(#[^\n]*)|([A-Za-z_][A-Za-z0-9_]*)|('[^']*')|([:|\[\]()+*])|(\S))")


class GrammarError(ValueError):
    """The grammar text is not valid EBNF, or the grammar is not LL(1)."""


@attrs.frozen
class Label:
    """A terminal or nonterminal the parser can meet: ``kind`` is ``token``/``keyword``/``op``/``nt``."""

    kind: str
    value: str


@attrs.frozen
class Grammar:
    """LL(1) tables for one language version.

    ``states[nt][s]`` is ``(accel, accepting, accept_only)`` where ``accel`` maps a label index to
    ``(push_nt, next_state)`` (``push_nt == -1`` means shift). ``names[nt]`` is the rule's name.
    """

    names: tuple[str, ...]
    labels: tuple[Label, ...]
    states: tuple[tuple[tuple[dict[int, tuple[int, int]], bool, bool], ...], ...]
    first: tuple[frozenset[int], ...]
    keywords: dict[str, int]
    operators: dict[str, int]
    tokens: dict[str, int]
    start: int
    #: ``chains[nt][label]``: entering ``nt`` on ``label`` pushes these (nonterminal, state) frames
    #: in order (the first is ``nt`` itself) before the label is shifted into the last one.
    chains: tuple[dict[int, tuple[tuple[int, int], ...]], ...] = ()

    def nt_index(self, name: str) -> int:
        return self.names.index(name)


# ---------------------------------------------------------------- reading the EBNF text


def _meta_tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) tokens of the grammar; a NEWLINE ends a rule only outside brackets."""
    out: list[tuple[str, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        pos = 0
        while pos < len(line):
            m = _META_TOKEN.match(line, pos)
            if m is None or m.end() == pos:
                break
            pos = m.end()
            if m.group(1) is not None:
                break
            if m.group(2) is not None:
                out.append(("NAME", m.group(2)))
            elif m.group(3) is not None:
                out.append(("STRING", m.group(3)[1:-1]))
            elif m.group(4) is not None:
                out.append(("OP", m.group(4)))
            elif m.group(5) is not None:
                raise GrammarError(f"line {lineno}: unexpected {m.group(5)!r}")
        out.append(("NEWLINE", ""))
    out.append(("END", ""))
    return out


class _NFAState:
    __slots__ = ("arcs", "order")

    def __init__(self, order: int) -> None:
        self.arcs: list[tuple[str | None, _NFAState]] = []
        #: When the reader made it: sets of states are walked in this order, so the DFA's state
        #: numbers (and the driver tables) are the same in every process.
        self.order = order


class _MetaParser:
    """Recursive-descent reader of the (small, trusted) grammar text into NFAs."""

    def __init__(self, text: str) -> None:
        self.toks = _meta_tokens(text)
        self.pos = 0
        self.depth = 0
        self.made = 0

    def state(self) -> _NFAState:
        self.made += 1
        return _NFAState(self.made)

    def peek(self) -> tuple[str, str]:
        kind, value = self.toks[self.pos]
        while kind == "NEWLINE" and self.depth > 0:
            self.pos += 1
            kind, value = self.toks[self.pos]
        return kind, value

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise GrammarError(f"expected {kind} {value or ''}, got {k} {v!r}")
        self.pos += 1
        return v

    def rules(self) -> list[tuple[str, _NFAState, _NFAState]]:
        out: list[tuple[str, _NFAState, _NFAState]] = []
        while True:
            kind, _ = self.peek()
            if kind == "END":
                return out
            if kind == "NEWLINE":
                self.pos += 1
                continue
            name = self.take("NAME")
            self.take("OP", ":")
            start, end = self.rhs()
            self.take("NEWLINE")
            out.append((name, start, end))

    def rhs(self) -> tuple[_NFAState, _NFAState]:
        a, z = self.alt()
        if self.peek() != ("OP", "|"):
            return a, z
        start, end = self.state(), self.state()
        start.arcs.append((None, a))
        z.arcs.append((None, end))
        while self.peek() == ("OP", "|"):
            self.pos += 1
            a, z = self.alt()
            start.arcs.append((None, a))
            z.arcs.append((None, end))
        return start, end

    def alt(self) -> tuple[_NFAState, _NFAState]:
        a, b = self.item()
        while self.peek()[0] in ("NAME", "STRING") or self.peek() in (("OP", "("), ("OP", "[")):
            c, d = self.item()
            b.arcs.append((None, c))
            b = d
        return a, b

    def item(self) -> tuple[_NFAState, _NFAState]:
        if self.peek() == ("OP", "["):
            self.pos += 1
            self.depth += 1
            a, z = self.rhs()
            self.take("OP", "]")
            self.depth -= 1
            a.arcs.append((None, z))
            return a, z
        a, z = self.atom()
        kind, value = self.peek()
        if kind == "OP" and value in "+*":
            self.pos += 1
            z.arcs.append((None, a))
            if value == "+":
                return a, z
            return a, a
        return a, z

    def atom(self) -> tuple[_NFAState, _NFAState]:
        kind, value = self.peek()
        if (kind, value) == ("OP", "("):
            self.pos += 1
            self.depth += 1
            a, z = self.rhs()
            self.take("OP", ")")
            self.depth -= 1
            return a, z
        if kind in ("NAME", "STRING"):
            self.pos += 1
            a, z = self.state(), self.state()
            a.arcs.append((value if kind == "NAME" else "'" + value, z))
            return a, z
        raise GrammarError(f"unexpected {kind} {value!r} in a rule")


# ---------------------------------------------------------------- NFA -> DFA -> minimal DFA


def _closure(state: _NFAState, into: set[_NFAState]) -> None:
    todo = [state]
    while todo:
        s = todo.pop()
        if s in into:
            continue
        into.add(s)
        todo.extend(nxt for lbl, nxt in s.arcs if lbl is None)


def _made_order(state: _NFAState) -> int:
    return state.order


def _make_dfa(start: _NFAState, finish: _NFAState) -> list[tuple[bool, dict[str, int]]]:
    """Subset construction, then merging of equivalent states; state 0 is the start state."""
    first: set[_NFAState] = set()
    _closure(start, first)
    sets = [frozenset(first)]
    index = {sets[0]: 0}
    arcs: list[dict[str, int]] = []
    i = 0
    while i < len(sets):
        moves: dict[str, set[_NFAState]] = {}
        for s in sorted(sets[i], key=_made_order):
            for lbl, nxt in s.arcs:
                if lbl is not None:
                    _closure(nxt, moves.setdefault(lbl, set()))
        out: dict[str, int] = {}
        for lbl, target in moves.items():  # insertion order follows the rule text
            key = frozenset(target)
            if key not in index:
                index[key] = len(sets)
                sets.append(key)
            out[lbl] = index[key]
        arcs.append(out)
        i += 1
    final = [finish in s for s in sets]
    # Merge states with equal finality and equal arcs until nothing changes (as pgen does).
    changed = True
    alive = list(range(len(sets)))
    while changed:
        changed = False
        for a_pos, a in enumerate(alive):
            for b in alive[a_pos + 1 :]:
                if final[a] == final[b] and arcs[a] == arcs[b]:
                    alive.remove(b)
                    for st in alive:
                        arcs[st] = {lbl: (a if t == b else t) for lbl, t in arcs[st].items()}
                    changed = True
                    break
            if changed:
                break
    renum = {old: new for new, old in enumerate(alive)}
    return [(final[old], {lbl: renum[t] for lbl, t in arcs[old].items()}) for old in alive]


# ---------------------------------------------------------------- labels, first sets, accelerators


def generate(text: str, start: str = "file_input") -> Grammar:
    """Build the LL(1) tables of the grammar ``text`` (raises GrammarError if it is not LL(1))."""
    rules = _MetaParser(text).rules()
    names = tuple(name for name, _, _ in rules)
    nt_of = {name: i for i, name in enumerate(names)}
    dfas = [_make_dfa(a, z) for _, a, z in rules]

    labels: list[Label] = []
    label_of: dict[Label, int] = {}

    def label(sym: str) -> int:
        if sym.startswith("'"):
            word = sym[1:]
            if word[:1].isalpha() or word[:1] == "_":
                lab = Label("keyword", word)
            else:
                lab = Label("op", OPERATOR_ALIASES.get(word, word))
        elif sym in nt_of:
            lab = Label("nt", sym)
        elif sym in TOKEN_CLASSES:
            lab = Label("token", sym)
        else:
            raise GrammarError(f"unknown symbol {sym!r}")
        if lab not in label_of:
            label_of[lab] = len(labels)
            labels.append(lab)
        return label_of[lab]

    dfa_arcs = [[(final, [(label(sym), t) for sym, t in arcs.items()]) for final, arcs in dfa] for dfa in dfas]

    # FIRST sets, computed iteratively (no recursion); the grammar must not be left-recursive.
    first: list[frozenset[int] | None] = [None] * len(names)
    for root in range(len(names)):
        order: list[int] = []
        todo = [root]
        seen: set[int] = set()
        while todo:
            nt = todo.pop()
            if first[nt] is not None or nt in seen:
                continue
            seen.add(nt)
            order.append(nt)
            for lbl, _ in dfa_arcs[nt][0][1]:
                if labels[lbl].kind == "nt":
                    todo.append(nt_of[labels[lbl].value])
        for nt in reversed(order):
            acc: set[int] = set()
            for lbl, _ in dfa_arcs[nt][0][1]:
                if labels[lbl].kind == "nt":
                    sub = first[nt_of[labels[lbl].value]]
                    if sub is None:
                        raise GrammarError(f"left recursion through {names[nt]}")
                    acc |= sub
                else:
                    acc.add(lbl)
            first[nt] = frozenset(acc)
    firsts = tuple(f or frozenset() for f in first)

    states = []
    for nt, dfa in enumerate(dfa_arcs):
        rows = []
        for s_index, (final, arcs) in enumerate(dfa):
            accel: dict[int, tuple[int, int]] = {}
            for lbl, target in arcs:
                lab = labels[lbl]
                if lab.kind == "nt":
                    sub_nt = nt_of[lab.value]
                    for f in firsts[sub_nt]:
                        if f in accel:
                            raise GrammarError(f"{names[nt]} state {s_index}: ambiguous on {labels[f]}")
                        accel[f] = (sub_nt, target)
                else:
                    if lbl in accel and accel[lbl] != (-1, target):
                        raise GrammarError(f"{names[nt]} state {s_index}: ambiguous on {lab}")
                    accel[lbl] = (-1, target)
            rows.append((accel, final, final and not arcs))
        states.append(tuple(rows))

    chains: list[dict[int, tuple[tuple[int, int], ...]]] = []
    for nt in range(len(names)):
        per_label: dict[int, tuple[tuple[int, int], ...]] = {}
        for lbl in firsts[nt]:
            frames: list[tuple[int, int]] = []
            cur = nt
            while True:
                push_nt, target = states[cur][0][0][lbl]
                frames.append((cur, target))
                if push_nt < 0:
                    break
                cur = push_nt
            # frames[i] = (nonterminal, its state once the next frame (or the shift) is done)
            per_label[lbl] = tuple(frames)
        chains.append(per_label)

    keywords = {lab.value: i for i, lab in enumerate(labels) if lab.kind == "keyword"}
    operators = {lab.value: i for i, lab in enumerate(labels) if lab.kind == "op"}
    tokens = {lab.value: i for i, lab in enumerate(labels) if lab.kind == "token"}
    return Grammar(
        names=names,
        labels=tuple(labels),
        states=tuple(states),
        first=firsts,
        keywords=keywords,
        operators=operators,
        tokens=tokens,
        start=nt_of[start],
        chains=tuple(chains),
    )


# ---------------------------------------------------------------- tables for a fast driver

@attrs.frozen
class DriverTables:
    """A :class:`Grammar`'s accelerators recast so a driver does one lookup per stack decision.

    Stack entries are ids: ``0 <= id < nstates`` is a real parser frame in DFA state ``id`` (one
    number per (nonterminal, state)); a larger id is a *run*: several frames pushed together by one
    chain, none of which has a second child yet (the innermost holds the token the chain was pushed
    for, each other one the frame inside it; ``runs[id - nstates]`` lists their states, outermost
    first). A run stands for exactly those frames of ``Parser/parser.c``: it is as deep (it counts
    its frames towards ``MAXSTACK``), pops the same way and errs on the same token; it only saves
    making each of them a list entry and a dict lookup when they pop one by one (most frames of an
    expression pop with their one child: ``x`` in ``x = 1`` is an ``atom_expr`` inside a ``power``
    inside ... inside an ``expr_stmt``).

    ``rows[id].get(label)``, when the top entry takes ``label``, is the shift
    ``(top, outer, push, need, then_pop)``: the top entry becomes the real state ``top``, with the
    run ``outer`` (-1: none) below it on the same values base when the top was a run that only its
    outer frames survive; then the entry ``push`` (-1: none; a real frame or a run) goes on the
    stack (base: the next value) and the token is shifted. Frames of the chain that would pop
    right after the shift (they are accept-only) are never pushed. ``need``: CPython's ``s_push``
    check, the stack overflows if its depth in frames plus ``need`` exceeds ``MAXSTACK``.
    ``then_pop``: the new top is accept-only.

    Otherwise ``defaults[id]`` says: ``0`` a real frame is complete (accepting state, no arc for
    the label): pop it; ``n > 0`` a run of ``n`` frames is complete: pop it; ``-1 - state`` a
    syntax error in the frame in real state ``state``.

    ``accept_only[id]``: after a shift, pop while the top is True (a real frame with no arcs left)
    or a ``(replace, popped)`` pair (a run whose inner frames are accept-only: replace it by
    ``replace`` (-1: nothing); ``popped`` frames of the run are gone).
    """

    nstates: int
    state_base: tuple[int, ...]
    state_nt: tuple[int, ...]
    runs: tuple[tuple[int, ...], ...]
    rows: tuple[dict[int, tuple[Any, ...]], ...]
    defaults: tuple[int, ...]
    accept_only: tuple[Any, ...]


def driver_tables(g: Grammar) -> DriverTables:
    """Build the :class:`DriverTables` of ``g`` (runs are made as the chains need them)."""
    state_base: list[int] = []
    state_nt: list[int] = []
    accel: list[dict[int, tuple[int, int]]] = []
    accepting: list[bool] = []
    accept_only: list[bool] = []
    for nt, dfa in enumerate(g.states):
        state_base.append(len(state_nt))
        for acc, final, no_arcs in dfa:
            state_nt.append(nt)
            accel.append(acc)
            accepting.append(final)
            accept_only.append(no_arcs)
    nstates = len(state_nt)
    run_id: dict[tuple[int, ...], int] = {}
    runs: list[tuple[int, ...]] = []

    def frames(seq: tuple[int, ...]) -> tuple[int, ...]:
        """The (at most one) stack id standing for the waiting frames ``seq``."""
        if len(seq) <= 1:
            return seq
        rid = run_id.get(seq)
        if rid is None:
            rid = run_id[seq] = nstates + len(runs)
            runs.append(seq)
        return (rid,)

    pushes: dict[tuple[int, int], tuple[int, int]] = {}

    def push_of(sub: int, label: int) -> tuple[int, int]:
        """(the entry entering ``sub`` on ``label`` pushes or -1, the frames CPython pushes)."""
        found = pushes.get((sub, label))
        if found is None:
            chain = tuple(state_base[nt] + st for nt, st in g.chains[sub][label])
            keep = len(chain)
            while keep and accept_only[chain[keep - 1]]:
                keep -= 1
            found = pushes[(sub, label)] = (frames(chain[:keep])[0] if keep else -1, len(chain))
        return found

    def shift(state: int, label: int, outer: tuple[int, ...], popped: int) -> tuple[Any, ...]:
        sub, nxt = accel[state][label]
        top = state_base[state_nt[state]] + nxt
        below = frames(outer)
        outer_id = below[0] if below else -1
        if sub < 0:
            return (top, outer_id, -1, -popped, accept_only[top])
        push, length = push_of(sub, label)
        if push < 0:
            return (top, outer_id, -1, length - popped, accept_only[top])
        # the innermost frame kept is not accept-only, so nothing pops after the shift
        return (top, outer_id, push, length - popped, False)

    rows: list[dict[int, tuple[Any, ...]]] = []
    defaults: list[int] = []
    for state in range(nstates):
        rows.append({label: shift(state, label, (), 0) for label in accel[state]})
        defaults.append(0 if accepting[state] else -1 - state)
    only: list[Any] = list(accept_only)
    done = 0
    while done < len(runs):  # runs grow while their rows are made
        seq = runs[done]
        done += 1
        row: dict[int, tuple[Any, ...]] = {}
        default = len(seq)
        for j in range(len(seq) - 1, -1, -1):
            member = seq[j]
            for label in accel[member]:
                if label not in row:
                    row[label] = shift(member, label, seq[:j], len(seq) - 1 - j)
            if not accepting[member]:
                default = -1 - member
                break
        rows.append(row)
        defaults.append(default)
        keep = len(seq)
        while keep and accept_only[seq[keep - 1]]:
            keep -= 1
        if keep == len(seq):
            only.append(False)
        else:
            rest = frames(seq[:keep])
            only.append((rest[0] if rest else -1, len(seq) - keep))
    return DriverTables(
        nstates=nstates,
        state_base=tuple(state_base),
        state_nt=tuple(state_nt),
        runs=tuple(runs),
        rows=tuple(rows),
        defaults=tuple(defaults),
        accept_only=tuple(only),
    )
