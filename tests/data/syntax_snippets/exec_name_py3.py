exec = 1
