if x: pass
elif y: pass
else: pass
while 0: pass
for i in (): pass
