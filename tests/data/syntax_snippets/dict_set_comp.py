d={k: v for k, v in {}.items()}
s={x for x in ()}
g=(x for x in () if x)
