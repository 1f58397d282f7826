if 1:
# c
x = 1
