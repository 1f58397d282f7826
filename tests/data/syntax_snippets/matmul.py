a = b @ c
a @= c
