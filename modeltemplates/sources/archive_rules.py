"""Rules about archives (ARC...): what unpacking an archive would get wrong, and how to upload it."""

from __future__ import annotations

from modeltemplates.findings import Basis, Rule, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

_UNPACK_RISK = ("A name like that writes outside the folder it is unpacked into (\"zip slip\"): a safety "
                "risk on the machine that unpacks it, and the file is not where the package expects it.")

ESCAPES = Rule(
    "ARC001", "Archive member escapes the unpack folder", E,
    what="A member name that is absolute (`/etc/x`), has a drive letter (`C:`), or climbs out with `../`.",
    why=_UNPACK_RISK,
    fix="Rebuild the archive from the package folder with relative names (e.g. `cd parent && zip -r pkg.zip model`).",
    basis=Basis.SAFETY,
    evidence=(
        'The zip and tar formats store names as given; unpacking tools that do not refuse `..` or absolute '
        'names write outside the target folder (CVE-class "zip slip"). Python\'s own tarfile documents the '
        'risk (extraction filters, PEP 706).'
    ),
)
BACKSLASH = Rule(
    "ARC002", "Backslash in an archive member name", E,
    what="A member name containing `\\` (archives made by some Windows tools).",
    why="Zip and tar names separate folders with `/`. Unpacked on Linux, `model\\customize_service.py` is "
    "one file with a backslash in its name at the top, so the platform does not find the inference script; "
    "on Windows it may climb out of the folder (`..\\`).",
    fix="Rebuild the archive with a tool that writes `/` (Python's zipfile, 7-Zip, `tar`).",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        'The zip specification (APPNOTE 4.4.17) requires forward slashes; Linux unzip keeps a backslash as '
        'part of the name, so `model\\customize_service.py` is not the inference script the platform looks for'
        ' (modelarts_23_0093: the script must be model/customize_service.py).'
    ),
)
DUPLICATE = Rule(
    "ARC003", "Duplicate archive member", E,
    what="Two members with the same normalised name, or a name that is both a file and a folder.",
    why="Which copy survives unpacking depends on the tool, so what you checked is not necessarily what "
    "the platform gets; only the first copy is checked.",
    fix="Rebuild the archive from the package folder instead of appending to an old one.",
    basis=Basis.SAFETY,
    evidence=(
        'Zip and tar allow the same name twice; `unzip` asks or overwrites, `tar` keeps the last copy, '
        "Python's zipfile reads the last: the file checked is not the file unpacked."
    ),
)
LINK_ESCAPES = Rule(
    "ARC004", "Archive link points outside the archive", E,
    what="A symbolic link whose target is absolute or climbs out of the unpack folder, or a hard link to a "
    "member that is not a file of the archive.",
    why="Unpacking it creates a link to a file outside the package (or fails): a safety risk, and object "
    "storage has no links, so the file the package needs is not uploaded.",
    fix="Replace the link with the file itself before archiving (`tar --dereference`, `zip` without `--symlinks`).",
    basis=Basis.SAFETY,
    evidence=(
        'A link member pointing out of the unpack folder lets an archive write or expose files elsewhere (PEP'
        ' 706 extraction filters refuse such links for the same reason).'
    ),
)
HARDLINK = Rule(
    "ARC005", "Hard link in an archive", W,
    what="A tar member that is a hard link to another member.",
    why="It is checked as a copy of the file it names, but some unpacking and upload tools drop hard links, "
    "leaving the file missing from the folder you upload.",
    fix="Archive with `tar --hard-dereference`, or upload the folder.",
    basis=Basis.ADVICE,
    evidence=(
        'tar stores a second name of a file as a hard-link member; OBS has no links, so the uploaded folder '
        'holds the file only if the unpacking and upload tools copy it.'
    ),
)
SPECIAL = Rule(
    "ARC006", "Device, pipe or special member in an archive", E,
    what="A tar or zip member that is a character or block device, a FIFO or a socket.",
    why="It is not a file: unpacking it creates a device node (a safety risk when unpacked as root) or "
    "fails; object storage cannot hold it. It is never opened.",
    fix="Remove it and rebuild the archive from the package folder.",
    basis=Basis.SAFETY,
    evidence=(
        "Device and FIFO members create special files when unpacked (as root, device nodes); PEP 706's 'data'"
        ' filter refuses them.'
    ),
)
ENCRYPTED = Rule(
    "ARC007", "Encrypted zip member", E,
    what="A zip member protected by a password.",
    why="The platform imports files as they are; an encrypted model file or script cannot be read there, "
    "and this tool cannot check it either.",
    fix="Rebuild the archive without a password (protect the bucket with access control instead).",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "An encrypted member's bytes are not the file; the platform reads files as uploaded "
        "(modelarts_23_0091: the model package is the folder's files) and has no password."
    ),
)
TOO_LARGE = Rule(
    "ARC008", "Archive unpacks to too much", E,
    what="The members add up to more than the archive limit (`ArchiveLimits.max_total_bytes`, 64 GiB by default).",
    why="A size bomb fills the disk of whoever unpacks it; a real package that large cannot be imported.",
    fix="Check the archive's content; raise the limit in `Settings(archive=ArchiveLimits(...))` if it is real.",
    basis=Basis.SAFETY,
    evidence=(
        'Size bombs: a small archive that unpacks to more than a disk holds; the bound is '
        'ArchiveLimits.max_total_bytes.'
    ),
)
RATIO = Rule(
    "ARC009", "Archive member compressed beyond belief", E,
    what="A compressed member (or a compressed tar so far) that unpacks to more than `max_ratio` (200) times "
    "its packed size, above 16 MiB.",
    why="Model weights and code do not compress that well; a decompression bomb does. It is not read.",
    fix="Rebuild the archive from the real files; raise `ArchiveLimits.max_ratio` if the data is truly that regular.",
    basis=Basis.SAFETY,
    evidence=(
        'Decompression bombs reach ratios of thousands; deflate on real weights or code stays far below 200 '
        '(float weights barely compress).'
    ),
)
TOO_MANY = Rule(
    "ARC010", "Too many archive members", W,
    what="More members than `ArchiveLimits.max_members` (100,000).",
    why="Indexing an archive costs memory per member; only the first ones are checked, so the result is partial.",
    fix="Leave generated files out of the package, or raise the limit.",
    basis=Basis.NOT_CHECKED,
    evidence=(
        'A limit of this tool (ArchiveLimits.max_members), set so that indexing stays bounded in memory; '
        'members past it are not checked.'
    ),
)
TOP_FOLDER = Rule(
    "ARC011", "Archive top folder is not `model/`", W,
    what="The archive does not hold exactly one top-level folder named `model` with the package in it.",
    why="The platform imports a folder named `model`; unpacked as it is, this archive does not give one, so "
    "the folder you would select is the wrong one.",
    fix="Rebuild the archive so that it holds `model/` at its top (`cd parent && zip -r pkg.zip model`).",
    basis=Basis.ADVICE,
    evidence=(
        'The template page: the model package must be a folder named `model` (modelarts_23_0092); an archive '
        'with another top folder unpacks to a folder you must rename or select correctly.'
    ),
)
NESTED = Rule(
    "ARC012", "Archive inside the package", W,
    what="A `.zip`, `.tar*`, `.7z` or `.rar` file inside the package (model files, which are zips, excepted).",
    why="The platform copies the package as it is and never unpacks archives in it; code or weights inside "
    "one are not importable unless your inference code unpacks them at start-up.",
    fix="Unpack it into the package folder, or make sure customize_service.py unpacks it.",
    basis=Basis.ADVICE,
    evidence=(
        'The platform copies the package folder to the service as it is (modelarts_23_0091) and does not '
        'unpack archives inside it.'
    ),
)
TRUNCATED = Rule(
    "ARC013", "Truncated or damaged archive", E,
    what="The archive ends early or a member header cannot be read.",
    why="What follows the damage is not checked, and the platform never sees those files either.",
    fix="Download or build the archive again and compare its size and checksum with the original.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        'A truncated archive unpacks only up to the damage (or not at all): files after it are missing from '
        'what gets uploaded.'
    ),
)
ARCHIVE_GIVEN = Rule(
    "ARC014", "Archive given: the platform imports a folder", INFO,
    what="The package was read from an archive.",
    why="ModelArts imports a model from an OBS folder, not from an archive: unpack it and upload the `model` "
    "folder, then select that folder.",
    fix="Unpack the archive and upload its `model` folder (see the command in the finding).",
    basis=Basis.ADVICE,
    evidence=(
        'Template page: "The template input is the PyTorch-based model package stored on OBS"; import selects'
        ' an OBS folder, not an archive.'
    ),
)

