def g(a, **kw,):
    pass
