def f(a=lambda: 0, b=[i for i in ()]):
    pass
