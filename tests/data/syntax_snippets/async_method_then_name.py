class A:
    async def f(self):
        return [x async for x in self]

    def g(self):
        async = 1
        return async
