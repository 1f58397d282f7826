"""Service checks: the inference script's class, methods, ``super()`` calls, file paths and imports.

Works on :class:`~modeltemplates.inspect.pyservice.ServiceFacts` (nothing is imported or run) and
judges them against the engine's expectations in :mod:`modeltemplates.engines` and the target
Python of the :class:`~modeltemplates.runtime.Runtime`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import attrs

from modeltemplates.engines import BASE_CLASSES, PLATFORM_MODULES, EngineSpec, MethodSpec, engine_spec
from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.inspect.pyservice import BaseRef, ClassFact, FunctionFact, ImportFact, ServiceFacts
from modeltemplates.runtime import Runtime

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

NO_SERVICE_CLASS = Rule(
    "SVC001", "No service class derived from the engine's base class", E,
    what="The inference script must define a class that inherits the engine's service base class "
    "(for PyTorch `PTServingBaseService` from `model_service.pytorch_model_service`), directly or "
    "through another class of the same file. Import aliases are followed.",
    why="The platform imports `customize_service.py` and instantiates the class derived from the base "
    "class; without one the service cannot start and the deployment fails.",
    fix="Add the import statement of your engine (the finding gives it) and derive the service class "
    "from that base class.",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_writing_model_inference_code: the inference class must inherit the engine's base "
        "class (PTServingBaseService for PyTorch).",
)
SEVERAL_SERVICE_CLASSES = Rule(
    "SVC002", "Several service classes", W,
    what="More than one module-level class derives from the engine's base class (an intermediate "
    "class of the same file counts too).",
    why="The platform instantiates one class only; which one is not documented, so the service may "
    "run the wrong preprocessing or never load the model.",
    fix="Keep one class deriving from the base class. Put shared code in a mixin that does not "
    "inherit the base class, or merge the classes.",
    basis=Basis.ADVICE,
    evidence="specifications_for_writing_model_inference_code documents one service class; which of several runs "
        "is not documented.",
)
WRONG_BASE = Rule(
    "SVC003", "Base class from the wrong module or engine", E,
    what="A known service base class imported from a module that does not provide it, or the base "
    "class of another engine used for the template's engine.",
    why="The wrong module raises ImportError when the script is loaded; another engine's base class "
    "does not exist in the template's image or serves the model with the wrong framework.",
    fix="Use exactly the import statement of the template's engine from the platform's Table 1.",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_writing_model_inference_code: the base class and its module per engine; another "
        "module raises ImportError at load.",
)
INIT_MISSING = Rule(
    "SVC004", "The model-loading `__init__` is not rewritten", E,
    what="For PyTorch and Caffe the service class must rewrite `__init__(self, model_name, model_path)`.",
    why="The PyTorch and Caffe base classes do not know the network architecture, so they cannot load "
    "the model; without a rewritten `__init__` the model is never loaded and every request fails.",
    fix="Define `__init__(self, model_name, model_path)`, call the base class's `__init__`, then build "
    "the network and load the weights from `model_path`.",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_writing_model_inference_code and examples_of_custom_scripts/pytorch: PyTorch "
        "models must rewrite __init__ to build and load the network.",
)
BAD_SIGNATURE = Rule(
    "SVC005", "Rewritten method cannot take the platform's arguments", E,
    what="A rewritten `__init__`, `_preprocess`, `_inference`, `_postprocess` (or `batch_inference`) "
    "whose parameters do not accept the arguments the platform passes.",
    why="The platform calls `__init__(model_name, model_path)` and `_preprocess(data)`, `_inference(data)`, "
    "`_postprocess(data)`; another signature raises TypeError when the service starts or at every "
    "request.",
    fix="Use exactly the signatures of the spec: `__init__(self, model_name, model_path)` and "
    "`_preprocess(self, data)` / `_inference(self, data)` / `_postprocess(self, data)`.",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_writing_model_inference_code: the platform calls __init__(model_name, "
        "model_path), _preprocess(data), _postprocess(data); another signature raises TypeError.",
)
INFERENCE_REWRITTEN = Rule(
    "SVC006", "`_inference` is rewritten", INFO,
    what="The service class rewrites `_inference`.",
    why="The spec advises against it: the rewritten method replaces the platform's built-in inference "
    "process, so the script owns running the model on every request.",
    fix="Rewrite only `_preprocess` and `_postprocess` unless you really need custom inference.",
    basis=Basis.ADVICE,
    evidence='specifications_for_writing_model_inference_code advises against rewriting _inference.',
)
SUPER_NO_ARGS = Rule(
    "SVC007", "`super()` without arguments on Python 2", E,
    what="A `super()` call without arguments when the template runs Python 2.",
    why="Zero-argument `super()` exists only on Python 3. The script compiles, but the call raises "
    "`TypeError: super() takes at least 1 argument (0 given)` when it runs, e.g. on the first request.",
    fix="Name the class and the instance: `super(MyService, self).__init__(model_name, model_path)`.",
    basis=Basis.SERVICE_FAILS,
    evidence="Python 2.7: 'TypeError: super() takes at least 1 argument (0 given)' when the call runs.",
)
RELATIVE_FILE = Rule(
    "SVC008", "File opened by a relative path", W,
    what="`open`, `torch.load`, `numpy.load`, `os.path.join` and similar calls whose path is a relative "
    "string literal instead of a path built from `self.model_path`.",
    why="The spec requires absolute paths: the service does not run with the model folder as its "
    "working directory, so a relative path does not find the file shipped in the package.",
    fix="Build the path from the model location, e.g. "
    "`os.path.join(os.path.dirname(os.path.realpath(self.model_path)), 'label.json')`.",
    basis=Basis.ADVICE,
    evidence="model_package_specifications (modelarts_23_0091): 'You must use absolute paths to access these "
        "files'. A warning because the code may set the working directory itself.",
)
RELATIVE_IMPORT = Rule(
    "SVC009", "Relative import beyond the package", E,
    what="A relative import (`from . import x`, `from ..pkg import y`) that climbs above the package the "
    "file belongs to. `customize_service.py` at the top of `model/` is not in a package at all.",
    why="The import fails when the platform loads the script (ImportError / ValueError), so the "
    "service never starts.",
    fix="Import modules of the model folder absolutely: `import helper` or `from mypkg import util` "
    "(the model folder is on the import path).",
    basis=Basis.SERVICE_FAILS,
    evidence="CPython: 'Attempted relative import beyond toplevel package' when the script is imported.",
)
UNDECLARED_DEPENDENCY = Rule(
    "SVC010", "Third-party import neither preinstalled nor declared", W,
    what="An import of a module that is not in the target Python's standard library, not in the model "
    "folder, not preinstalled in the template's image and not declared in `config.json`'s "
    "`dependencies`.",
    why="The platform installs only the declared pip packages; an import of anything else raises "
    "ImportError when the script is loaded.",
    fix="Add the package to `dependencies` in `config.json` (the finding names the pip distribution), "
    "or ship the module in the model folder.",
    basis=Basis.SERVICE_FAILS,
    evidence="config.json specification Table 1 dependencies: only declared pip packages are installed; "
        "ImportError otherwise. A warning because the image may preinstall it.",
)
NOT_IN_STDLIB = Rule(
    "SVC011", "Standard-library module of the other Python major version", E,
    what="An unguarded import of a module that exists only in Python 2's standard library under a "
    "Python 3 runtime (`cPickle`, `urllib2`, `ConfigParser`...) or only in Python 3's under a "
    "Python 2 runtime (`urllib.request`, `collections.abc`...).",
    why="The module does not exist on the target interpreter, so loading the script raises ImportError.",
    fix="Import the module's counterpart for the target version (the finding names it), or guard the "
    "import with `try: ... except ImportError:`.",
    basis=Basis.SERVICE_FAILS,
    evidence="The module does not exist in the target Python's standard library (e.g. urllib2 on 3.x, "
        "urllib.request on 2.7): ImportError.",
)

MISSING_LOCAL_MODULE = Rule(
    "SVC012", "Import of a module the package does not contain", E,
    what="An unguarded import of a top-level module that is neither in the model folder, nor in the "
    "target Python's standard library, nor preinstalled, nor declared, nor a known PyPI distribution "
    "(`from net import Net` without `net.py` or `net/`).",
    why="Such a module is almost always the package's own code that was left out (the network class "
    "file next to the training script). The platform adds only the model folder to the import path, so "
    "loading the script raises ImportError. Suggesting `pip install net` instead would invite a "
    "typo-squatted or unrelated package into the image.",
    fix="Add the missing file (`net.py`, or a `net/` folder with `__init__.py`) to the model folder, "
    "beside customize_service.py. If it really is a third-party package, declare its exact distribution "
    "name (as PyPI spells it) in config.json `dependencies`.",
    basis=Basis.SERVICE_FAILS,
    evidence="Python raises ImportError for a module on no import path; the platform's import path is the "
    "model folder plus the image's site-packages (inference-code specification).",
)

RULES: tuple[Rule, ...] = (
    NO_SERVICE_CLASS, SEVERAL_SERVICE_CLASSES, WRONG_BASE, INIT_MISSING, BAD_SIGNATURE,
    INFERENCE_REWRITTEN, SUPER_NO_ARGS, RELATIVE_FILE, RELATIVE_IMPORT, UNDECLARED_DEPENDENCY,
    NOT_IN_STDLIB, MISSING_LOCAL_MODULE,
)

# -- data: the standard libraries of the target interpreters -------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Top-level standard-library modules of CPython 3.7 (the stdlib-list project's 3.7 list, checked
# against Python 3.11's ``sys.stdlib_module_names`` minus the modules added after 3.7).
STDLIB_PY37: frozenset[str] = _words("""
__future__ __main__ _abc _ast _asyncio _bisect _blake2 _bootlocale _bz2 _codecs _codecs_cn _codecs_hk
_codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections _collections_abc _compat_pickle
_compression _contextvars _crypt _csv _ctypes _ctypes_test _curses _curses_panel _datetime _dbm _decimal
_dummy_thread _elementtree _frozen_importlib _frozen_importlib_external _functools _gdbm _hashlib _heapq
_imp _io _json _locale _lsprof _lzma _markupbase _md5 _msi _multibytecodec _multiprocessing _opcode
_operator _osx_support _overlapped _pickle _posixsubprocess _py_abc _pydecimal _pyio _queue _random
_scproxy _sha1 _sha256 _sha3 _sha512 _signal _sitebuiltins _socket _sqlite3 _sre _ssl _stat _string
_strptime _struct _symtable _testbuffer _testcapi _testimportmultiple _testmultiphase _thread
_threading_local _tkinter _tracemalloc _uuid _warnings _weakref _weakrefset _winapi _xxtestfuzz abc aifc
antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb binascii binhex bisect
builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop collections colorsys
compileall concurrent configparser contextlib contextvars copy copyreg crypt csv ctypes curses
dataclasses datetime dbm decimal difflib dis distutils doctest dummy_threading email encodings ensurepip
enum errno faulthandler fcntl filecmp fileinput fnmatch formatter fractions ftplib functools gc
genericpath getopt getpass gettext glob grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp
importlib inspect io ipaddress itertools json keyword lib2to3 linecache locale logging lzma macpath
mailbox mailcap marshal math mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib
nt ntpath nturl2path numbers opcode operator optparse os ossaudiodev parser pathlib pdb pickle
pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile pstats pty pwd
py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline reprlib resource rlcompleter
runpy sched secrets select selectors shelve shlex shutil signal site smtpd smtplib sndhdr socket
socketserver spwd sqlite3 sre_compile sre_constants sre_parse ssl stat statistics string stringprep
struct subprocess sunau symbol symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios
test textwrap this threading time timeit tkinter token tokenize trace traceback tracemalloc tty turtle
turtledemo types typing unicodedata unittest urllib uu uuid venv warnings wave weakref webbrowser
winreg winsound wsgiref xdrlib xml xmlrpc xxlimited xxsubtype zipapp zipfile zipimport zlib
""")

# Added in 3.7, so absent from the 3.6 runtimes some engines use (What's New in Python 3.7).
_NEW_IN_PY37 = frozenset({"contextvars", "dataclasses", "_contextvars", "_abc", "_py_abc", "_queue"})

# Top-level standard-library modules of CPython 2.7 (the stdlib-list project's 2.7 list, which
# follows the 2.7 library reference, plus the undocumented modules every 2.7 build ships).
STDLIB_PY27: frozenset[str] = _words("""
AL BaseHTTPServer Bastion CGIHTTPServer Canvas ColorPicker ConfigParser Cookie DEVICE Dialog
DocXMLRPCServer EasyDialogs FL FileDialog FrameWork GL HTMLParser MacOS MimeWriter MiniAEFrame Queue
SUNAUDIODEV ScrolledText SimpleDialog SimpleHTTPServer SimpleXMLRPCServer SocketServer StringIO Tix
Tkconstants Tkdnd Tkinter UserDict UserList UserString __builtin__ __future__ __main__ _abcoll _bisect
_collections _csv _ctypes _elementtree _functools _hashlib _heapq _hotshot _io _json _locale _lsprof
_md5 _multiprocessing _osx_support _pyio _random _sha _socket _sqlite3 _sre _ssl _strptime _struct
_threading_local _weakref _weakrefset _winreg abc aepack aetools aetypes aifc al anydbm argparse array
ast asynchat asyncore atexit audiodev audioop autoGIL base64 bdb binascii binhex bisect bsddb bz2
cPickle cProfile cStringIO calendar cd cgi cgitb chunk cmath cmd code codecs codeop collections
colorsys commands compileall compiler contextlib cookielib copy copy_reg crypt csv ctypes curses
datetime dbhash dbm decimal difflib dircache dis distutils dl doctest dumbdbm dummy_thread
dummy_threading email encodings ensurepip errno exceptions fcntl filecmp fileinput findertools fl flp
fm fnmatch formatter fpectl fpformat fractions ftplib functools future_builtins gc gdbm gensuitemodule
genericpath getopt getpass gettext gl glob grp gzip hashlib heapq hmac hotshot htmlentitydefs htmllib
httplib ic ihooks imageop imaplib imgfile imghdr imp importlib imputil inspect io itertools jpeg json
keyword lib2to3 linecache locale logging macostools macpath mailbox mailcap markupbase marshal math md5
mhlib mimetools mimetypes mimify mmap modulefinder msilib msvcrt multifile multiprocessing mutex netrc
new nis nntplib nt ntpath nturl2path numbers opcode operator optparse os os2emxpath ossaudiodev parser
pdb pickle pickletools pipes pkgutil platform plistlib popen2 poplib posix posixfile posixpath pprint
profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat quopri random re readline repr
resource rexec rfc822 rlcompleter robotparser runpy sched select sets sgmllib sha shelve shlex shutil
signal site smtpd smtplib sndhdr socket spwd sqlite3 sre sre_compile sre_constants sre_parse ssl stat
statvfs string stringold stringprep strop struct subprocess sunau sunaudiodev symbol symtable sys
sysconfig syslog tabnanny tarfile telnetlib tempfile termios test textwrap thread threading time timeit
tkColorChooser tkCommonDialog tkFileDialog tkFont tkMessageBox tkSimpleDialog toaiff token tokenize
trace traceback ttk tty turtle types unicodedata unittest urllib urllib2 urlparse user uu uuid warnings
wave weakref webbrowser whichdb winsound wsgiref xdrlib xml xmllib xmlrpclib zipfile zipimport zlib
""")

# Python 3 modules below packages Python 2.7 also has: importing them on 2.7 fails although the
# top-level name exists (Python 3 library reference; the 2.7 reference lacks them).
PY3_ONLY_SUBMODULES: frozenset[str] = frozenset({
    "urllib.request", "urllib.parse", "urllib.error", "urllib.response", "urllib.robotparser",
    "collections.abc", "importlib.util", "importlib.machinery", "importlib.abc", "importlib.resources",
    "email.policy", "email.headerregistry", "email.contentmanager", "unittest.mock",
    "xml.etree.ElementInclude",
})

# Python 2 module -> its Python 3 counterpart (PEP 3108, "Modules to Rename" and removals).
PY2_COUNTERPARTS: Mapping[str, str] = {
    "__builtin__": "builtins", "exceptions": "builtins", "future_builtins": "builtins",
    "cPickle": "pickle", "cStringIO": "io", "StringIO": "io", "ConfigParser": "configparser",
    "Queue": "queue", "SocketServer": "socketserver", "copy_reg": "copyreg", "repr": "reprlib",
    "thread": "_thread", "dummy_thread": "_dummy_thread", "urllib2": "urllib.request",
    "urlparse": "urllib.parse", "robotparser": "urllib.robotparser", "httplib": "http.client",
    "HTMLParser": "html.parser", "htmlentitydefs": "html.entities", "cookielib": "http.cookiejar",
    "Cookie": "http.cookies", "BaseHTTPServer": "http.server", "SimpleHTTPServer": "http.server",
    "CGIHTTPServer": "http.server", "xmlrpclib": "xmlrpc.client", "SimpleXMLRPCServer": "xmlrpc.server",
    "DocXMLRPCServer": "xmlrpc.server", "Tkinter": "tkinter", "tkMessageBox": "tkinter.messagebox",
    "tkFileDialog": "tkinter.filedialog", "ttk": "tkinter.ttk", "commands": "subprocess",
    "popen2": "subprocess", "md5": "hashlib", "sha": "hashlib", "sets": "the built-in set type",
    "UserDict": "collections", "UserList": "collections", "UserString": "collections",
    "anydbm": "dbm", "dbhash": "dbm", "dumbdbm": "dbm.dumb", "gdbm": "dbm.gnu", "whichdb": "dbm",
    "new": "types", "mimetools": "email", "rfc822": "email", "htmllib": "html.parser",
    "imputil": "importlib",
}

# Python 3 standard modules that a pip package provides on Python 2 (import name -> distribution).
PY2_BACKPORTS: Mapping[str, str] = {
    "enum": "enum34", "pathlib": "pathlib", "typing": "typing", "concurrent": "futures",
    "configparser": "configparser", "ipaddress": "ipaddress", "faulthandler": "faulthandler",
    "statistics": "statistics", "queue": "future", "builtins": "future", "socketserver": "future",
    "copyreg": "future", "reprlib": "future", "_thread": "future", "html": "future", "http": "future",
    "xmlrpc": "future", "tkinter": "future", "winreg": "future",
}

# Import name -> the pip distributions that provide it, where the names differ (each project's
# install instructions). Names equal up to PEP 503 normalisation need no entry.
DISTRIBUTIONS: Mapping[str, tuple[str, ...]] = {
    "PIL": ("Pillow", "PIL"),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python",
            "opencv-contrib-python-headless"),
    "sklearn": ("scikit-learn",),
    "skimage": ("scikit-image",),
    "yaml": ("PyYAML",),
    "bs4": ("beautifulsoup4",),
    "dateutil": ("python-dateutil",),
    "google": ("protobuf",),  # google.protobuf; other google.* namespaces are rare in inference code
    "attr": ("attrs",),
    "Crypto": ("pycryptodome", "pycrypto"),
    "OpenSSL": ("pyOpenSSL",),
    "jwt": ("PyJWT",),
    "serial": ("pyserial",),
    "magic": ("python-magic",),
    "docx": ("python-docx",),
    "pptx": ("python-pptx",),
    "fitz": ("PyMuPDF",),
    "Levenshtein": ("python-Levenshtein", "Levenshtein"),
    "pkg_resources": ("setuptools",),
    "zmq": ("pyzmq",),
    "MySQLdb": ("mysqlclient", "MySQL-python"),
    "psycopg2": ("psycopg2", "psycopg2-binary"),
    "mmcv": ("mmcv", "mmcv-full"),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    "faiss": ("faiss-cpu", "faiss-gpu"),
    "tensorflow": ("tensorflow", "tensorflow-gpu", "tensorflow-cpu"),
    "past": ("future",),
    "libfuturize": ("future",),
    "nacl": ("PyNaCl",),
    "jose": ("python-jose",),
    "Bio": ("biopython",),
    "lightgbm": ("lightgbm",),
}


# Top-level import names of well-known PyPI projects that inference code uses (as each project's
# documentation names its import), besides those DISTRIBUTIONS and PY2_BACKPORTS already map. An
# import outside every list here, the standard library, the image and the package is taken for
# missing package code (SVC012), never for a pip package to install.
KNOWN_IMPORTS: frozenset[str] = frozenset({
    "numpy", "scipy", "pandas", "matplotlib", "seaborn", "requests", "urllib3", "six", "tqdm", "h5py",
    "simplejson", "ujson", "orjson", "jieba", "nltk", "gensim", "transformers", "tokenizers",
    "sentencepiece", "keras", "torch", "torchvision", "torchaudio", "torchtext", "mxnet", "gluoncv",
    "onnx", "xgboost", "catboost", "boto3", "botocore", "flask", "gunicorn", "redis", "pymysql",
    "sqlalchemy", "lxml", "jsonschema", "attrs", "pydantic", "grpc", "shapely", "pycocotools", "imageio",
    "imgaug", "albumentations", "timm", "mmdet", "einops", "numba", "Cython", "future", "pytz", "click",
    "tabulate", "editdistance", "pypinyin", "opencc", "soundfile", "librosa", "scikit_image", "jsonpath",
    "tensorboardX", "visdom", "pyarrow", "msgpack", "chardet", "certifi", "idna", "packaging",
    "setuptools", "wheel", "pip", "tornado", "aiohttp", "websocket", "paramiko", "cryptography",
    "Cryptodome", "xlrd", "openpyxl", "xlwt", "docopt", "termcolor", "colorama", "psutil", "absl",
    "tensorboard", "wrapt", "decorator", "networkx", "sympy", "statsmodels", "mindspore", "paddle",
    "jax", "flax", "sacremoses", "fairseq", "spacy", "pyspark", "obs", "moxing", "pycuda", "tensorrt",
    "skvideo", "moviepy", "av", "pydub", "webrtcvad", "pyworld", "zhon", "emoji", "regex", "fuzzywuzzy",
    "rapidfuzz", "dill", "joblib", "cloudpickle", "lmdb", "pycocoevalcap", "easydict", "addict",
    "yacs", "omegaconf", "hydra",
})


def is_known_distribution(module: str, python: tuple[int, int]) -> bool:
    """Whether ``module`` is the import name of a well-known PyPI project (see KNOWN_IMPORTS)."""
    return (module in KNOWN_IMPORTS or module in DISTRIBUTIONS
            or (python[0] == 2 and module in PY2_BACKPORTS))


def normalize_distribution(name: str) -> str:
    """PEP 503 normalised form of a distribution name (version specifiers dropped)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name)
    return re.sub(r"[-_.]+", "-", match.group(1) if match else name).lower()


