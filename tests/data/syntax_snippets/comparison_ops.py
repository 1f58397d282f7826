x = a if not b in c else d is not e
