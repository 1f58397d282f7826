for i in []:
    try:
        pass
    finally:
        continue
