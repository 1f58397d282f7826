y = 0b101
z = 0o17
w = 1e-3j
v = .5
u = 5.