RULES = (ESCAPES, BACKSLASH, DUPLICATE, LINK_ESCAPES, HARDLINK, SPECIAL, ENCRYPTED, TOO_LARGE, RATIO,
         TOO_MANY, TOP_FOLDER, NESTED, TRUNCATED, ARCHIVE_GIVEN)

#: Findings about where the package was read from, not about the package: left out of manifest counts.
SOURCE_RULES = frozenset({ARCHIVE_GIVEN.id})


def unpack_command(archive_name: str, kind: str) -> str:
    """The command that unpacks an archive of ``kind`` (``zip``, ``tar``, ``tar.gz``, ...)."""
    return f"unzip ../{archive_name}" if kind == "zip" else f"tar xf ../{archive_name}"


def pack_command(kind: str) -> str:
    """The command that builds an archive of ``kind`` holding ``model/`` at its top."""
    if kind == "zip":
        return "cd parent && zip -r pkg.zip model"
    flag = {"tar.gz": "z", "tar.bz2": "j", "tar.xz": "J"}.get(kind, "")
    return f"cd parent && tar c{flag}f pkg.{kind} model"


def upload_hint(archive_name: str, root_key: str, kind: str = "zip") -> str:
    folder = root_key or "<folder you unpacked into>"
    return (f"Unpack it (`mkdir pkg && cd pkg && {unpack_command(archive_name, kind)}`), then "
            f"upload the folder: `obsutil cp -r -f {folder} obs://<bucket>/<path>/` and select "
            f"obs://<bucket>/<path>/{folder.rpartition('/')[2] if root_key else 'model'} when importing.")


def top_hint(root_key: str, kind: str = "zip") -> str:
    if root_key:
        return (f"Upload and select the folder '{root_key}' (renamed to `model` if it is not), or rebuild the "
                "archive so that `model/` is its only top-level folder.")
    return ("The files are at the archive's top: unpack them into a folder named `model`, upload that folder "
            f"and select it; or rebuild the archive with `{pack_command(kind)}`.")
