try:
    pass
except Exception as e:
    raise ValueError("x") from e
