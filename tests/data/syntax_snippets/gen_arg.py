sum(x for x in range(3))
f(x for x in y)
