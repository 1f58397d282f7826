x: int = 1
y: "List[int]"
class A:
    z: int
    def f(self, a: int = 1, *b: str, c: "x" = 2, **d: int) -> None:
        pass
