x = U"a"
y = R"b"
z = Rb"c"
w = bR"d"
