# hi
