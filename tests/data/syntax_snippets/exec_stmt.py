exec "x=1"
exec "x=1" in {}
