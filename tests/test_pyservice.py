"""analyze_service on real sources parsed by pyparse, and check_service end to end on them."""

from __future__ import annotations

import textwrap

import pytest

from modeltemplates.checks.service import check_service
from modeltemplates.inspect.pyservice import ServiceFacts, analyze_service
from modeltemplates.runtime import Runtime
from tests.conftest import FIDELITY as FIDELITY_SET
from tests.conftest import REFERENCE

pyparse = pytest.importorskip("modeltemplates.inspect.pyparse")

PY27 = Runtime("PyTorch", "1.0", "2.7")
PY37 = Runtime("PyTorch", "1.0", "3.7")
FIDELITY = FIDELITY_SET / "sources"
PYTORCH_RST = REFERENCE / "examples_of_custom_scripts" / "pytorch.rst"
PATH = "customize_service.py"


def analyze(source: str | bytes, version: tuple[int, int] = (3, 7)) -> ServiceFacts:
    data = source if isinstance(source, bytes) else textwrap.dedent(source).encode()
    result = pyparse.parse(data, version)
    assert result.tree is not None, result.error
    return analyze_service(result.tree, version)


def check(source: str | bytes, runtime: Runtime, declared: frozenset[str] | None = frozenset(),
          modules: frozenset[str] = frozenset()) -> list[tuple[str, int | None]]:
    facts = analyze(source, runtime.python_version)
    return [(f.rule, f.line) for f in check_service(PATH, facts, runtime, modules, declared)]


def pytorch_example() -> str:
    """The inference code of the platform's PyTorch example (pytorch.rst, "Inference Code")."""
    section = PYTORCH_RST.read_text(encoding="utf-8").split("Inference Code\n--------------", 1)[1]
    block = section.split(".. code-block::", 1)[1].split("\n")[1:]
    lines: list[str] = []
    for line in block:
        if line.strip() and not line.startswith("   "):
            break
        lines.append(line[3:])
    return "\n".join(lines).strip("\n") + "\n"


def fidelity(name: str) -> bytes:
    return (FIDELITY / name).read_bytes()


# -- real files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", [PY27, PY37])
def test_platform_pytorch_example_only_gets_the_inference_note(runtime):
    source = pytorch_example()
    assert check(source, runtime) == [("SVC006", 70)]
    facts = analyze(source, runtime.python_version)
    [svc] = [c for c in facts.classes if c.name == "PTVisionService"]
    assert svc.bases[0].resolved == "model_service.pytorch_model_service.PTServingBaseService"
    assert [m.signature for m in svc.methods] == [
        "__init__(self, model_name, model_path)", "_preprocess(self, data)",
        "_postprocess(self, data)", "_inference(self, data)"]
    assert facts.file_accesses == ()  # label.json is read through self.model_path
    assert facts.super_calls == ()


@pytest.mark.parametrize("runtime", [PY27, PY37])
def test_fidelity_service_ok_is_clean(runtime):
    assert check(fidelity("pub-svc-ok.py"), runtime) == []


def test_fidelity_super_noarg_fails_at_run_time_on_python_2_only():
    source = fidelity("pub-svc-super-noarg.py")
    # it compiles on both (labels.json): the problem is the call, not the syntax
    assert pyparse.parse(source, (2, 7)).tree is not None
    assert check(source, PY27) == [("SVC007", 10)]
    assert check(source, PY37) == []


def test_fidelity_fstring_service_is_clean_on_python_3():
    assert check(fidelity("pub-svc-fstring.py"), PY37) == []


