"""check_service on hand-built facts: one test per rule, plus the engine table."""

from __future__ import annotations

import pytest

from modeltemplates.checks import service as svc
from modeltemplates.engines import BASE_CLASSES, ENGINES, engine_spec
from modeltemplates.findings import Severity
from modeltemplates.inspect.pyservice import (
    BaseRef,
    ClassFact,
    FileAccess,
    FunctionFact,
    ImportedName,
    ImportFact,
    Param,
    ServiceFacts,
    SuperCall,
)
from modeltemplates.runtime import Runtime

PY27 = Runtime("PyTorch", "1.0", "2.7")
PY37 = Runtime("PyTorch", "1.0", "3.7")
PT_MODULE = "model_service.pytorch_model_service"
PT_BASE = f"{PT_MODULE}.PTServingBaseService"
PATH = "customize_service.py"


def method(name: str, *params: str, line: int = 10, decorators: tuple[str, ...] = ()) -> FunctionFact:
    out = []
    for p in params:
        if p.startswith("**"):
            out.append(Param(p[2:], "kwarg"))
        elif p.startswith("*"):
            out.append(Param(p[1:], "vararg"))
        elif p.endswith("="):
            out.append(Param(p[:-1], has_default=True))
        else:
            out.append(Param(p))
    return FunctionFact(name, line, 5, tuple(out), decorators)


INIT = method("__init__", "self", "model_name", "model_path", line=5)
PT_IMPORT = ImportFact("from", PT_MODULE, 0, 1, 1, names=(ImportedName("PTServingBaseService"),))


def service_class(*methods: FunctionFact, name: str = "Svc", line: int = 4,
                  base: str = PT_BASE, text: str = "PTServingBaseService") -> ClassFact:
    return ClassFact(name, line, 1, (BaseRef(text, base, line, 11),), methods)


def facts(*classes: ClassFact, imports: tuple[ImportFact, ...] = (PT_IMPORT,), **kw: object) -> ServiceFacts:
    return ServiceFacts(imports=imports, classes=classes, **kw)  # type: ignore[arg-type]


def run(f: ServiceFacts, runtime: Runtime = PY37, modules: frozenset[str] = frozenset(),
        declared: frozenset[str] | None = None, path: str = PATH) -> list[svc.Finding]:
    return list(svc.check_service(path, f, runtime, modules, declared))


def rules(findings: list[svc.Finding]) -> list[str]:
    return [f.rule for f in findings]


# -- engine table ---------------------------------------------------------------------------------


def test_engine_table_matches_the_spec_table_1():
    assert set(ENGINES) == {
        "TensorFlow", "MXNet", "PyTorch", "Spark_MLlib", "Caffe", "XGBoost", "Scikit_Learn", "MindSpore"}
    pt = ENGINES["PyTorch"]
    assert pt.import_statement == "from model_service.pytorch_model_service import PTServingBaseService"
    assert pt.init_required and ENGINES["Caffe"].init_required
    assert not any(s.init_required for n, s in ENGINES.items() if n not in ("PyTorch", "Caffe"))
    assert pt.method("__init__").params == ("self", "model_name", "model_path")
    assert ENGINES["XGBoost"].method("__init__").params == ("self", "model_path")
    assert ENGINES["XGBoost"].method("batch_inference") is not None
    assert pt.method("batch_inference") is None
    assert ".pth" in pt.model_suffixes
    assert BASE_CLASSES["model_service.python_model_service.XgSklServingBaseService"] == (
        "XGBoost", "Scikit_Learn")
    assert engine_spec("pytorch") is pt and engine_spec("scikit-learn") is ENGINES["Scikit_Learn"]
    assert engine_spec("Theano") is None


def test_rule_ids_are_unique_prefixed_and_documented():
    ids = [r.id for r in svc.RULES]
    assert len(ids) == len(set(ids)) and all(i.startswith("SVC") for i in ids)
    assert all(r.what and r.why and r.fix for r in svc.RULES)


# -- classes --------------------------------------------------------------------------------------


def test_clean_service_has_no_findings():
    f = facts(service_class(INIT, method("_preprocess", "self", "data"), method("_postprocess", "self", "data")))
    assert run(f, PY27) == [] and run(f, PY37) == []


