async def f():
    def g():
        await = 1
    return g
