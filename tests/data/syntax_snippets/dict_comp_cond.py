d = {a: b for a, b in x if a if b}
