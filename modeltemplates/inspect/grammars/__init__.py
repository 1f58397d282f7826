"""The Python language versions the source checks know, as data: grammar text plus the few
tokenizer and compiler differences a grammar does not express.

A new version (3.6, 3.8...) is one more :class:`Language` entry in :data:`LANGUAGES` with its
``Grammar/Grammar`` transcribed in a module beside this one.
"""

from __future__ import annotations

import functools
import threading

import attrs

from modeltemplates.inspect.grammars import cpython27, cpython36, cpython37
from modeltemplates.inspect.grammars.pgen import DriverTables, Grammar, driver_tables, generate
from modeltemplates.inspect.pytokens import TokenizerRules

_OPS_27 = frozenset({
    "==", "!=", "<>", "<=", "<<", ">=", ">>", "+=", "-=", "*=", "**", "/=", "//", "|=", "%=", "&=",
    "^=", "<<=", ">>=", "**=", "//=",
})
_OPS_3X = _OPS_27 | {"->", "@="}


@attrs.frozen
class Language:
    """One CPython version: grammar, tokenizer rules and compiler facts."""

    version: tuple[int, int]
    grammar_text: str
    tokenizer: TokenizerRules
    #: ``__future__`` features the compiler knows (future.c); ``braces`` is "not a chance".
    future_features: frozenset[str]
    #: The version where each feature became standard does not matter to syntax; only names do.


# Sources: CPython 2.7 / 3.7 Parser/tokenizer.c (prefixes, number forms, tabs) and
# Python/future.c plus Lib/__future__.py (feature names).
LANGUAGES: dict[tuple[int, int], Language] = {
    (2, 7): Language(
        version=(2, 7),
        grammar_text=cpython27.GRAMMAR,
        tokenizer=TokenizerRules(
            version=(2, 7),
            string_prefixes=frozenset({"u", "b", "r", "ur", "br"}),
            operators=_OPS_27,
            ellipsis_token=False,
            long_suffix=True,
            old_octal=True,
            numeric_underscores=False,
            unicode_identifiers=False,
            strict_tabs=False,
            tab_size_comments=True,
            file_reader=True,
        ),
        future_features=frozenset(
            {"nested_scopes", "generators", "division", "absolute_import", "with_statement",
             "print_function", "unicode_literals"}
        ),
    ),
    (3, 6): Language(
        version=(3, 6),
        grammar_text=cpython36.GRAMMAR,
        tokenizer=TokenizerRules(
            version=(3, 6),
            string_prefixes=frozenset({"u", "b", "r", "f", "br", "rb", "fr", "rf"}),
            operators=_OPS_3X,
            ellipsis_token=True,
            long_suffix=False,
            old_octal=False,
            numeric_underscores=True,
            unicode_identifiers=True,
            strict_tabs=True,
            tab_size_comments=False,
            file_reader=False,
            contextual_async=True,
        ),
        # 3.6's Lib/__future__.py: no 'annotations' (PEP 563 is 3.7).
        future_features=frozenset(
            {"nested_scopes", "generators", "division", "absolute_import", "with_statement",
             "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop"}
        ),
    ),
    (3, 7): Language(
        version=(3, 7),
        grammar_text=cpython37.GRAMMAR,
        tokenizer=TokenizerRules(
            version=(3, 7),
            string_prefixes=frozenset({"u", "b", "r", "f", "br", "rb", "fr", "rf"}),
            operators=_OPS_3X,
            ellipsis_token=True,
            long_suffix=False,
            old_octal=False,
            numeric_underscores=True,
            unicode_identifiers=True,
            strict_tabs=True,
            tab_size_comments=False,
            file_reader=False,
        ),
        future_features=frozenset(
            {"nested_scopes", "generators", "division", "absolute_import", "with_statement",
             "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop", "annotations"}
        ),
    ),
}

SUPPORTED_VERSIONS = tuple(sorted(LANGUAGES))


def language(version: tuple[int, int]) -> Language:
    """The language data of ``version``; raises ValueError for an unsupported one."""
    try:
        return LANGUAGES[tuple(version)]  # type: ignore[index]
    except KeyError:
        supported = ", ".join(f"{a}.{b}" for a, b in SUPPORTED_VERSIONS)
        raise ValueError(f"unsupported Python version {version!r} (supported: {supported})") from None


# One build per version even when threads parse their first files at once: without the lock two
# threads could each generate a grammar, and a parse pair one's tables with the other's labels.
_build_lock = threading.RLock()


def grammar(version: tuple[int, int]) -> Grammar:
    """The LL(1) tables of ``version``, generated once from its grammar text."""
    with _build_lock:
        return _grammar(version)


def tables(version: tuple[int, int]) -> DriverTables:
    """The driver tables of ``version`` (see :class:`~.pgen.DriverTables`), built once."""
    with _build_lock:
        return _tables(version)


@functools.cache
def _grammar(version: tuple[int, int]) -> Grammar:
    return generate(language(version).grammar_text)


@functools.cache
def _tables(version: tuple[int, int]) -> DriverTables:
    return driver_tables(_grammar(version))
