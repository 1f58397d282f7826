import asyncio
async def f():
    await asyncio.sleep(0)
    async with x as y:
        pass
    async for i in y:
        pass
    return [i async for i in y]
