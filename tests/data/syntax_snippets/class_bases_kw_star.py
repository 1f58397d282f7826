class A(**kw): pass
