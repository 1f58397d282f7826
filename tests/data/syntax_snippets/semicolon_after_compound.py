if x: a; b;
