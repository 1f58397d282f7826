x = print