def stdlib_modules(python: tuple[int, int]) -> frozenset[str]:
    """Top-level standard-library modules of the target interpreter."""
    if python[0] == 2:
        return STDLIB_PY27
    if python[1] < 7:
        return STDLIB_PY37 - _NEW_IN_PY37
    return STDLIB_PY37


def distributions_for(module: str, python: tuple[int, int]) -> tuple[str, ...]:
    """The pip distributions that provide the top-level ``module`` (best knowledge)."""
    if python[0] == 2 and module in PY2_BACKPORTS:
        return (PY2_BACKPORTS[module],)
    return DISTRIBUTIONS.get(module, (module,))


@attrs.frozen
class ImportSummary:
    """The script's absolute imports by origin (top-level names, sorted) - facts for a report."""

    local: tuple[str, ...]
    stdlib: tuple[str, ...]
    preinstalled: tuple[str, ...]
    third_party: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in attrs.asdict(self).items()}


def summarize_imports(
    facts: ServiceFacts, runtime: Runtime, package_modules: frozenset[str]
) -> ImportSummary:
    """Sort each absolutely imported top-level module into local, stdlib, preinstalled or third-party."""
    stdlib = stdlib_modules(runtime.python_version)
    pre = _preinstalled(runtime)
    groups: dict[str, set[str]] = {"local": set(), "stdlib": set(), "preinstalled": set(), "third": set()}
    for imp in facts.imports:
        if not imp.absolute or not imp.top:
            continue
        top = imp.top
        key = (
            "local" if top in package_modules
            else "stdlib" if top in stdlib
            else "preinstalled" if top in pre
            else "third"
        )
        groups[key].add(top)
    return ImportSummary(*(tuple(sorted(groups[k])) for k in ("local", "stdlib", "preinstalled", "third")))