def test_no_service_class_gives_the_import_line():
    f = facts(ClassFact("Svc", 3, 1, (BaseRef("object", "object", 3, 11),), (INIT,)), imports=())
    [finding] = run(f)
    assert finding.rule == "SVC001" and finding.severity is Severity.ERROR
    assert "from model_service.pytorch_model_service import PTServingBaseService" in finding.hint
    assert "Svc" in finding.message and finding.line == 3


def test_base_used_but_never_imported_is_a_name_error():
    f = facts(service_class(INIT, base="PTServingBaseService"), imports=())
    [finding] = run(f)
    assert finding.rule == "SVC001" and "NameError" in finding.message and finding.line == 4


def test_service_through_local_intermediate_class_counts_and_inherits_init():
    base = service_class(INIT, name="Base", line=3)
    child = ClassFact("Svc", 20, 1, (BaseRef("Base", "Base", 20, 11, local=True),),
                      (method("_preprocess", "self", "data", line=21),))
    found = run(facts(base, child))
    # both derive from the base class: the platform instantiates one of them
    assert rules(found) == ["SVC002"]
    assert "Base, Svc" in found[0].message and found[0].severity is Severity.WARNING


def test_base_resolved_through_star_import():
    star = ImportFact("from", PT_MODULE, 0, 1, 1, names=(ImportedName("*"),))
    f = facts(service_class(INIT, base="PTServingBaseService"), imports=(star,))
    assert run(f) == []


def test_base_from_wrong_module_is_an_error_at_the_import():
    wrong = ImportFact("from", "model_service.tfserving_model_service", 0, 1, 1,
                       names=(ImportedName("PTServingBaseService"),))
    f = facts(service_class(INIT, base="model_service.tfserving_model_service.PTServingBaseService"),
              imports=(wrong,))
    [finding] = run(f)
    assert finding.rule == "SVC003" and finding.line == 1 and "ImportError" in finding.message
    assert finding.hint == "use `from model_service.pytorch_model_service import PTServingBaseService`"


def test_other_engines_base_class_is_an_error_at_the_class():
    tf = "model_service.tfserving_model_service.TfServingBaseService"
    imp = ImportFact("from", "model_service.tfserving_model_service", 0, 1, 1,
                     names=(ImportedName("TfServingBaseService"),))
    [finding] = run(facts(service_class(INIT, base=tf, text="TfServingBaseService"), imports=(imp,)))
    assert finding.rule == "SVC003" and "TensorFlow" in finding.message and finding.line == 4


def test_missing_init_for_pytorch_but_not_for_tensorflow():
    f = facts(service_class(method("_preprocess", "self", "data")))
    [finding] = run(f)
    assert finding.rule == "SVC004" and finding.line == 4
    tf = ImportFact("from", "model_service.tfserving_model_service", 0, 1, 1,
                    names=(ImportedName("TfServingBaseService"),))
    tf_class = service_class(method("_preprocess", "self", "data"),
                             base="model_service.tfserving_model_service.TfServingBaseService")
    assert run(facts(tf_class, imports=(tf,)), Runtime("TensorFlow", "1.8", "3.6")) == []


@pytest.mark.parametrize("params", [("self",), ("self", "model_path"), ("self", "a", "b", "c")])
def test_init_of_wrong_arity(params):
    [finding] = run(facts(service_class(method("__init__", *params, line=5))))
    assert finding.rule == "SVC005" and finding.line == 5 and "TypeError" in finding.message


@pytest.mark.parametrize("params", [
    ("self", "model_name", "model_path", "extra="), ("self", "*args", "**kwargs"), ("self", "*args"),
])
def test_init_that_accepts_the_call(params):
    assert run(facts(service_class(method("__init__", *params, line=5)))) == []


@pytest.mark.parametrize("params", [
    ("self", "model_name", "model_dir", "manifest", "gpu="), ("self", "model_name", "model_path"),
])
def test_mxnet_init_may_take_the_mms_loader_arguments(params):
    module = "mms.model_service.mxnet_model_service"
    imp = ImportFact("from", module, 0, 1, 1, names=(ImportedName("MXNetBaseService"),))
    cls = service_class(method("__init__", *params, line=5), base=f"{module}.MXNetBaseService",
                        text="MXNetBaseService")
    assert run(facts(cls, imports=(imp,)), Runtime("MXNet", "1.2.1", "2.7")) == []


