"""The optional deep check: load the model file with real torch, in a subprocess, and compare.

The parent never imports torch. A child interpreter (``sys.executable -I``) runs
``torch.load(path, weights_only=True, map_location="cpu")`` (memory-mapped for zip files), lists every
tensor it finds with the same naming as the static reader, and prints JSON. The child is killed on
timeout. Any disagreement with the static facts is a finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.inspect.torchfile import TorchFileFacts

__all__ = ["RULES", "deep_check"]

NO_TORCH = Rule(
    "MOD030", "Deep check needs torch", Severity.INFO,
    what="The deep check loads the model file with torch, which is not installed here.",
    why="Without it only the static inspection ran.",
    fix="Install the torch extra (`pip install modeltemplates[torch]`) to run the deep check.",
    basis=Basis.NOT_CHECKED,
    evidence='Informational: the optional deep check needs the torch extra.',
)
LOAD_FAILED = Rule(
    "MOD031", "torch.load(weights_only=True) refuses the file", Severity.WARNING,
    what="The installed torch could not load the file with `weights_only=True`.",
    why="A pure weights file loads with weights_only=True; one that does not holds objects beyond tensors "
    "(or is damaged), which the platform's torch may also reject.",
    fix="Save `model.state_dict()` with torch.save.",
    basis=Basis.ADVICE,
    evidence="torch.load(weights_only=True) (torch 2.x) refuses anything beyond tensors and plain data; the "
        "template's torch loads without that restriction.",
)
MISMATCH = Rule(
    "MOD032", "Deep check disagrees with the static inspection", Severity.ERROR,
    what="torch found tensors (names, dtypes, shapes) different from what the file's metadata declares.",
    why="Either the file is crafted to look different to inspectors than to torch, or it is damaged.",
    fix="Re-create the file with torch.save from a trusted model.",
    basis=Basis.SAFETY,
    evidence="A file that the real torch reads differently from a careful static reader is crafted or damaged "
        "(differential check).",
)
TIMEOUT = Rule(
    "MOD033", "Deep check timed out", Severity.WARNING,
    what="Loading the file with torch did not finish within the time limit.",
    why="A weights file loads in seconds; a much slower load needs a look (very large file or crafted pickle).",
    fix="Raise the deep-check timeout for very large files, or inspect the file.",
    basis=Basis.NOT_CHECKED,
    evidence="Settings.deep_timeout is this tool's bound.",
)

RULES: tuple[Rule, ...] = (NO_TORCH, LOAD_FAILED, MISMATCH, TIMEOUT)

#: The child's program: load, walk the result like the static reader does, print JSON.
_CHILD = r"""
import json, sys
try:
    import torch
except Exception as exc:
    print(json.dumps({"status": "no-torch", "error": repr(exc)})); sys.exit(0)
path, use_mmap = sys.argv[1], sys.argv[2] == "1"
try:
    obj = torch.load(path, weights_only=True, mmap=use_mmap, map_location="cpu")
except Exception as exc:
    print(json.dumps({"status": "error", "error": f"{type(exc).__name__}: {exc}"[:2000]})); sys.exit(0)
out, seen, stack = [], set(), [(obj, ())]
while stack and len(out) < 1000000:
    value, path_ = stack.pop()
    if isinstance(value, torch.Tensor):
        out.append([".".join(path_) or "<root>", str(value.dtype).replace("torch.", ""), list(value.shape)])
        continue
    if id(value) in seen or len(path_) > 64:
        continue
    seen.add(id(value))
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        items = []
    stack.extend((v, path_ + (k,)) for k, v in reversed(items))
print(json.dumps({"status": "ok", "tensors": out}))
"""


#: How to get what the deep check needs, as the messages say it.
INSTALL_TORCH = "pip install 'modeltemplates[torch]'"


def torch_unavailable(python: str | None = None) -> str | None:
    """``None`` when ``python`` (the interpreter the deep check runs: this one by default) can import
    torch; else what is missing and the command that installs it. torch is looked up, not imported."""
    exe = python or sys.executable
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else 3)"
    try:
        done = subprocess.run([exe, "-I", "-c", probe], capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the deep check cannot start {exe}: {exc}"
    if done.returncode == 0:
        return None
    return (f"the deep check needs torch, which {exe} cannot import: install it with {INSTALL_TORCH} "
            "(or allow the check to be skipped: --deep-optional, or deep='optional')")


def deep_check(
    file_path: str, facts: TorchFileFacts | Mapping[str, Any] | None, timeout: float = 60.0, *, path: str = ""
) -> tuple[Finding, ...]:
    """Load ``file_path`` with torch in a subprocess and compare with the static ``facts``.

    ``facts`` is a :class:`TorchFileFacts` or its ``to_dict()``; ``path`` is the package-relative path
    used in findings (default: ``file_path``).
    """
    where = path or file_path
    data = facts.to_dict() if isinstance(facts, TorchFileFacts) else dict(facts or {})
    use_mmap = "1" if data.get("format") == "zip" else "0"
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD, file_path, use_mmap],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (TIMEOUT.finding(where, f"torch.load did not finish within {timeout:g} s (the child was killed)"),)
    except OSError as exc:
        return (LOAD_FAILED.finding(where, f"could not start the deep-check interpreter: {exc}"),)
    try:
        result = json.loads(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return (LOAD_FAILED.finding(where, f"the deep-check interpreter failed: {tail[0][:500]}"),)
    status = result.get("status")
    if status == "no-torch":
        return (NO_TORCH.finding(where, "torch is not importable here; the deep check was skipped"),)
    if status != "ok":
        return (LOAD_FAILED.finding(where, f"torch.load(weights_only=True) failed: {result.get('error')}"),)
    return tuple(_compare(where, data, result.get("tensors", [])))


def _compare(where: str, data: Mapping[str, Any], loaded: list[list[Any]]) -> list[Finding]:
    static = {t["name"]: (t["dtype"], list(t["shape"])) for t in data.get("tensors", [])}
    real = {name: (dtype, list(shape)) for name, dtype, shape in loaded}
    out = []
    for name in sorted(static.keys() - real.keys()):
        out.append(MISMATCH.finding(where, f"tensor {name!r} is in the file's metadata but torch did not load it"))
    for name in sorted(real.keys() - static.keys()):
        out.append(MISMATCH.finding(where, f"torch loaded tensor {name!r}, which the metadata does not show"))
    for name in sorted(static.keys() & real.keys()):
        if static[name] != real[name]:
            (sd, ss), (rd, rs) = static[name], real[name]
            out.append(
                MISMATCH.finding(where, f"tensor {name!r}: metadata says {sd}{ss}, torch loaded {rd}{rs}")
            )
    return out