# -- the checks ------------------------------------------------------------------------------------


def check_service(
    path: str,
    facts: ServiceFacts,
    runtime: Runtime,
    package_modules: frozenset[str],
    declared_dependencies: frozenset[str] | None,
    *,
    bundled_modules: frozenset[str] = frozenset(),
) -> tuple[Finding, ...]:
    """Every service finding for the script at ``path`` (package-relative) with these facts.

    ``bundled_modules``: modules that distribution archives inside the package (wheels) provide:
    such an import is a missing declaration (SVC010), not missing package code (SVC012)."""
    spec = engine_spec(runtime.engine)
    out: list[Finding] = []
    if spec is not None:
        out.extend(_check_classes(path, facts, spec))
        out.extend(_check_file_accesses(path, facts, spec))
    else:
        out.extend(_check_file_accesses(path, facts, None))
    if runtime.python_version[0] == 2:
        out.extend(_check_super(path, facts))
    out.extend(_check_imports(path, facts, runtime, package_modules, declared_dependencies,
                               bundled=bundled_modules))
    return tuple(sorted(out, key=Finding.sort_key))


def _known_base_names() -> frozenset[str]:
    return frozenset(q.rsplit(".", 1)[1] for q in BASE_CLASSES)


def _resolve_star(ref: BaseRef, facts: ServiceFacts) -> str | None:
    """``Base`` bound by ``from module import *``: the qualified name if the module is known to have it."""
    if ref.text is None or "." in ref.text or ref.local:
        return ref.resolved
    for imp in facts.imports:
        if imp.kind == "from" and imp.absolute and any(n.name == "*" for n in imp.names):
            candidate = f"{imp.module}.{ref.text}"
            if candidate in BASE_CLASSES:
                return candidate
    return ref.resolved


