def f():
    yield *a, *b
