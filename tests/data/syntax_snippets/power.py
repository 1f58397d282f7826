x = -2 ** -1
y = await_ = 1
