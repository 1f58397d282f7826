"""Terminal manners on a real pseudo-terminal: colour only on a terminal (NO_COLOR, FORCE_COLOR),
the progress bar on standard error, and several packages per manifest run."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from modeltemplates.cli import main
from tests.builders import PackageBuilder

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env.update({"TERM": "xterm", "PYTHONPATH": str(ROOT), "MODELTEMPLATES_CACHE": "off", **extra})
    return env


def on_pty(args: list[str], *, env: dict[str, str], tty: str) -> tuple[int, bytes, bytes]:
    """Run the command with ``tty`` (``stdout`` or ``stderr``) on a pseudo-terminal; the other
    stream is a pipe. Returns the status, what the terminal showed and what the pipe got."""
    master, slave = pty.openpty()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, tty: slave}
    proc = subprocess.Popen([sys.executable, "-m", "modeltemplates", *args], stdin=subprocess.DEVNULL,
                            env=env, **streams)  # type: ignore[call-overload]
    os.close(slave)
    shown = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            pytest.fail("no output from the command for 60 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not data:
            break
        shown += data
    os.close(master)
    pipe = proc.stderr if tty == "stdout" else proc.stdout
    assert pipe is not None
    other = pipe.read()
    return proc.wait(timeout=60), bytes(shown), other


def broken(pkg: PackageBuilder) -> PackageBuilder:
    pkg.valid()
    pkg.write("customize_service.py", "x = f'{1}'\n")
    return pkg


def test_colour_on_a_terminal_only(pkg: PackageBuilder) -> None:
    broken(pkg)
    args = ["validate", "-t", "pytorch-py27", str(pkg.root)]
    code, shown, _ = on_pty(args, env=_env(), tty="stdout")
    assert code == 1 and b"\x1b[1;31merror\x1b[0m" in shown and b"\x1b[1;31mFAILED" in shown
    _, shown, _ = on_pty(args, env=_env(NO_COLOR="1"), tty="stdout")
    assert b"\x1b[" not in shown and b"error SRC001" in shown
    piped = subprocess.run([sys.executable, "-m", "modeltemplates", *args], capture_output=True, env=_env(),
                           timeout=120, check=False)
    assert b"\x1b[" not in piped.stdout and b"error SRC001" in piped.stdout
    forced = subprocess.run([sys.executable, "-m", "modeltemplates", *args], capture_output=True,
                            env=_env(FORCE_COLOR="1"), timeout=120, check=False)
    assert b"\x1b[1;31merror" in forced.stdout


def test_progress_bar_on_a_terminal(pkg: PackageBuilder, tmp_path: Path) -> None:
    pkg.valid()
    pkg.write("weights.bin", os.urandom(1 << 20) * 8)  # 8 MiB to hash
    target = tmp_path / "m.json"
    args = ["manifest", str(pkg.root), "-o", str(target)]
    code, shown, _ = on_pty(args, env=_env(MODELTEMPLATES_PROGRESS_DELAY="0"), tty="stderr")
    text = shown.decode("utf-8", "replace")
    assert code == 0, text
    assert f"{tmp_path.name}: hashing:" in text and "%|" in text and "B/s" in text and "/8.00M" in text
    assert "manifest written to" in text and json.loads(target.read_text())["files"]
    # the default delay keeps a quick run quiet; a pipe never gets a bar
    _, shown, _ = on_pty(args, env=_env(), tty="stderr")
    assert b"%|" not in shown
    piped = subprocess.run([sys.executable, "-m", "modeltemplates", *args], capture_output=True,
                           env=_env(MODELTEMPLATES_PROGRESS_DELAY="0"), timeout=120, check=False)
    assert b"%|" not in piped.stderr and b"manifest written" in piped.stderr


def test_no_tqdm_at_import() -> None:
    code = "import sys, modeltemplates, modeltemplates.cli; print('tqdm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False"


def test_manifest_of_several_packages_into_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = PackageBuilder(tmp_path / "resnet" / "model").valid()
    b = PackageBuilder(tmp_path / "other" / "resnet" / "model").valid()
    bad = broken(PackageBuilder(tmp_path / "bad" / "model"))
    out = tmp_path / "manifests"
    code = main(["manifest", "-t", "pytorch-py27", str(a.root), str(b.root), str(bad.root), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["resnet-2.manifest.json", "resnet.manifest.json"]
    assert "no manifest written for" in err and "SRC001" in err
    assert main(["manifest", str(a.root), str(b.root)]) == 2
    assert "need -o DIR" in capsys.readouterr()[1]
