print "a", 1
print >>f, "x"
print
