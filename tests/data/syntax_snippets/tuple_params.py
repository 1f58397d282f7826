def f(a, (b, c)):
    pass
lambda (a, b): a