# -- imports ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [(2, 7), (3, 7)])
def test_import_forms(version):
    facts = analyze("""
        import os, os.path
        import a.b as c
        from x.y import z as w, v
        from . import m
        from ..pkg import (q,
                           r as s)
        from ... import deep
        from mod import *
        """, version)
    got = [(i.kind, i.module, i.level, i.alias, [(n.name, n.alias) for n in i.names], i.line)
           for i in facts.imports]
    assert got == [
        ("import", "os", 0, None, [], 2),
        ("import", "os.path", 0, None, [], 2),
        ("import", "a.b", 0, "c", [], 3),
        ("from", "x.y", 0, None, [("z", "w"), ("v", None)], 4),
        ("from", "", 1, None, [("m", None)], 5),
        ("from", "pkg", 2, None, [("q", None), ("r", "s")], 6),
        ("from", "", 3, None, [("deep", None)], 8),
        ("from", "mod", 0, None, [("*", None)], 9),
    ]
    assert dict(facts.imports[2].bindings()) == {"c": "a.b"}
    assert dict(facts.imports[5].bindings()) == {"q": "..pkg.q", "s": "..pkg.r"}


def test_guarded_and_nested_imports():
    facts = analyze("""
        try:
            import cPickle as pickle
        except ImportError:
            import pickle
        try:
            import must
        except ValueError:
            pass
        import sys
        if sys.version_info[0] == 2:
            import urllib2
        else:
            import urllib.request
        def f():
            import lazy
        """)
    guarded = {i.module: (i.guarded, i.toplevel) for i in facts.imports}
    assert guarded == {
        "cPickle": (True, True), "pickle": (True, True), "must": (False, True), "sys": (False, True),
        "urllib2": (True, True), "urllib.request": (True, True), "lazy": (False, False),
    }


def test_fallback_import_in_handler_keeps_the_try_body_binding():
    source = """
        try:
            from model_service.pytorch_model_service import PTServingBaseService
        except:
            from helpers import PTServingBaseService
        class Svc(PTServingBaseService):
            def __init__(self, model_name, model_path):
                pass
        """
    [cls] = analyze(source).classes
    assert cls.bases[0].resolved == "model_service.pytorch_model_service.PTServingBaseService"
    # the local stand-in used off the platform is neither a wrong base (SVC003) nor a missing one
    assert check(source, PY37, modules=frozenset({"helpers"})) == []


def test_guarded_import_from_a_module_without_the_base_is_judged_at_the_class():
    source = """
        try:
            from model_service.tfserving_model_service import PTServingBaseService
        except ImportError:
            pass
        class Svc(PTServingBaseService):
            def __init__(self, model_name, model_path):
                pass
        """
    assert check(source, PY37) == [("SVC003", 6)]


# -- classes and methods ----------------------------------------------------------------------------


def test_bases_resolved_through_aliases_and_module_attributes():
    facts = analyze("""
        import model_service.pytorch_model_service as pms
        import model_service.pytorch_model_service
        from model_service.pytorch_model_service import PTServingBaseService as Base
        Alias = pms.PTServingBaseService

        class A(pms.PTServingBaseService): pass
        class B(model_service.pytorch_model_service.PTServingBaseService): pass
        class C(Base): pass
        class D(Alias): pass
        class E(C, object): pass
        class F(make_base()): pass
        """)
    base = "model_service.pytorch_model_service.PTServingBaseService"
    resolved = {c.name: [(b.resolved, b.local) for b in c.bases] for c in facts.classes}
    assert resolved == {
        "A": [(base, False)], "B": [(base, False)], "C": [(base, False)], "D": [(base, False)],
        "E": [("C", True), ("object", False)], "F": [(None, False)],
    }


def test_python_3_keyword_arguments_of_class_statement_are_not_bases():
    facts = analyze("class A(Base, metaclass=Meta, **kw):\n    pass\n")
    assert [b.text for b in facts.classes[0].bases] == ["Base"]


