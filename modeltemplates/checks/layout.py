"""Layout checks: the shape of the ``model/`` folder, judged from the inventory alone.

Nothing here reads file contents; it works from :class:`~modeltemplates.package.Package` entries and
the template's :class:`~modeltemplates.layout.LayoutRules`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import attrs

from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.ignore import IGNORE_FILE_NAME
from modeltemplates.layout import FileRule, LayoutRules
from modeltemplates.package import PACKAGE_DIR_NAME, Entry, EntryKind, Package
from modeltemplates.platform import MAX_IMPORT_BYTES
from modeltemplates.runtime import Runtime
from modeltemplates.safetext import escape_controls, has_control_characters

E, W = Severity.ERROR, Severity.WARNING

ROOT_NAME = Rule(
    "LAY001", "Package folder is not named `model`", E,
    what="The folder given (or its `model/` child) must be named `model`.",
    why="The platform imports the folder named `model` that you select; a template import of any other "
    "folder is rejected or picks up the wrong files.",
    fix="Rename the folder to `model`, or point the tool at the `model` folder (or its parent).",
    basis=Basis.PLATFORM_REJECTS,
    evidence="model_package_specifications (modelarts_23_0091): 'The model package must contain the model "
        "directory'; error code ModelArts.3017 'source location noncompliance'.",
)
MODEL_MISSING = Rule(
    "LAY002", "No model file", E,
    what="The package must hold exactly one model file of the template's engine at its top level.",
    why="The template loads the model file from the top of `model/`; without one the import fails.",
    fix="Put the model file (for PyTorch a `.pth` or `.pt` state_dict) directly into `model/`.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Import event 'Failed to calculate the model size. The model of the *xxx* type does not exist in path"
        " *xxx*' (model_import_events); the PyTorch template pages put the model file at the top of model/.",
)
MODEL_SEVERAL = Rule(
    "LAY003", "Several model files", E,
    what="More than one model file at the top of the package.",
    why="A model package holds one model; the platform does not say which file it would load. "
    "Several weight files need a custom image.",
    fix="Keep one model file in `model/`; move the others out or list them in `.modelignore`.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Import event 'More than one *xxx* model file is stored in path *xxx*' (model_import_events).",
)
MODEL_NESTED = Rule(
    "LAY004", "Model file below the top level", W,
    what="A file that looks like a model file sits in a subfolder.",
    why="Only the top of `model/` is searched for the model file; a nested one is uploaded as data.",
    fix="Move the model file to the top of `model/`, or ignore it if it is not the model.",
    basis=Basis.ADVICE,
    evidence="Template pages (e.g. modelarts_23_0165): the model file sits at the top of model/; a nested copy is "
        "uploaded as plain data.",
)
SCRIPT_MISPLACED = Rule(
    "LAY005", "Inference script not at the top of `model/`", E,
    what="`customize_service.py` sits in a subfolder.",
    why="The platform looks for the inference script only at the top of `model/`; elsewhere it is "
    "ignored and the default service runs instead.",
    fix="Move `customize_service.py` to the top of `model/` (one copy only).",
    basis=Basis.SERVICE_FAILS,
    evidence="model_package_specifications (modelarts_23_0091): the inference code file name 'is fixed to "
        "customize_service.py' in the model directory; elsewhere it is not used.",
)
SCRIPT_DUPLICATE = Rule(
    "LAY006", "More than one inference script", E,
    what="`customize_service.py` appears more than once in the package tree.",
    why="The platform allows exactly one inference script per package; extra copies (often from "
    "version folders such as V001/, V002/) mean a second package hides inside this one.",
    fix="Keep the copy at the top of `model/` and remove the others (or select the right version folder).",
    basis=Basis.PLATFORM_REJECTS,
    evidence="model_package_specifications (modelarts_23_0091): 'There must be one and only one such file'.",
)
SCRIPT_MISNAMED = Rule(
    "LAY007", "Inference script with the wrong name", E,
    what="A file or folder whose name is close to `customize_service.py` but not exactly it.",
    why="The file name must be exactly `customize_service.py` or the platform does not recognise it.",
    fix="Rename it to exactly `customize_service.py` (lower case, underscore, `.py`).",
    basis=Basis.SERVICE_FAILS,
    evidence="model_package_specifications (modelarts_23_0091): 'the file name is fixed to customize_service.py'.",
)
CONFIG_ODD = Rule(
    "LAY008", "Misnamed or misplaced config.json", W,
    what="A `config.json` outside the top level, a near-miss name, or a folder of that name.",
    why="The platform reads only `model/config.json`; other copies are uploaded as plain data.",
    fix="Keep a single `config.json` at the top of `model/` (or none: the template provides it).",
    basis=Basis.ADVICE,
    evidence="model_package_specifications (modelarts_23_0091): config.json 'name is fixed'; a copy elsewhere is "
        "plain data and the template supplies its own.",
)
EMPTY_DIR = Rule(
    "LAY009", "Empty folder", W,
    what="A folder with nothing in it.",
    why="Object storage has no folders: an empty folder vanishes on upload, so code that expects it fails.",
    fix="Remove the folder, or create it at run time, or put a placeholder file in it.",
    basis=Basis.ADVICE,
    evidence='Object storage (OBS) stores objects, not folders: an empty folder has no object to upload.',
)
UNREADABLE = Rule(
    "LAY010", "Unreadable file or folder", E,
    what="A file or folder its owner cannot read.",
    why="The upload tool cannot read it, so the package on the platform is incomplete.",
    fix="Fix the permissions (e.g. `chmod u+r FILE`, `chmod u+rx FOLDER`).",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Upload tools read every file with the user's rights; an unreadable file is left out or stops the "
        "upload, so the imported package is incomplete.",
)
SYMLINK = Rule(
    "LAY011", "Symbolic link", W,
    what="A symbolic link inside the package (never followed by this tool).",
    why="Object storage has no links: an upload copies the target or drops the link. A link that leaves "
    "the package or points nowhere uploads nothing or something you did not mean to publish.",
    fix="Replace the link with the real file, or remove it.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Object storage has no links: upload tools copy the target, so a link to nothing or a link loop "
        "cannot be copied and a link out of the package publishes files outside it (errors); a link inside "
        "the package is a warning.",
)
SPECIAL_FILE = Rule(
    "LAY012", "Special file", E,
    what="A FIFO, socket or device node inside the package (never opened by this tool).",
    why="Such entries cannot be uploaded and make upload tools hang or fail.",
    fix="Remove it from the package folder.",
    basis=Basis.PLATFORM_REJECTS,
    evidence='A FIFO, socket or device has no content an upload tool can copy; reading a FIFO blocks the upload.',
)
NAME_ENCODING = Rule(
    "LAY013", "File name is not valid UTF-8", E,
    what="A file or folder name whose bytes are not UTF-8.",
    why="Object storage keys are UTF-8; the name is mangled or the upload fails.",
    fix="Rename the file using UTF-8 (ideally plain ASCII) characters.",
    basis=Basis.PLATFORM_REJECTS,
    evidence='OBS object keys are UTF-8 strings; a name that is not UTF-8 cannot be a key.',
)
JUNK = Rule(
    "LAY014", "Junk file that is not ignored", W,
    what="Editor, OS, build or VCS leftovers that are not covered by the ignore rules.",
    why="They bloat the upload, may leak private data, and never help the deployed service.",
    fix="Delete them or add a pattern to `.modelignore` at the top of `model/`.",
    basis=Basis.ADVICE,
    evidence='Leftovers are uploaded and accepted; they only cost size and may leak data.',
)
NESTED_PACKAGE = Rule(
    "LAY015", "A second package inside this one", W,
    what="A subfolder that is itself a model package (a `model/` folder, or its own inference script "
    "or config.json next to a model file).",
    why="Training jobs write versioned copies (V001/model, V002/model); importing the parent uploads all "
    "of them while the platform uses only the top level.",
    fix="Select the `model` folder of the version you want, or move the extra copy out.",
    basis=Basis.ADVICE,
    evidence="The platform reads only the top of model/ (model_package_specifications); a second package below is "
        "uploaded but unused.",
)
IGNORE_FILE = Rule(
    "LAY016", "Problem in .modelignore", W,
    what="A `.modelignore` line that is not a valid pattern, or a `.modelignore` that cannot be read.",
    why="The pattern has no effect, so files you meant to leave out are checked and uploaded.",
    fix="Fix the pattern (gitignore syntax) or the file.",
    basis=Basis.ADVICE,
    evidence=".modelignore is this tool's file; a bad pattern changes what is checked, not what the platform does.",
)
WALK_LIMIT = Rule(
    "LAY017", "Package too large or too deep to check", W,
    what="The package has more entries, or deeper folders, than this tool's walk takes (Settings.package: "
    "max_entries, max_depth); what lies beyond was not checked.",
    why="These are limits of this tool, not of the platform: the check is incomplete, so the package is "
    "neither passed nor failed for what was not read.",
    fix="Remove generated data from the package, or raise the setting named in the finding.",
    basis=Basis.NOT_CHECKED,
    evidence="Settings.package.max_entries and max_depth are this tool's bounds; the platform states none besides "
        "the 20 GB model size.",
)
NO_INIT = Rule(
    "LAY018", "Python package folder without __init__.py", W,
    what="A folder of `.py` files that has no `__init__.py`, on a Python 2 runtime.",
    why="Python 2.7 has no namespace packages: `import folder.module` fails without `__init__.py`.",
    fix="Add an empty `__init__.py` to the folder.",
    basis=Basis.SERVICE_FAILS,
    evidence="Python 2.7 has no namespace packages (PEP 420 arrived in Python 3.3): importing from a folder "
        "without __init__.py raises ImportError. A warning because the folder may never be imported.",
)
BUNDLED = Rule(
    "LAY019", "Bundled Python distribution", W,
    what="A wheel, egg, sdist or `site-packages` folder inside the package that config.json does not "
    "declare.",
    why="The platform does not install packages found in the model folder; only the `dependencies` of "
    "config.json are installed, so imports of such packages fail at run time.",
    fix="Declare it in config.json `dependencies` (installer pip): for the documented offline install "
    "write the wheel's file name as package_name and keep the wheel next to the model file; or vendor "
    "its source as a custom Python package.",
    basis=Basis.SERVICE_FAILS,
    evidence="config.json specification (modelarts_23_0092) Table 1 dependencies: 'Only the pip installation mode "
        "is supported'; ModelArts FAQ modelarts_05_0161: an offline wheel is installed only when declared in "
        "dependencies and placed with the model file. A warning because the code may not import it.",
)

TOO_LARGE = Rule(
    "LAY020", "File too large to import", E,
    what="A file larger than the 20 GB the platform imports.",
    why="The platform refuses to import a model file over 20 GB (ModelArts.3044).",
    fix="Shrink the model (e.g. save in half precision, drop optimizer state) or use a custom image.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Error code ModelArts.3044 'Model file ({0}) is larger than 20G and cannot be imported'.",
)

LOCATED_CHILD = Rule(
    "LAY025", "Checked the `model` sub-folder of the folder given", Severity.INFO,
    what="The folder given has none of a package's marks (customize_service.py, config.json, a model "
    "file) at its top, and its `model` sub-folder has them, so that sub-folder was checked.",
    why="Which folder is the package decides every other finding; the report says which one was taken "
    "so that no output format hides the switch.",
    fix="Nothing to fix; point the tool at the `model` folder itself to check it directly.",
    basis=Basis.ADVICE,
    evidence='Informational: which folder was checked; no platform behaviour is involved.',
)
CONTROL_NAME = Rule(
    "LAY021", "File name with control characters", W,
    what="A file or folder name holding a newline, carriage return, tab, escape (ANSI) or other "
    "control character, or a bidirectional override.",
    why="Such names garble or forge lines in logs, terminals and reports, and many upload tools and "
    "object stores reject or rewrite them, so the file may not arrive under the name the code opens.",
    fix="Rename the file using printable characters only.",
    basis=Basis.ADVICE,
    evidence="OBS object keys may hold any UTF-8 character, so the upload is accepted; the risk is to the "
    "people and tools that read the name (forged report or log lines).",
)

RULES: tuple[Rule, ...] = (
    ROOT_NAME, MODEL_MISSING, MODEL_SEVERAL, MODEL_NESTED, SCRIPT_MISPLACED, SCRIPT_DUPLICATE,
    SCRIPT_MISNAMED, CONFIG_ODD, EMPTY_DIR, UNREADABLE, SYMLINK, SPECIAL_FILE, NAME_ENCODING, JUNK,
    NESTED_PACKAGE, IGNORE_FILE, WALK_LIMIT, NO_INIT, BUNDLED, TOO_LARGE, CONTROL_NAME, LOCATED_CHILD,
)

#: Rules about how the tool was called rather than about the package (left out of the manifest).
INVOCATION_RULES = frozenset({LOCATED_CHILD.id})

#: Names and patterns of leftovers that are not ignored by default but never belong in a package.
JUNK_NAMES = frozenset({"Thumbs.db", "desktop.ini", ".idea", ".vscode", ".coverage", ".tox",
                        ".pytest_cache", ".mypy_cache", ".ruff_cache", ".env", ".venv", "venv",
                        "node_modules", ".gitignore", ".gitattributes", ".gitmodules"})
JUNK_SUFFIXES = (".swp", ".swo", "~", ".orig", ".rej", ".bak", ".tmp", ".log")
BUNDLED_SUFFIXES = (".whl", ".egg", ".tar.gz", ".tgz")


@attrs.frozen
class LayoutResult:
    """Findings plus the files the later checks work on."""

    findings: tuple[Finding, ...]
    model_files: tuple[Entry, ...]
    inference_script: Entry | None
    config_file: Entry | None
    python_files: tuple[Entry, ...]
    helper_modules: tuple[str, ...]
    custom_packages: tuple[str, ...]


def check_layout(package: Package, rules: LayoutRules, runtime: Runtime) -> LayoutResult:
    """Run every layout rule over the package inventory."""
    findings: list[Finding] = []
    findings.extend(_check_root(package, rules))
    findings.extend(_check_entries(package))
    model_files, f = _check_model_files(package, rules.model_file, rules.model_parts)
    findings.extend(f)
    script, f = _check_named_file(package, rules.inference_script, SCRIPT_MISPLACED, SCRIPT_DUPLICATE,
                                  SCRIPT_MISNAMED)
    findings.extend(f)
    config, f = _check_named_file(package, rules.config_file, CONFIG_ODD, CONFIG_ODD, CONFIG_ODD)
    findings.extend(f)
    findings.extend(_check_nested_packages(package, rules))
    python_files = tuple(e for e in package.files() if e.suffix == ".py")
    custom_packages, f = _check_python_packages(package, python_files, runtime)
    findings.extend(f)
    helper_modules = tuple(
        e.name[:-3] for e in python_files if e.at_top and e.name not in rules.inference_script.names
    )
    return LayoutResult(
        findings=tuple(findings),
        model_files=model_files,
        inference_script=script,
        config_file=config,
        python_files=python_files,
        helper_modules=helper_modules,
        custom_packages=custom_packages,
    )


def _check_root(package: Package, rules: LayoutRules) -> Iterable[Finding]:
    located = package.located
    if located.how == "child":
        yield LOCATED_CHILD.finding(
            "", f"the folder given, '{located.given.name}', holds no package files at its top; its "
            f"'{PACKAGE_DIR_NAME}' sub-folder was checked")
    if located.how == "unnamed" or located.root.name != rules.root_name:
        msg = f"the package folder is named '{located.root.name}', not '{rules.root_name}'"
        hint = ROOT_NAME.fix
        if located.how == "marked":
            msg += (f"; it holds the package's files, so it was checked as the package, but the platform "
                    f"imports a folder named '{rules.root_name}'")
            hint = f"Rename the folder to '{rules.root_name}' (or copy its content into one) before upload."
            if package.get(rules.root_name) is not None:
                msg += f" (its '{rules.root_name}' sub-folder is part of this package, not the package)"
        others = [d for d in located.other_model_dirs if located.how != "marked" or d != PACKAGE_DIR_NAME]
        if others:
            listed = ", ".join(f"'{d}'" for d in others[:5])
            more = "" if len(others) <= 5 else f" and {len(others) - 5} more"
            msg += f"; it contains {PACKAGE_DIR_NAME} folders at {listed}{more}"
            if located.how != "marked":
                hint = "Point the tool (and the platform) at one of those `model` folders, e.g. the latest version."
        yield ROOT_NAME.finding("", msg, hint=hint)
    for problem in package.problems:
        if problem.kind == "unreadable-dir":
            yield UNREADABLE.finding(problem.path, f"the folder cannot be listed: {problem.detail}")
        else:
            setting = "max_entries" if problem.kind == "too-many-entries" else "max_depth"
            yield WALK_LIMIT.finding(
                problem.path, f"{problem.detail}: a limit of this tool, so the rest was not checked",
                hint=f"Raise Settings.package.{setting} if the package really needs it.")
    for bad in package.ignore.problems:
        yield IGNORE_FILE.finding(IGNORE_FILE_NAME, f"{IGNORE_FILE_NAME} {bad.message}", line=bad.line)


def _check_entries(package: Package) -> Iterable[Finding]:
    for e in package.entries:
        if not e.name_is_utf8:
            yield NAME_ENCODING.finding(e.path, f"the name '{e.name}' is not valid UTF-8")
        if e.ignored_by is not None:
            continue
        if has_control_characters(e.name):
            yield CONTROL_NAME.finding(e.path, f"the name '{escape_controls(e.name)}' holds control characters")
        if e.kind is EntryKind.SYMLINK:
            yield _symlink_finding(package, e)
        elif e.kind in (EntryKind.FIFO, EntryKind.SOCKET, EntryKind.DEVICE, EntryKind.OTHER):
            yield SPECIAL_FILE.finding(e.path, f"'{e.name}' is a {e.kind.value}, not a regular file")
        elif not e.readable:
            what = "folder" if e.kind is EntryKind.DIR else "file"
            yield UNREADABLE.finding(e.path, f"the {what} '{e.name}' is not readable: {_who_cannot_read(package, e)}")
        elif e.kind is EntryKind.DIR and e.empty_dir:
            yield EMPTY_DIR.finding(e.path, f"the folder '{e.name}' is empty and will not exist after upload")
        junk = _junk_reason(e)
        if junk:
            yield JUNK.finding(e.path, junk, hint=f"Delete it or add '{_suggest_pattern(e)}' to .modelignore.")
        bundled = _bundled_reason(e)
        if bundled:
            yield BUNDLED.finding(e.path, bundled)
        if e.kind is EntryKind.FILE and e.size > MAX_IMPORT_BYTES:
            yield TOO_LARGE.finding(e.path, f"'{e.name}' is {e.size / 1024**3:.1f} GiB; the platform imports "
                                    "files of at most 20 GB")


def _who_cannot_read(package: Package, e: Entry) -> str:
    from modeltemplates.sources.localpath import cannot_read

    try:
        local = package.local_path(e)
    except OSError:
        local = None
    if local is None:
        return "the source does not allow reading it"
    return cannot_read(local, e.kind is EntryKind.DIR)


def _symlink_finding(package: Package, e: Entry) -> Finding:
    target = e.link_target or "?"
    resolved = resolve_link(package, e)
    if resolved == "outside":
        return SYMLINK.finding(e.path, f"the link '{e.name}' points outside the package (to '{target}')",
                               severity=Severity.ERROR)
    if resolved == "missing":
        return SYMLINK.finding(e.path, f"the link '{e.name}' points to '{target}', which does not exist",
                               hint="Upload tools cannot copy a link to nothing: remove it or put the "
                               "real file in its place.", severity=Severity.ERROR)
    if resolved == "loop":
        return SYMLINK.finding(e.path, f"the link '{e.name}' (to '{target}') is part of a link loop or points "
                               "to a folder that contains it; a copy that follows links never ends",
                               hint="Upload tools cannot copy a loop: remove the link.", severity=Severity.ERROR)
    return SYMLINK.finding(e.path, f"the link '{e.name}' points to '{target}' inside the package")


#: How many links one resolution may pass through before it is called a loop (Linux uses 40).
_MAX_LINK_HOPS = 40


def resolve_link(package: Package, link: Entry) -> str:
    """Follow ``link`` through the inventory alone: ``"inside"``, ``"outside"``, ``"missing"`` or ``"loop"``.

    Every path component that is itself a link in the package is followed too, as the system would.
    A folder link to the folder that holds it (``sub/up -> ..``) is a loop for whoever copies the tree.
    """
    target = link.link_target or "?"
    if target.startswith("/"):
        return "outside"
    if target == "?":
        return "missing"
    hops = 0
    pending = [p for p in [*link.parent.split("/"), *target.split("/")] if p]
    done: list[str] = []
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            if not done:
                return "outside"
            done.pop()
            continue
        here = "/".join([*done, part])
        entry = package.get(here)
        if entry is None:
            return "missing"
        if entry.kind is EntryKind.SYMLINK:
            hops += 1
            if hops > _MAX_LINK_HOPS or entry.link_target is None:
                return "loop"
            target = entry.link_target
            if target.startswith("/"):
                return "outside"
            pending[:0] = [p for p in target.split("/") if p]
            continue
        done.append(part)
    final = "/".join(done)
    own_folder = link.parent
    if final in ("", own_folder) or own_folder.startswith(final + "/"):
        return "loop"
    return "inside"


def _junk_reason(e: Entry) -> str | None:
    name = e.name
    if name in JUNK_NAMES:
        return f"'{name}' is a tool or OS leftover"
    if e.kind is EntryKind.FILE and any(name.endswith(s) for s in JUNK_SUFFIXES):
        return f"'{name}' looks like an editor, merge or log leftover"
    if e.kind is EntryKind.DIR and name.endswith(".egg-info"):
        return f"'{name}' is build metadata"
    return None


def _bundled_reason(e: Entry) -> str | None:
    name = e.name.lower()
    if e.kind is EntryKind.FILE and any(name.endswith(s) for s in BUNDLED_SUFFIXES):
        return f"'{e.name}' is a Python distribution archive; the platform will not install it"
    if e.kind is EntryKind.DIR and name in ("site-packages", "dist-packages"):
        return f"'{e.name}' holds installed packages; the platform does not add it to the import path"
    return None


def _suggest_pattern(e: Entry) -> str:
    if e.kind is EntryKind.DIR:
        return e.name + "/"
    for s in JUNK_SUFFIXES:
        if e.name.endswith(s):
            return "*" + s
    return e.name


def _check_model_files(
    package: Package, rule: FileRule, parts: tuple[FileRule, ...] = ()
) -> tuple[tuple[Entry, ...], list[Finding]]:
    findings: list[Finding] = []
    candidates = [e for e in package.files() if rule.matches(e.name)]
    top = tuple(e for e in candidates if e.at_top)
    for e in candidates:
        if not e.at_top:
            findings.append(MODEL_NESTED.finding(
                e.path, f"'{e.path}' looks like a model file but is not at the top of the package"))
    if parts:
        # A model of several files: each part is required and counted on its own.
        for part in parts:
            found = [e for e in top if part.matches(e.name)]
            findings.extend(_count_model_files(found, part))
        return top, findings
    findings.extend(_count_model_files(list(top), rule))
    return top, findings


def _count_model_files(top: list[Entry], rule: FileRule) -> Iterable[Finding]:
    if not top and rule.required:
        expected = " or ".join(rule.suffixes) or " or ".join(rule.names)
        what = "" if rule.role == "model file" else f" ({rule.role})"
        names = " or ".join(f"`{n}`" for n in (rule.names or rule.suffixes))
        yield MODEL_MISSING.finding("", f"no {expected} file{what} at the top of the package",
                                    hint=f"Put the model file ({names}) directly into `model/`.")
    if len(top) > rule.max_count:
        names = ", ".join(f"'{e.path}'" for e in top)
        for e in top:
            yield MODEL_SEVERAL.finding(
                e.path, f"{len(top)} model files at the top of the package ({names}); one model per package")


def _near_miss(name: str, wanted: str) -> bool:
    """``Customize_Service.py``, ``customize-service.py``, ``customize_services.py`` for ``customize_service.py``."""
    if name == wanted:
        return False
    a, b = name.lower().replace("-", "_").replace(" ", "_"), wanted.lower()
    if a == b:
        return True
    stem_a, _, ext_a = a.rpartition(".")
    stem_b, _, ext_b = b.rpartition(".")
    if ext_a != ext_b or not stem_a:
        return False
    common = sum((Counter(stem_a) & Counter(stem_b)).values())
    if 2.0 * common / (len(stem_a) + len(stem_b)) < 0.9:
        return False  # SequenceMatcher.quick_ratio(), the bound of ratio(): no need to compare (or import difflib)
    import difflib

    return difflib.SequenceMatcher(None, stem_a, stem_b).ratio() >= 0.9


def _check_named_file(
    package: Package, rule: FileRule, misplaced: Rule, duplicate: Rule, misnamed: Rule
) -> tuple[Entry | None, list[Finding]]:
    findings: list[Finding] = []
    wanted = rule.names[0]
    exact = [e for e in package.kept() if e.name == wanted]
    files = [e for e in exact if e.kind is EntryKind.FILE]
    top = next((e for e in files if e.at_top), None)
    for e in exact:
        if e.kind is not EntryKind.FILE and e.kind is not EntryKind.SYMLINK:
            findings.append(misnamed.finding(e.path, f"'{e.path}' is a {e.kind.value}, not a file"))
    for e in files:
        if e is top:
            continue
        if top is not None:
            findings.append(duplicate.finding(
                e.path, f"another '{wanted}' besides the one at the top of the package"))
        else:
            findings.append(misplaced.finding(e.path, f"'{e.path}' is not at the top of the package"))
    for e in package.kept():
        if e.kind in (EntryKind.FILE, EntryKind.DIR) and _near_miss(e.name, wanted):
            # With the real file in place a near-miss is a stray copy, not a lost script.
            severity = Severity.WARNING if top is not None else None
            findings.append(misnamed.finding(
                e.path, f"'{e.name}' is not recognised: the name must be exactly '{wanted}'",
                hint=f"Rename it to '{wanted}' (or remove it if it is a stray copy).", severity=severity))
    return top, findings


def _check_nested_packages(package: Package, rules: LayoutRules) -> Iterable[Finding]:
    by_folder: dict[str, set[str]] = {}
    for e in package.kept():
        if e.at_top:
            continue
        if e.kind is EntryKind.DIR and e.name == rules.root_name:
            yield NESTED_PACKAGE.finding(e.path, f"'{e.path}' is another `{rules.root_name}` folder")
            continue
        if e.kind is not EntryKind.FILE:
            continue
        roles = by_folder.setdefault(e.parent, set())
        if rules.model_file.matches(e.name):
            roles.add("model")
        elif e.name in rules.inference_script.names or e.name in rules.config_file.names:
            roles.add("service")
    for folder, roles in sorted(by_folder.items()):
        inside_model = any(part == rules.root_name for part in folder.split("/"))
        if roles == {"model", "service"} and not inside_model:
            yield NESTED_PACKAGE.finding(
                folder, f"'{folder}' holds its own model file and inference script or config.json")


def _check_python_packages(
    package: Package, python_files: tuple[Entry, ...], runtime: Runtime
) -> tuple[tuple[str, ...], list[Finding]]:
    findings: list[Finding] = []
    folders = sorted({e.parent for e in python_files if not e.at_top})
    inits = {e.parent for e in python_files if e.name == "__init__.py"}
    packages = sorted({f.split("/")[0] for f in folders if f.split("/")[0] in inits})
    if runtime.python_version < (3, 0):
        for folder in folders:
            if folder not in inits:
                findings.append(NO_INIT.finding(
                    folder, f"'{folder}' holds .py files but no __init__.py; Python {runtime.python} "
                    "cannot import from it"))
    return tuple(packages), findings
