"""What a file is, judged from its first bytes: the words a user needs when it is not what its name says.

:func:`sniff` looks at the head of a file (a few hundred bytes) and names its kind by content alone:
the formats torch, numpy and pickle load (which the safety scan must read whatever the file is
called), and the usual suspects found in a model file's place (a Git LFS pointer, an HTML error
page, an HDF5 or safetensors file, an archive, plain text).
"""

from __future__ import annotations

import ast
import struct

import attrs

#: How many bytes :func:`sniff` wants to see (it copes with fewer).
HEAD_BYTES = 512

#: The first bytes of a legacy ``torch.save`` file: PROTO 2, LONG1 of 10 bytes, the magic number.
TORCH_LEGACY_HEAD = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

_NPY_MAGIC = b"\x93NUMPY"


@attrs.frozen
class FileKind:
    """A file's kind: ``code`` for programs, ``what`` in words ("a 37-byte text file")."""

    code: str
    what: str

    @property
    def loadable(self) -> bool:
        """Whether torch.load, pickle.load or np.load(allow_pickle=True) may run a pickle in it."""
        return self.code in ("pickle", "torch-legacy", "zip", "npy-object")


def _size(size: int) -> str:
    return f"{size}-byte" if size < 10_000 else f"{size / 1e6:.1f} MB" if size < 10**9 else f"{size / 1e9:.1f} GB"


def _article(number: str) -> str:
    """'an' before numbers spoken with a vowel sound: 8, 11, 18, 80-89, 800..., 11,000, 18,000 ..."""
    digits = "".join(c for c in number if c.isdigit() or c == ".").partition(".")[0]
    if digits.startswith("8") or (digits[:2] in ("11", "18") and len(digits) % 3 == 2):
        return "an"
    return "a"


def sniff(head: bytes, size: int) -> FileKind:
    """The kind of a file of ``size`` bytes whose first bytes are ``head``."""
    n = _size(size)
    kind = _sniff(head, size, n)
    if kind.what.startswith(f"a {n}"):
        kind = FileKind(kind.code, f"{_article(n)} {kind.what[2:]}")
    return kind


def _sniff(head: bytes, size: int, n: str) -> FileKind:
    if size == 0 or not head:
        return FileKind("empty", "an empty file (0 bytes)")
    if head.startswith(TORCH_LEGACY_HEAD):
        return FileKind("torch-legacy", f"a {n} legacy torch.save file")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return FileKind("zip", f"a {n} zip archive")
    if head[0] == 0x80 and len(head) > 1 and 1 <= head[1] <= 5:
        return FileKind("pickle", f"a {n} pickle (protocol {head[1]})")
    if head.startswith(_NPY_MAGIC):
        return _npy(head, n)
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return FileKind("hdf5", f"a {n} HDF5 file (Keras / TensorFlow .h5 weights)")
    if head.startswith(b"\x1f\x8b"):
        return FileKind("gzip", f"a {n} gzip-compressed file")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff")):
        return FileKind("image", f"a {n} image file")
    if len(head) >= 8 and head[:4] == b"\x7fELF":
        return FileKind("binary", f"a {n} executable (ELF)")
    if _is_safetensors(head, size):
        return FileKind("safetensors", f"a {n} safetensors file")
    text = _text(head)
    if text is not None:
        stripped = text.lstrip()
        if stripped.startswith("version https://git-lfs.github.com/spec/"):
            return FileKind("git-lfs", f"a {n} Git LFS pointer (the real file was never downloaded)")
        lower = stripped[:100].lower()
        if lower.startswith(("<!doctype html", "<html", "<?xml")):
            return FileKind("html", f"a {n} HTML/XML page (often a failed download)")
        if stripped[:1] in "{[" and stripped:
            return FileKind("json", f"a {n} JSON text file")
        return FileKind("text", f"a {n} text file")
    return FileKind("unknown", f"a {n} file of unknown format")


def _text(head: bytes) -> str | None:
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return None
        text = head[: exc.start].decode("utf-8")
    printable = sum(1 for c in text if c.isprintable() or c in "\t\r\n\f")
    return text if printable >= 0.95 * max(len(text), 1) else None


def _is_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 0 < length <= size - 8 and head[8:9] == b"{" and head[9:10] in (b'"', b"}")


def npy_header(head: bytes) -> tuple[dict[str, object], int] | None:
    """The header dict of a ``.npy`` file and the offset where its data starts (None when malformed)."""
    if not head.startswith(_NPY_MAGIC) or len(head) < 10:
        return None
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3) and len(head) >= 12:
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    else:
        return None
    raw = head[start : start + length]
    if len(raw) < length:
        return None
    try:
        header = ast.literal_eval(raw.decode("latin-1").strip())  # a literal only: never evaluates code
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(header, dict):
        return None
    return header, start + length


def npy_holds_objects(header: dict[str, object]) -> bool:
    """Whether the array's dtype holds Python objects (then its data is a pickle)."""
    descr = header.get("descr")
    return "O" in repr(descr)


def _npy(head: bytes, n: str) -> FileKind:
    parsed = npy_header(head)
    if parsed is not None and npy_holds_objects(parsed[0]):
        return FileKind("npy-object", f"a {n} NumPy .npy array of Python objects (its data is a pickle)")
    return FileKind("npy", f"a {n} NumPy .npy array")