def _local_mro(cls: ClassFact, classes: Mapping[str, ClassFact]) -> list[ClassFact]:
    """``cls`` and the classes of the same file it inherits from, depth-first, each once."""
    out: list[ClassFact] = []
    seen: set[str] = set()
    stack = [cls]
    while stack and len(out) < 100:
        c = stack.pop()
        if c.name in seen:
            continue
        seen.add(c.name)
        out.append(c)
        for ref in reversed(c.bases):
            parent = classes.get(ref.text) if ref.local and ref.text else None
            if parent is not None:
                stack.append(parent)
    return out


def _is_service(cls: ClassFact, classes: Mapping[str, ClassFact], facts: ServiceFacts, base: str) -> bool:
    return any(
        _resolve_star(ref, facts) == base for c in _local_mro(cls, classes) for ref in c.bases
    )


def _check_classes(path: str, facts: ServiceFacts, spec: EngineSpec) -> Iterator[Finding]:
    classes = facts.toplevel_classes()
    services = [c for c in classes.values() if _is_service(c, classes, facts, spec.qualified_base)]
    wrong = list(_check_base_modules(path, facts, spec))
    yield from wrong
    if not services:
        if not wrong and not facts.truncated:
            yield _no_service(path, facts, spec, classes)
        return
    if len(services) > 1:
        names = sorted(c.name for c in services)
        first = min(services, key=lambda c: c.line)
        yield SEVERAL_SERVICE_CLASSES.finding(
            path,
            f"{len(services)} classes derive from {spec.base_class}: {', '.join(names)}; the platform "
            f"instantiates only one of them (a loader that lists module members by name takes "
            f"{names[0]})",
            line=first.line, column=first.column,
        )
    reported: set[tuple[str, int]] = set()
    for cls in sorted(services, key=lambda c: c.line):
        yield from _check_methods(path, cls, classes, spec, reported)


