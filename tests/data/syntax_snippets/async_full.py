import asyncio

async def main():
    async with lock:
        pass
    async for x in y:
        await x
    return {k: await v async for k, v in z}
