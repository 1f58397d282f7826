def f(a, *, b=1, c):
    pass
def g(*args, b, **kw,):
    pass
lambda *, k: k
