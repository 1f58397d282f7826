x = await(3)
y = await.real if False else 0