def _no_service(path: str, facts: ServiceFacts, spec: EngineSpec, classes: Mapping[str, ClassFact]) -> Finding:
    hint = f"add `{spec.import_statement}` and derive the service class from it: " \
        f"`class MyService({spec.base_class}):`"
    for cls in classes.values():
        for ref in cls.bases:
            if ref.text == spec.base_class and not ref.local and ref.resolved == spec.base_class:
                return NO_SERVICE_CLASS.finding(
                    path,
                    f"class {cls.name} derives from {spec.base_class}, but the name is never imported: "
                    f"loading the script raises NameError",
                    line=ref.line, column=ref.column, hint=f"add `{spec.import_statement}`",
                )
    found = f" (classes found: {', '.join(sorted(classes))})" if classes else ""
    first = min(classes.values(), key=lambda c: (c.line, c.column), default=None)
    return NO_SERVICE_CLASS.finding(
        path,
        f"no class derives from {spec.base_class}, the {spec.name} service base class{found}",
        line=first.line if first else 1, column=first.column if first else 1, hint=hint,
    )


def _check_base_modules(path: str, facts: ServiceFacts, spec: EngineSpec) -> Iterator[Finding]:
    known = _known_base_names()
    homes = {q.rsplit(".", 1)[1]: q.rsplit(".", 1)[0] for q in BASE_CLASSES}
    flagged: set[str] = set()
    for imp in facts.imports:
        if imp.kind != "from" or not imp.absolute or imp.guarded:
            continue  # a guarded import's ImportError is handled; the class's base decides
        for item in imp.names:
            if item.name in known and imp.module != homes[item.name]:
                flagged.add(f"{imp.module}.{item.name}")
                yield WRONG_BASE.finding(
                    path,
                    f"{item.name} is imported from {imp.module}, but the platform provides it in "
                    f"{homes[item.name]}: loading the script raises ImportError",
                    line=imp.line, column=imp.column,
                    hint=f"use `{spec.import_statement}`" if item.name == spec.base_class
                    else f"use `from {homes[item.name]} import {item.name}`",
                )
    for cls in facts.classes:
        if not cls.toplevel:
            continue
        for ref in cls.bases:
            resolved = _resolve_star(ref, facts)
            if resolved is None or "." not in resolved or resolved in flagged:
                continue
            module, name = resolved.rsplit(".", 1)
            if name not in known or resolved == spec.qualified_base:
                continue
            if resolved in BASE_CLASSES:
                engines = " / ".join(BASE_CLASSES[resolved])
                message = (
                    f"class {cls.name} derives from {name}, the {engines} base class; a {spec.name} "
                    f"template needs {spec.base_class}"
                )
            else:
                message = (
                    f"class {cls.name} derives from {name} taken from {module}, which does not provide "
                    f"it (the platform's {name} lives in {homes[name]})"
                )
            yield WRONG_BASE.finding(
                path, message, line=ref.line, column=ref.column,
                hint=f"use `{spec.import_statement}` and derive from {spec.base_class}",
            )


