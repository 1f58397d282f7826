from __future__ import annotations

def f(x: int) -> Foo:
    return x
