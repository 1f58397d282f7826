"""The optional deep check: load the model file with real torch, in a subprocess, and compare.

The parent never imports torch. A child interpreter (``sys.executable -I``) runs
``torch.load(path, weights_only=True, map_location="cpu")`` (memory-mapped for zip files), lists every
tensor it finds with the same naming as the static reader, and prints JSON. The child is killed on
timeout. Any disagreement with the static facts is a finding.

A file that is not on this machine's disk (a member of an archive, an object in a bucket) is streamed
to the child's standard input, which loads it from memory: nothing is unpacked to disk. Such a file
is loaded only up to ``stream_limit`` bytes (the child holds all of it); a larger one is MOD036.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

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

NOT_RUN = Rule(
    "MOD036", "Deep check not run on this file", Severity.WARNING,
    what="The deep check was asked for, but this model file could not be given to torch: it is in an archive "
    "or a bucket and larger than the streaming bound, or the template's deep check needs a file on disk.",
    why="Only the static inspection ran on this file; a requested check that did not run must not read as a pass.",
    fix="Raise Settings.deep_stream_limit, or run --deep on the unpacked folder.",
    basis=Basis.NOT_CHECKED,
    evidence="Settings.deep_stream_limit is this tool's bound (a streamed file is held in the child's memory).",
)

RULES: tuple[Rule, ...] = (NO_TORCH, LOAD_FAILED, MISMATCH, TIMEOUT, NOT_RUN)

#: Bytes the parent writes to the child at a time when it streams a file.
_CHUNK = 1 << 20

#: The child's program: load, walk the result like the static reader does, print JSON.
_CHILD = r"""
import json, sys
try:
    import torch
except Exception as exc:
    print(json.dumps({"status": "no-torch", "error": repr(exc)})); sys.exit(0)
path, use_mmap = sys.argv[1], sys.argv[2] == "1"
try:
    if path == "-":  # streamed by the parent: load from memory
        import io
        obj = torch.load(io.BytesIO(sys.stdin.buffer.read()), weights_only=True, map_location="cpu")
    else:
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
    file_path: str | Callable[[], BinaryIO],
    facts: TorchFileFacts | Mapping[str, Any] | None,
    timeout: float = 60.0,
    *,
    path: str = "",
) -> tuple[Finding, ...]:
    """Load the model file with torch in a subprocess and compare with the static ``facts``.

    ``file_path`` is the file on disk, or an opener of its bytes (a file in an archive or a bucket),
    which is streamed to the child and read once, start to end. ``facts`` is a
    :class:`TorchFileFacts` or its ``to_dict()``; ``path`` is the package-relative path used in
    findings (default: ``file_path``). Errors reading a streamed file propagate to the caller.
    """
    where = path or (file_path if isinstance(file_path, str) else "<stream>")
    data = facts.to_dict() if isinstance(facts, TorchFileFacts) else dict(facts or {})
    use_mmap = "1" if data.get("format") == "zip" else "0"
    streamed = not isinstance(file_path, str)
    argv = [sys.executable, "-I", "-c", _CHILD, "-" if streamed else str(file_path), use_mmap]
    try:
        stdout, stderr = _run(argv, None if isinstance(file_path, str) else file_path, timeout)
    except subprocess.TimeoutExpired:
        return (TIMEOUT.finding(where, f"torch.load did not finish within {timeout:g} s (the child was killed)"),)
    except _CannotStart as exc:
        return (LOAD_FAILED.finding(where, f"could not start the deep-check interpreter: {exc.__cause__}"),)
    try:
        result = json.loads(stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return (LOAD_FAILED.finding(where, f"the deep-check interpreter failed: {tail[0][:500]}"),)
    status = result.get("status")
    if status == "no-torch":
        return (NO_TORCH.finding(where, "torch is not importable here; the deep check was skipped"),)
    if status != "ok":
        return (LOAD_FAILED.finding(where, f"torch.load(weights_only=True) failed: {result.get('error')}"),)
    return tuple(_compare(where, data, result.get("tensors", [])))


class _CannotStart(Exception):
    """The child interpreter did not start (its OSError is the cause)."""


def _run(argv: list[str], feed: Callable[[], BinaryIO] | None, timeout: float) -> tuple[bytes, bytes]:
    """Run the child, streaming ``feed``'s bytes to its stdin when given; kill it after ``timeout``.

    Raises :class:`subprocess.TimeoutExpired`, :class:`_CannotStart`, or what reading ``feed`` raised.
    """
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL if feed is None else subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise _CannotStart() from exc
    out: dict[str, bytes] = {}
    failed: list[BaseException] = []

    def drain(name: str, stream: Any) -> None:
        out[name] = stream.read()

    def write() -> None:
        assert proc.stdin is not None and feed is not None
        try:
            with feed() as f:
                while chunk := f.read(_CHUNK):
                    proc.stdin.write(chunk)
        except (BrokenPipeError, ValueError):
            pass  # the child stopped reading (it failed or was killed): its output says why
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)
            proc.kill()
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    threads = [threading.Thread(target=drain, args=("out", proc.stdout), daemon=True),
               threading.Thread(target=drain, args=("err", proc.stderr), daemon=True)]
    if feed is not None:
        threads.append(threading.Thread(target=write, daemon=True))
    for t in threads:
        t.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        for t in threads:
            t.join()
        raise
    for t in threads:
        t.join()
    if failed:
        raise failed[0]
    return out.get("out", b""), out.get("err", b"")


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