def test_mms_init_is_still_wrong_for_pytorch():
    init = method("__init__", "self", "model_name", "model_dir", "manifest", "gpu=", line=5)
    assert rules(run(facts(service_class(init)))) == ["SVC005"]


@pytest.mark.parametrize("name", ["_preprocess", "_postprocess"])
def test_hook_of_wrong_arity(name):
    [finding] = run(facts(service_class(INIT, method(name, "self", line=9))))
    assert finding.rule == "SVC005" and f"{name}(self)" in finding.message


def test_staticmethod_hook_is_called_without_self():
    ok = method("_preprocess", "data", decorators=("staticmethod",))
    bad = method("_postprocess", "self", "data", decorators=("staticmethod",), line=12)
    [finding] = run(facts(service_class(INIT, ok, bad)))
    assert finding.rule == "SVC005" and finding.line == 12


def test_inference_rewrite_is_info_and_arity_checked():
    [finding] = run(facts(service_class(INIT, method("_inference", "self", "data"))))
    assert finding.rule == "SVC006" and finding.severity is Severity.INFO
    found = run(facts(service_class(INIT, method("_inference", "self"))))
    assert sorted(rules(found)) == ["SVC005", "SVC006"]


# -- super(), files ---------------------------------------------------------------------------------


def test_zero_argument_super_is_an_error_on_python_2_only():
    f = facts(service_class(INIT), super_calls=(SuperCall(9, 16, "Svc", "_postprocess"),))
    [finding] = run(f, PY27)
    assert finding.rule == "SVC007" and (finding.line, finding.column) == (9, 16)
    assert "super() takes at least 1 argument (0 given)" in finding.message
    assert finding.hint == "write `super(Svc, self)` instead of `super()`"
    assert run(f, PY37) == []


def test_super_from_the_future_package_is_fine_on_python_2():
    f = facts(service_class(INIT), super_calls=(SuperCall(9, 16, "Svc", "f", builtin=False),))
    assert run(f, PY27) == []


def test_relative_file_path_is_the_specs_warning():
    access = FileAccess("open", "label.json", 7, 14, "Svc", "__init__")
    [finding] = run(facts(service_class(INIT), file_accesses=(access,)))
    assert finding.rule == "SVC008" and finding.severity is Severity.WARNING and finding.line == 7
    assert "os.path.dirname(os.path.realpath(self.model_path))" in finding.hint
    tf = ImportFact("from", "model_service.tfserving_model_service", 0, 1, 1,
                    names=(ImportedName("TfServingBaseService"),))
    tf_class = service_class(base="model_service.tfserving_model_service.TfServingBaseService")
    [tf_finding] = run(facts(tf_class, imports=(tf,), file_accesses=(access,)),
                       Runtime("TensorFlow", "1.8", "2.7"))
    assert "os.path.join(self.model_path, 'label.json')" in tf_finding.hint


# -- imports ----------------------------------------------------------------------------------------


def imp(module: str, *names: str, level: int = 0, line: int = 2, guarded: bool = False) -> ImportFact:
    if names:
        return ImportFact("from", module, level, line, 1, names=tuple(ImportedName(n) for n in names),
                          guarded=guarded)
    return ImportFact("import", module, level, line, 1, guarded=guarded)


def with_imports(*imports: ImportFact) -> ServiceFacts:
    return facts(service_class(INIT), imports=(PT_IMPORT, *imports))


@pytest.mark.parametrize("runtime", [PY27, PY37])
def test_relative_import_from_the_top_level_script(runtime):
    [finding] = run(with_imports(imp("", "helper", level=1)), runtime)
    assert finding.rule == "SVC009" and finding.line == 2
    expected = "non-package" if runtime is PY27 else "no known parent package"
    assert expected in finding.message and "import helper" in finding.hint


def test_relative_import_inside_a_package_and_beyond_it():
    assert run(with_imports(imp("util", "x", level=1)), path="pkg/mod.py") == []
    [finding] = run(with_imports(imp("", "x", level=2)), path="pkg/mod.py")
    assert finding.rule == "SVC009" and "beyond top-level package" in finding.message


