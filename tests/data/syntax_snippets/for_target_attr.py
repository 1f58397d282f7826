for self.x in y: pass
for a[0], b.c in z: pass
