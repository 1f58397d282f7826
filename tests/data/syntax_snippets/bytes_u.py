x = u"abc"
y = b"\x00"