def test_local_and_stdlib_and_preinstalled_imports_need_no_declaration():
    f = with_imports(imp("helper"), imp("mypkg.sub", "f"), imp("os.path"), imp("json"),
                     imp("torch.nn"), imp("PIL", "Image"), imp("log"), imp("numpy"))
    assert run(f, PY27, frozenset({"helper", "mypkg"}), frozenset()) == []
    assert run(f, PY37, frozenset({"helper", "mypkg"}), frozenset()) == []


def test_platform_framework_modules_need_no_declaration_on_any_engine():
    f = with_imports(imp("metric.metrics_manager", "MetricsManager"), imp("log"))
    for runtime in (PY27, PY37, Runtime("TensorFlow", "1.8", "3.6"), Runtime("Unknown", "1", "3.7")):
        assert "SVC010" not in rules(run(f, runtime, declared=frozenset()))


def test_undeclared_third_party_import_names_the_distribution():
    f = with_imports(imp("cv2", line=3), imp("cv2.data", line=4), imp("yaml", line=5))
    found = run(f, PY37, declared=frozenset())
    assert rules(found) == ["SVC010", "SVC010"]  # one per module, at its first import
    assert "opencv-python" in found[0].message and found[0].line == 3
    assert '"package_name": "PyYAML"' in found[1].hint
    assert run(f, PY37, declared=frozenset({"opencv_python_headless", "pyyaml"})) == []
    assert run(f, PY37, declared=None) == []  # nothing known about config.json: no verdict


def test_guarded_import_is_not_required():
    assert run(with_imports(imp("ujson", guarded=True)), PY37, declared=frozenset()) == []


@pytest.mark.parametrize(("module", "counterpart"), [
    ("cPickle", "pickle"), ("urllib2", "urllib.request"), ("ConfigParser", "configparser"),
    ("Queue", "queue"), ("StringIO", "io"),
])
def test_python_2_module_on_python_3(module, counterpart):
    f = with_imports(imp(module))
    assert run(f, PY27, declared=frozenset()) == []
    [finding] = run(f, PY37)
    assert finding.rule == "SVC011" and finding.hint == f"import {counterpart} instead"
    assert run(with_imports(imp(module, guarded=True)), PY37) == []


def test_python_3_module_on_python_2():
    [sub] = run(with_imports(imp("urllib.request")), PY27)
    assert sub.rule == "SVC011" and "urllib2" in sub.hint
    [frm] = run(with_imports(imp("collections", "abc")), PY27)
    assert frm.rule == "SVC011"
    [dc] = run(with_imports(imp("dataclasses")), PY27)
    assert dc.rule == "SVC011"
    # a backport exists: an ordinary dependency question
    [enum] = run(with_imports(imp("enum")), PY27, declared=frozenset())
    assert enum.rule == "SVC010" and "enum34" in enum.message
    assert run(with_imports(imp("enum")), PY27, declared=frozenset({"enum34"})) == []
    assert run(with_imports(imp("urllib.request"), imp("enum")), PY37, declared=frozenset()) == []


def test_summarize_imports_sorts_by_origin():
    f = with_imports(imp("helper"), imp("json"), imp("torch"), imp("cv2"), imp("", "x", level=1))
    summary = svc.summarize_imports(f, PY37, frozenset({"helper"}))
    assert summary.local == ("helper",)
    assert summary.stdlib == ("json",)
    assert summary.preinstalled == ("model_service", "torch")
    assert summary.third_party == ("cv2",)
    assert summary.to_dict()["third_party"] == ["cv2"]


def test_stdlib_tables():
    assert {"cPickle", "urllib2", "ConfigParser", "Queue", "StringIO"} <= svc.STDLIB_PY27
    assert not {"cPickle", "urllib2", "ConfigParser", "Queue", "StringIO"} & svc.STDLIB_PY37
    assert "dataclasses" in svc.stdlib_modules((3, 7)) and "dataclasses" not in svc.stdlib_modules((3, 6))
    assert svc.normalize_distribution("Scikit_Learn>=0.20") == "scikit-learn"


def test_unknown_engine_still_checks_imports_and_files():
    runtime = Runtime("Theano", "1.0", "3.7")
    access = FileAccess("open", "x.txt", 3, 1)
    found = run(ServiceFacts(imports=(imp("cPickle"),), file_accesses=(access,)), runtime)
    assert sorted(rules(found)) == ["SVC008", "SVC011"]
