class C(x for x in [object]):
    pass
f(x for x in y)
