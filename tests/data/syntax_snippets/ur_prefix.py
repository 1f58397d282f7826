x = ur"abc"
y = b"x"
z = br"\d"
