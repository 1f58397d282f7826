x = 0777
y = 10L
z = 0xFFL
