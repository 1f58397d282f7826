X=1
def f():
    global X
    X = 2
