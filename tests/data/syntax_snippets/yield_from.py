def g():
    yield from range(3)
    x = yield
    y = yield 1, 2
