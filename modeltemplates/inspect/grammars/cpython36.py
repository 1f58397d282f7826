"""CPython 3.6's ``Grammar/Grammar`` (as in 3.6.15), as language data.

3.6's grammar file differs from 3.7's (:mod:`.cpython37`) only in how ``async`` and ``await`` reach
it: 3.6 spells them ``ASYNC``/``AWAIT``, tokens its tokenizer makes of the two words only inside
an ``async def`` and right before ``def``; elsewhere they are names (``async = 1`` is valid 3.6).
Here they are the keywords ``'async'``/``'await'`` of the 3.7 rules, made contextual before the
parser sees them (:func:`modeltemplates.inspect.pytokens.async_keywords`, enabled by the 3.6
tokenizer rules). 3.6's ``comp_for: [ASYNC] 'for' exprlist 'in' or_test [comp_iter]`` accepts the
same sentences as 3.7's ``comp_for: ['async'] sync_comp_for``; the latter is kept so that trees of
both versions have one shape. The remaining differences between the versions are the compiler's
(``from __future__ import annotations`` is unknown to 3.6), kept in :data:`..LANGUAGES`.
"""

from modeltemplates.inspect.grammars.cpython37 import GRAMMAR

__all__ = ["GRAMMAR"]
