a=[1,2,3]
a[::2]
a[1:2, ...] if 0 else 0
a[:, None] if 0 else 0
a[lambda: 1 :] if 0 else 0