def _platform_counts(method: FunctionFact, spec: MethodSpec) -> tuple[int, ...]:
    drop = 1 if "staticmethod" in method.decorators else 0
    return tuple(count - drop for count in spec.positional_counts)


def _check_methods(
    path: str, cls: ClassFact, classes: Mapping[str, ClassFact], spec: EngineSpec,
    reported: set[tuple[str, int]],
) -> Iterator[Finding]:
    mro = _local_mro(cls, classes)
    for mspec in spec.methods:
        method = next((m for m in (c.method(mspec.name) for c in mro) if m is not None), None)
        if method is None:
            if mspec.name == "__init__" and spec.init_required:
                yield INIT_MISSING.finding(
                    path,
                    f"{spec.name} service class {cls.name} does not rewrite `{mspec.signature}`: the base "
                    f"class cannot build the network, so the model is never loaded",
                    line=cls.line, column=cls.column,
                    hint=f"define `def {mspec.signature}:` in {cls.name}; call "
                    f"`super({cls.name}, self).__init__(model_name, model_path)`, then build the "
                    f"network and load the weights from model_path",
                )
            continue
        key = (method.name, method.line)
        if key in reported:
            continue
        reported.add(key)
        if not any(method.accepts_positional(count) for count in _platform_counts(method, mspec)):
            passed = ", ".join(mspec.params[1:])
            yield BAD_SIGNATURE.finding(
                path,
                f"`{method.signature}` of {cls.name} cannot be called as `{mspec.signature}`: the platform "
                f"passes {len(mspec.params) - 1} argument(s) ({passed}); this raises TypeError",
                line=method.line, column=method.column,
                hint=f"declare it as `def {mspec.signature}:`",
            )
        if mspec.name == "_inference":
            yield INFERENCE_REWRITTEN.finding(
                path,
                f"{cls.name} rewrites `_inference`, which replaces the platform's built-in inference",
                line=method.line, column=method.column,
            )


