x = 1 if True else 2
y = [i for i in range(3) if i if i > 0]
z = (lambda: 1) if x else None
