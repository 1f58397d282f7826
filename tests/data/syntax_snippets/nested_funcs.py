def f():
    def g():
        nonlocal_x = 1
        return nonlocal_x
    return g
