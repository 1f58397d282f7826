assert x, "msg"
assert (x, "msg")
