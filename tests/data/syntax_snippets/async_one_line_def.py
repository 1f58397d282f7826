async def f(): return await g()
await = 1
