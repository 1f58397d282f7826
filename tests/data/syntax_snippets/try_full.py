try:
    pass
except (ValueError, TypeError) as e:
    pass
except Exception:
    raise
else:
    pass
finally:
    pass