def test_parameters_python_3():
    facts = analyze("""
        class S:
            def a(self): pass
            def b(self, data, n=1, *args, key, flag=False, **kw): pass
            def c(self, x: int = 3, *, y: str): pass
            @staticmethod
            def d(): pass
            @some.decorator(1)
            async def e(self, data): pass
            def f(): pass
        """)
    methods = {m.name: m for m in facts.classes[0].methods}
    assert methods["a"].signature == "a(self)"
    assert methods["b"].signature == "b(self, data, n=..., *args, key, flag=..., **kw)"
    assert methods["c"].signature == "c(self, x=..., *, y)"
    assert methods["d"].decorators == ("staticmethod",)
    assert methods["e"].decorators == ("some.decorator",)
    assert not methods["b"].accepts_positional(2)  # key is keyword-only and required
    assert not methods["c"].accepts_positional(1)  # so is y
    assert methods["a"].accepts_positional(1) and not methods["a"].accepts_positional(2)


def test_parameters_python_2():
    facts = analyze("""
        class S(object):
            def a(self, (x, y), z=1, *rest, **kw): pass
            def b(self, data,): pass
        """, (2, 7))
    a, b = facts.classes[0].methods
    assert [p.name for p in a.params] == ["self", "(x, y)", "z", "rest", "kw"]
    assert [p.kind for p in a.params] == ["positional", "positional", "positional", "vararg", "kwarg"]
    assert b.signature == "b(self, data)"


def test_classes_in_functions_are_not_toplevel_and_methods_stay_with_their_class():
    facts = analyze("""
        def factory():
            class Inner(Base):
                def m(self): pass
            return Inner
        class Outer(object):
            class Nested(object):
                def n(self): pass
            def o(self): pass
        """)
    classes = {c.name: c for c in facts.classes}
    assert not classes["Inner"].toplevel and classes["Outer"].toplevel
    assert [m.name for m in classes["Outer"].methods] == ["o"]
    assert [m.name for m in classes["Nested"].methods] == ["n"]


# -- super() and files ------------------------------------------------------------------------------


def test_zero_argument_super_calls():
    facts = analyze("""
        class S(object):
            def __init__(self):
                super().__init__()
                super(S, self).__init__()
                x = super
            def g(self):
                return [super().g() for _ in range(2)]
        """)
    assert [(s.line, s.class_name, s.function, s.builtin) for s in facts.super_calls] == [
        (4, "S", "__init__", True), (8, "S", "g", True)]


def test_super_from_builtins_is_not_the_builtin():
    facts = analyze("""
        from builtins import super
        class S(object):
            def f(self):
                return super().f()
        """, (2, 7))
    assert [s.builtin for s in facts.super_calls] == [False]


def test_relative_file_accesses():
    facts = analyze("""
        import os, json
        import numpy as np
        import torch
        from PIL import Image
        class S(object):
            def __init__(self, model_name, model_path):
                open('label.json')
                np.load('emb.npy')
                torch.load(f='model.pth', map_location='cpu')
                Image.open('logo.png')
                os.path.join('data', 'vocab.txt')
                open(os.path.join('conf', name))
                open('cfg/' + name)
                open('cfg/%s.json' % name)
                open('cfg/{}.json'.format(name))
                open('/etc/hosts')
                open(os.path.join(self.model_path, 'a.json'))
                open(os.path.join(os.path.dirname(__file__), 'b.json'))
                torch.load(model_path)
                open(name)
                open('obs://bucket/x')
                json.load(open(os.path.join(os.path.dirname(os.path.realpath(self.model_path)), 'c')))
        """)
    got = [(a.call, a.path, a.line) for a in facts.file_accesses]
    assert got == [
        ("open", "label.json", 8),
        ("numpy.load", "emb.npy", 9),
        ("torch.load", "model.pth", 10),
        ("PIL.Image.open", "logo.png", 11),
        ("os.path.join", "data/vocab.txt", 12),
        ("open", "conf/...", 13),
        ("open", "cfg/", 14),
        ("open", "cfg/", 15),
        ("open", "cfg/", 16),
    ]
    assert all(a.class_name == "S" and a.function == "__init__" for a in facts.file_accesses)