def _check_super(path: str, facts: ServiceFacts) -> Iterator[Finding]:
    for call in facts.super_calls:
        if not call.builtin:
            continue
        where = ".".join(p for p in (call.class_name, call.function) if p) or "module level"
        cls = call.class_name or "ClassName"
        yield SUPER_NO_ARGS.finding(
            path,
            f"`super()` without arguments in {where} raises TypeError on Python 2: "
            f"super() takes at least 1 argument (0 given)",
            line=call.line, column=call.column,
            hint=f"write `super({cls}, self)` instead of `super()`",
        )


def _check_file_accesses(path: str, facts: ServiceFacts, spec: EngineSpec | None) -> Iterator[Finding]:
    folder = (
        "os.path.dirname(os.path.realpath(self.model_path))"
        if spec is None or spec.model_path_is_file else "self.model_path"
    )
    for access in facts.file_accesses:
        yield RELATIVE_FILE.finding(
            path,
            f"`{access.call}` uses the relative path {access.path!r}: it is resolved against the "
            f"service's working directory, not the model folder",
            line=access.line, column=access.column,
            hint=f"build it from the model location: `os.path.join({folder}, {access.path!r})`",
        )


def _preinstalled(runtime: Runtime) -> frozenset[str]:
    spec = engine_spec(runtime.engine)
    if spec is not None:
        return spec.preinstalled
    return PLATFORM_MODULES


