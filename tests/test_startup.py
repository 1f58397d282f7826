"""Start-up cost: a validate run imports only what the package at hand needs."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pathspec
import pytest

from modeltemplates.ignore import DEFAULT_IGNORES, build_rules, match_defaults
from tests.builders import PackageBuilder


def _names() -> list[str]:
    """Every default pattern's own name, near misses, and names two patterns match at once."""
    return ["model.pth", "x.py", "a", "__pycache__", ".ipynb_checkpoints", ".DS_Store", ".git", ".svn",
             ".hg", ".modelignore", "._", "._x", "._x.pyc", "m.pyc", "m.pyo", ".pyc", "x.pyc.txt",
             "__pycache__x", ".git.keep", "DS_Store", "._.git", ".modelignore.bak", "pyc"]


def test_defaults_match_like_pathspec() -> None:
    """The pathspec-free matcher of the defaults decides exactly as pathspec's GitIgnoreSpec."""
    spec = pathspec.GitIgnoreSpec.from_lines(list(DEFAULT_IGNORES))
    names = _names()
    probes: list[str] = []
    for depth in (1, 2, 3):
        for parts in itertools.product(names, repeat=depth):
            path = "/".join(parts)
            probes.extend((path, path + "/"))
    assert len(probes) > 20000
    for probe in probes:
        result = spec.check_file(probe)
        expected = result.index if result.include else None
        assert match_defaults(probe) == expected, probe


def test_rules_without_user_patterns_do_not_compile_pathspec() -> None:
    rules = build_rules([(1, "# only a comment"), (2, ""), (3, "   \r")], user_file=True)
    assert rules.spec is None
    assert rules.match("a/__pycache__", is_dir=True) == "default pattern '__pycache__/'"
    assert rules.match("a/__pycache__") is None
    assert rules.match("x/m.pyc") == "default pattern '*.pyc'"
    with_user = build_rules([(1, "*.log")], user_file=True)
    assert with_user.spec is not None
    assert with_user.match("a/b.log") == ".modelignore line 1"


def test_validate_imports_pathspec_only_for_a_modelignore(pkg: PackageBuilder) -> None:
    pkg.valid()
    assert _new_imports(["validate", str(pkg.root)], ("pathspec", "torch", "numpy"), since_start=False) == []
    pkg.write(".modelignore", "*.log\n")
    assert _new_imports(["validate", str(pkg.root)], ("pathspec", "torch", "numpy"), since_start=False) == ["pathspec"]


def test_unchanged_rerun_imports_no_reader(tmp_path: Path) -> None:
    """A re-run of an unchanged package takes every per-file result from the cache: the parser,
    the service analysis, the config.json reader and the torch reader are not even imported."""
    import time

    pkg = PackageBuilder(tmp_path / "model").valid()
    pkg.write("config.json", '{"model_type": "PyTorch", "runtime": "python2.7"}\n')
    pkg.write("utils/helpers.py", "def f(x):\n    return x\n")
    time.sleep(2.1)  # the cache remembers a model file by identity only once it is 2 s old
    heavy = ("modeltemplates.inspect.pyparse", "modeltemplates.inspect.pyservice", "modeltemplates.inspect.torchfile",
             "modeltemplates.inspect.pickle", "modeltemplates.inspect.jsontext", "modeltemplates.rules", "pathspec")
    code = (
        "import sys, contextlib, io, json\n"
        "from modeltemplates.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['validate', '--cache-dir', {str(tmp_path / 'cache')!r}, {str(pkg.root)!r}])\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
            for _ in range(2)]
    first, second = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert "modeltemplates.inspect.pyparse" in first
    assert second == []


def test_wide_character_classes_are_the_sets_they_replace() -> None:
    """The tokenizer's complement-of-ASCII classes equal the ``\\x80-\\U0010ffff`` classes they stand for."""
    import re

    from modeltemplates.inspect import pytokens

    pairs = {
        pytokens._WIDE_START: r"[A-Za-z_\x80-\U0010ffff]",
        pytokens._WIDE_CHAR: r"[A-Za-z0-9_\x80-\U0010ffff]",
        pytokens._WIDE_CHAR_OR_QUOTE: r"[A-Za-z0-9_'\"\x80-\U0010ffff]",
        pytokens._WIDE_CHAR_OR_DOT: r"[0-9A-Za-z_.\x80-\U0010ffff]",
    }
    probes = [*range(0x100), *range(0x100, 0x110000, 997), 0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF]
    for new, old in pairs.items():
        mine, theirs = re.compile(new), re.compile(old)
        for code in probes:
            assert bool(mine.fullmatch(chr(code))) == bool(theirs.fullmatch(chr(code))), (old, hex(code))