def test_shadowed_open_is_not_a_file_access():
    facts = analyze("""
        from io import open as io_open
        def open(x):
            return x
        class S(object):
            def f(self):
                open('a.txt')
                io_open('b.txt')
        """)
    assert [(a.call, a.path) for a in facts.file_accesses] == [("io.open", "b.txt")]


# -- end to end -------------------------------------------------------------------------------------


def test_end_to_end_findings_on_a_broken_script():
    source = """\
        from __future__ import print_function
        from model_service.pytorch_model_service import PTServingBaseService as Base
        from . import helper
        import cv2

        class Svc(Base):
            def __init__(self, model_path):
                super().__init__(None, model_path)
                self.labels = open('labels.txt').read().split()

            def _preprocess(self, data):
                return data
        """
    assert check(source, PY27) == [
        ("SVC009", 3), ("SVC010", 4), ("SVC005", 7), ("SVC007", 8), ("SVC008", 9)]
    assert check(source, PY37, declared=frozenset({"opencv-python"})) == [
        ("SVC009", 3), ("SVC005", 7), ("SVC008", 9)]


def test_service_through_local_class_and_helper_module():
    source = """\
        import helper
        from model_service.pytorch_model_service import PTServingBaseService

        class Common(PTServingBaseService):
            def __init__(self, model_name, model_path):
                super(Common, self).__init__(model_name, model_path)
                self.model = helper.load(model_path)

        class Svc(Common):
            def _postprocess(self, data):
                return data
        """
    assert check(source, PY27, modules=frozenset({"helper"})) == [("SVC002", 4)]


@pytest.mark.timeout(120)  # a hang guard, not a speed target
def test_large_script_is_analysed_in_full():
    body = "".join(
        f"class C{i}(object):\n    def m(self, a, b=1):\n        return open('f{i}.txt')\n"
        for i in range(3000)
    )
    facts = analyze(body)
    assert len(facts.classes) == 3000 and len(facts.file_accesses) == 3000


def test_every_fidelity_source_that_compiles_is_analysed_without_error():
    seen = 0
    for path in sorted(FIDELITY.glob("*.py")):
        for runtime in (PY27, PY37):
            result = pyparse.parse(path.read_bytes(), runtime.python_version)
            if result.tree is None:
                continue
            facts = analyze_service(result.tree, runtime.python_version)
            findings = check_service(path.name, facts, runtime, frozenset(), None)
            assert all(f.rule.startswith("SVC") and f.line for f in findings)
            seen += 1
    assert seen > 40


def test_main_block_never_runs_on_the_platform():
    facts = analyze("""
        import os
        class S(object):
            pass
        if __name__ == '__main__':
            import matplotlib
            class Local(Base):
                def f(self):
                    return open('sample.jpg')
            open('test.jpg')
            super().x()
        else:
            open('platform.txt')
        """)
    assert [(i.module, i.guarded) for i in facts.imports] == [("os", False), ("matplotlib", True)]
    assert [(c.name, c.toplevel) for c in facts.classes] == [("S", True), ("Local", False)]
    assert [a.path for a in facts.file_accesses] == ["platform.txt"]
    assert facts.super_calls == ()


@pytest.mark.parametrize("runtime", [PY27, PY37])
def test_mutilated_scripts_never_raise(runtime):
    """Every one-line deletion and every truncation of the platform example that still parses."""
    lines = pytorch_example().splitlines(keepends=True)
    variants = [lines[:i] + lines[i + 1:] for i in range(len(lines))]
    variants += [lines[:i] for i in range(len(lines))]
    analysed = 0
    for variant in variants:
        result = pyparse.parse("".join(variant).encode(), runtime.python_version)
        if result.tree is None:
            continue
        facts = analyze_service(result.tree, runtime.python_version)
        check_service(PATH, facts, runtime, frozenset({"helper"}), frozenset({"numpy"}))
        analysed += 1
    assert analysed > 50