def _check_imports(
    path: str, facts: ServiceFacts, runtime: Runtime, package_modules: frozenset[str],
    declared: frozenset[str] | None, *, bundled: frozenset[str] = frozenset(),
) -> Iterator[Finding]:
    python = runtime.python_version
    stdlib = stdlib_modules(python)
    pre = _preinstalled(runtime)
    declared_norm = None if declared is None else {normalize_distribution(d) for d in declared}
    depth = path.count("/")
    undeclared_seen: set[str] = set()
    for imp in facts.imports:
        if imp.level:
            yield from _relative_import(path, imp, depth, python)
            continue
        top = imp.top
        if not top or top in package_modules:
            continue
        if top in stdlib:
            if python[0] == 2 and not imp.guarded:
                yield from _py3_submodules(path, imp)
            continue
        if top in pre or imp.guarded:
            continue
        dists = distributions_for(top, python)
        is_declared = declared_norm is not None and any(
            normalize_distribution(d) in declared_norm for d in dists
        )
        if python[0] >= 3 and top in STDLIB_PY27:
            counterpart = PY2_COUNTERPARTS.get(top)
            yield NOT_IN_STDLIB.finding(
                path,
                f"`{imp.statement}`: {top} is a Python 2 module; Python {runtime.python} has no such "
                f"module, so loading the script raises ImportError",
                line=imp.line, column=imp.column,
                hint=f"import {counterpart} instead" if counterpart
                else "use the Python 3 replacement, or guard the import with try/except ImportError",
            )
            continue
        if python[0] == 2 and top in STDLIB_PY37 and top not in PY2_BACKPORTS:
            yield NOT_IN_STDLIB.finding(
                path,
                f"`{imp.statement}`: {top} is a Python 3 standard module that Python {runtime.python} "
                f"lacks, so loading the script raises ImportError",
                line=imp.line, column=imp.column,
                hint="use the Python 2 equivalent, or guard the import with try/except ImportError",
            )
            continue
        if is_declared or top in undeclared_seen:
            continue
        if not is_known_distribution(top, python) and top not in bundled:
            undeclared_seen.add(top)
            nested = ".".join(imp.module.split(".")[:2]) if imp.module and "." in imp.module else ""
            want = f"{top}.py or {top}/__init__.py" + (f" (with {nested.replace('.', '/')}.py)" if nested else "")
            yield MISSING_LOCAL_MODULE.finding(
                path,
                f"`{imp.statement}`: the package has no module {top} ({want} in the model folder) and "
                f"{top} is neither in the Python {runtime.python} standard library, nor preinstalled, "
                f"nor a known PyPI distribution, so loading the script raises ImportError",
                line=imp.line, column=imp.column,
                hint=f"Add {top}.py (or a {top}/ folder with __init__.py) to the model folder, beside "
                f"{path.rpartition('/')[2]}.",
            )
            continue
        if declared_norm is None:
            continue
        undeclared_seen.add(top)
        what = "a Python 3 standard module, available on Python 2 only through" if (
            python[0] == 2 and top in PY2_BACKPORTS) else "provided by"
        yield UNDECLARED_DEPENDENCY.finding(
            path,
            f"`{imp.statement}`: {top} is not preinstalled in the {runtime} image and not declared in "
            f"config.json ({what} pip package {' or '.join(dists)})",
            line=imp.line, column=imp.column,
            hint=f'declare it in config.json: "dependencies": [{{"installer": "pip", "packages": '
            f'[{{"package_name": "{dists[0]}"}}]}}]',
        )


def _py3_submodules(path: str, imp: ImportFact) -> Iterator[Finding]:
    candidates = [imp.module] + [f"{imp.module}.{n.name}" for n in imp.names if imp.kind == "from"]
    for name in candidates:
        if name in PY3_ONLY_SUBMODULES:
            yield NOT_IN_STDLIB.finding(
                path,
                f"`{imp.statement}`: {name} exists only in Python 3; on Python 2.7 loading the script "
                f"raises ImportError",
                line=imp.line, column=imp.column,
                hint=_PY2_EQUIVALENTS.get(name, "use the Python 2 equivalent, or guard the import with "
                                          "try/except ImportError"),
            )
            return


_PY2_EQUIVALENTS: Mapping[str, str] = {
    "urllib.request": "use urllib2 (or six.moves.urllib.request)",
    "urllib.parse": "use urlparse / urllib (or six.moves.urllib.parse)",
    "urllib.error": "use urllib2 (or six.moves.urllib.error)",
    "collections.abc": "import the ABCs from collections on Python 2",
    "unittest.mock": "use the mock package",
}


def _relative_import(path: str, imp: ImportFact, depth: int, python: tuple[int, int]) -> Iterator[Finding]:
    """``depth`` is the number of folders above the file inside the package: the levels it may climb."""
    if imp.level <= depth:
        return
    if depth == 0:
        error = (
            "ValueError: Attempted relative import in non-package" if python[0] == 2
            else "ImportError: attempted relative import with no known parent package"
        )
        where = "this file is not inside a package"
    else:
        error = (
            "ValueError: Attempted relative import beyond toplevel package" if python[0] == 2
            else "ValueError: attempted relative import beyond top-level package"
        )
        where = f"this file is only {depth} package level(s) deep"
    target = imp.module or ", ".join(n.name for n in imp.names)
    yield RELATIVE_IMPORT.finding(
        path,
        f"`{imp.statement}` climbs {imp.level} level(s) but {where}: loading fails with {error}",
        line=imp.line, column=imp.column,
        hint=f"import it absolutely: `import {target}` (modules of the model folder are importable by name)",
    )