def _new_imports(argv: list[str], modules: tuple[str, ...], *, since_start: bool = True) -> list[str]:
    """Which of ``modules`` a CLI run in a fresh interpreter has loaded: those it imports beyond
    what the interpreter itself loaded at start (its site hooks differ between machines), or,
    without ``since_start``, every one loaded at the end."""
    code = (
        "import sys, contextlib, io, json\n"
        f"before = {'set(sys.modules)' if since_start else 'set()'}\n"
        "from modeltemplates.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})\n"
        f"print(json.dumps([m for m in {modules!r} if m in sys.modules and m not in before]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_import_modeltemplates_loads_no_submodule_with_classes() -> None:
    """The public names load on first use: importing the package defines no class of its own."""
    code = (
        "import sys, json, modeltemplates\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('modeltemplates.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == ["modeltemplates._version"]


def test_public_names_resolve_and_detect_stays_the_function() -> None:
    """Every name of ``__all__`` resolves; ``modeltemplates.detect`` is the function even after the
    submodule of that name was imported on its own (the import system binds it on the package)."""
    code = (
        "import types, modeltemplates\n"
        "import modeltemplates.detect\n"
        "from modeltemplates.detect import detect as function\n"
        "assert modeltemplates.detect is function, modeltemplates.detect\n"
        "ns = {}\n"
        "exec('from modeltemplates import *', ns)\n"
        "missing = [n for n in modeltemplates.__all__ if n not in ns]\n"
        "assert not missing, missing\n"
        "assert ns['detect'] is function and not isinstance(ns['detect'], types.ModuleType)\n"
        "assert set(modeltemplates.__all__) <= set(dir(modeltemplates))\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
    import modeltemplates

    with pytest.raises(AttributeError):
        modeltemplates.no_such_name  # noqa: B018


#: Modules a plain validate run (template given, no dependencies, no wheel, no remote location,
#: no misnamed file) has no use for.
_UNNEEDED = ("modeltemplates.detect", "modeltemplates.manifest", "modeltemplates.progress",
             "modeltemplates.checks.wheels", "modeltemplates.sources.options", "modeltemplates.report.text",
             "difflib", "getpass", "hashlib", "tarfile")


def test_validate_imports_only_what_the_package_needs(tmp_path: Path) -> None:
    """Cold and warm: no detection (a template is given), no manifest, no wheel reader (config.json
    declares no dependencies), no remote options, no close-match suggestions, no user-name lookup,
    and the built-in SHA-256 instead of OpenSSL's for a small package."""
    import time

    pkg = PackageBuilder(tmp_path / "model").valid()
    pkg.write("config.json", '{"model_type": "PyTorch", "runtime": "python2.7"}\n')
    pkg.write("utils/helpers.py", "def f(x):\n    return x\n")
    time.sleep(2.1)
    argv = ["validate", "--template", "pytorch-py27", "--format", "json", "--cache-dir", str(tmp_path / "cache"),
            str(pkg.root)]
    assert _new_imports(argv, _UNNEEDED) == []  # cold
    assert _new_imports(argv, _UNNEEDED) == []  # warm


def test_wheel_reader_loads_when_config_declares_dependencies(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("config.json", json.dumps({
        "model_type": "PyTorch", "runtime": "python2.7",
        "dependencies": [{"installer": "pip", "packages": [{"package_name": "six"}]}],
    }))
    found = _new_imports(["validate", "--template", "pytorch-py27", "--no-cache", str(pkg.root)],
                         ("modeltemplates.checks.wheels",))
    assert found == ["modeltemplates.checks.wheels"]


def test_a_misnamed_script_still_gets_its_suggestion(pkg: PackageBuilder) -> None:
    """The near-miss check loads difflib only for names close enough to compare."""
    pkg.valid()
    script = pkg.root / "customize_service.py"
    script.rename(pkg.root / "customize_servise.py")
    code = (
        "import sys, contextlib, io\n"
        "from modeltemplates.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main(['validate', '--template', 'pytorch-py27', '--format', 'json', '--no-cache', {str(pkg.root)!r}])\n"
        "print('difflib' in sys.modules, 'customize_servise.py' in out.getvalue())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["True", "True"]


def test_help_of_every_command_is_built_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    """The parser gives options only to the command named, but ``--help`` of each command and of
    the tool itself lists what it did when every command was built."""
    from modeltemplates.cli import _COMMANDS, _parser

    full = _parser([])
    for name in _COMMANDS:
        built = _parser([name])
        for parser in (full, built):
            with pytest.raises(SystemExit):
                parser.parse_args([name, "--help"])
        first, second = capsys.readouterr().out.split("usage: ", 2)[1:]
        assert first == second, name
    with pytest.raises(SystemExit):
        _parser([]).parse_args(["--help"])
    full_top = capsys.readouterr().out
    for argv in (["--help"], ["--help", "validate"], ["-h", "list"]):
        with pytest.raises(SystemExit):
            _parser(argv).parse_args(argv)
        assert capsys.readouterr().out == full_top, argv
    assert all(name in full_top for name in _COMMANDS)


def test_the_program_tunes_the_collector_and_main_leaves_it_alone() -> None:
    """``run`` (the console script, ``python -m modeltemplates``) freezes the imports' objects and
    raises the youngest generation's threshold; ``main`` called from other code changes nothing."""
    code = (
        "import contextlib, gc, io, sys\n"
        "from modeltemplates.cli import GC_THRESHOLD, main, run\n"
        "before = gc.get_threshold()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['rules'])\n"
        "untouched = gc.get_threshold() == before and gc.get_freeze_count() == 0\n"
        "sys.argv = ['modeltemplates', 'rules']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = run()\n"
        "print(untouched, status, gc.get_threshold() == (GC_THRESHOLD, *before[1:]), gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["True", "0", "True", "True"]
    module = subprocess.run([sys.executable, "-m", "modeltemplates", "--version"], capture_output=True, text=True,
                            check=False, timeout=60)
    assert module.returncode == 0 and module.stdout.startswith("modeltemplates ")
