f = lambda x=1, *a, **k: (x, a, k)
g = lambda: (yield)
