x = [1,  # c
     2  # d
]
# end without newline