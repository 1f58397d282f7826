x = 1 < 2 <= 3 != 4 is not None not in []
