"""What validating a package in a bucket costs, beside a plain full download with the same client.

    python bench/bench_remote.py [--sizes 1G,4G] [--formats legacy,zip] [--tensors 8] [--delay-ms 0]
                                 [--workdir DIR]

Starts the test suite's disk-backed S3-compatible server (tests/s3disk.py, on 127.0.0.1; it counts
every request and every response byte it sends), writes a package per size, torch format and
tensor count straight into its bucket folder (a real ``torch.save`` state_dict of float32 tensors,
legacy and zip), then prints for each: the wall time, the bench process's CPU time (user+sys; the
server's threads run in the same process), the bytes sent by the server and the number of requests
of ``validate("obs://...")``, and the same figures for downloading the model file in full with the
same client (s3fs ``get_file``). ``--delay-ms`` makes the server wait before answering each object
GET, as a far server's round trip would. Needs the test extra (s3fs, numpy) and torch. It prints
figures; it never asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZES = {"64M": 64 << 20, "256M": 256 << 20, "1G": 1 << 30, "4G": 4 << 30}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1G,4G", help="model sizes (64M, 256M, 1G, 4G)")
    parser.add_argument("--formats", default="legacy,zip", help="torch formats (legacy, zip)")
    parser.add_argument("--tensors", default="8", help="tensor counts, comma-separated (e.g. 8,160)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="server pause before each object GET")
    parser.add_argument("--no-download", action="store_true", help="skip the full downloads")
    parser.add_argument("--workdir", help="where the served folder is made (default: the system temp dir)")
    args = parser.parse_args()

    import fsspec
    import s3fs

    import modeltemplates
    from tests.s3disk import DiskS3Server
    from tests.s3server import ACCESS_KEY, SECRET_KEY, big_torch_file
    from tests.test_remote import build_package

    os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = ACCESS_KEY, SECRET_KEY
    work = Path(tempfile.mkdtemp(prefix="bench-remote-", dir=args.workdir))
    server = DiskS3Server(work)
    bucket = server.bucket_dir("mt-beijing")
    template = modeltemplates.get_template("pytorch-py27")
    print(f"server: tests/s3disk.py on {server.endpoint} (files from disk, ranges by sendfile); client: s3fs "
          f"{s3fs.__version__}, fsspec {fsspec.__version__}; {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; server delay {args.delay_ms:g} ms per object GET")
    # Imports and the first connection are not what is measured: a small package first.
    build_package(bucket / "warm-up")
    template.validate("obs://mt-beijing/warm-up/model", region="cn-north-4", endpoint_url=server.endpoint)
    server.delay = args.delay_ms / 1000
    print(f"{'model':<22} {'operation':<14} {'wall s':>8} {'cpu s':>7} {'bytes':>15} {'requests':>9}")
    try:
        for size_name in args.sizes.split(","):
            for tensors in (int(t) for t in args.tensors.split(",")):
                for fmt in args.formats.split(","):
                    run(server, template, helpers=(big_torch_file, build_package), bucket=bucket,
                        size_name=size_name, tensors=tensors, fmt=fmt, download=not args.no_download)
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def run(server: Any, template: Any, *, helpers: tuple[Any, Any], bucket: Path, size_name: str, tensors: int,
        fmt: str, download: bool) -> None:
    big_torch_file, build_package = helpers
    import fsspec

    name = f"{size_name}-{tensors}-{fmt}"
    folder = build_package(bucket / name)
    model = folder / "resnet.pth"
    big_torch_file(model, SIZES[size_name], legacy=fmt == "legacy", tensors=tensors)
    label = f"{size_name} {fmt} {tensors}t"

    server.counter.reset()
    t0, c0 = time.perf_counter(), cpu()
    report = template.validate(f"obs://mt-beijing/{name}/model", region="cn-north-4", endpoint_url=server.endpoint)
    wall, used = time.perf_counter() - t0, cpu() - c0
    c = server.counter
    errors = ",".join(sorted({f.rule for f in report.errors})) or "none"
    print(f"{label:<22} {'validate':<14} {wall:8.2f} {used:7.2f} {c.bytes_out:15,d} {c.requests:9d}"
          f"   errors: {errors}; at most {c.max_in_flight} requests at once")
    if download:
        fs = fsspec.filesystem("s3", endpoint_url=server.endpoint, skip_instance_cache=True)
        target = bucket.parent / "download.bin"
        server.counter.reset()
        t0, c0 = time.perf_counter(), cpu()
        fs.get_file(f"mt-beijing/{name}/model/resnet.pth", str(target))
        wall, used = time.perf_counter() - t0, cpu() - c0
        c = server.counter
        print(f"{label:<22} {'full download':<14} {wall:8.2f} {used:7.2f} {c.bytes_out:15,d} {c.requests:9d}")
        target.unlink()
    shutil.rmtree(bucket / name)


if __name__ == "__main__":
    main()
