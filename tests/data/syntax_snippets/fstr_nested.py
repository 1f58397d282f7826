x=1
print(f"{x!r:>{10}}")
print(f"{{}}{x}")
print(rf"\d{x}")
print(F"{x}" "y" f"{x:{x}}")
