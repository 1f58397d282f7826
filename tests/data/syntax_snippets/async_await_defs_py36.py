def async(x, await=1):
    return x

async(1, await=2)
class await:
    pass
