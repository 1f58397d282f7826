async def f():
    pass
await = 1
async = [await]
