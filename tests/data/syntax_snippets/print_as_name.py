print_ = print
