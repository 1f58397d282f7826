"""What validating a package in a bucket costs, beside a plain full download with the same client.

    python bench/bench_remote.py [--sizes 1G,4G] [--workdir DIR]

Starts the test suite's S3-compatible server (moto, on 127.0.0.1) behind its counting proxy,
builds a package per size and torch format (a real ``torch.save`` state_dict of 8 float32
tensors, legacy and zip), uploads it, then prints for each: the wall time, the bytes sent by the
server and the number of requests of ``validate("s3://...")``, and the same three figures for
downloading the model file in full with the same client (s3fs ``get_file``). Needs the test extra
(moto[server], s3fs) and torch. It prints figures; it never asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZES = {"64M": 64 << 20, "256M": 256 << 20, "1G": 1 << 30, "4G": 4 << 30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1G,4G", help="model sizes (64M, 256M, 1G, 4G)")
    parser.add_argument("--workdir", help="where packages are built (default: a temp dir beside the repository)")
    parser.add_argument("--formats", default="legacy,zip", help="torch formats (legacy, zip)")
    args = parser.parse_args()

    import fsspec

    import modeltemplates
    from tests.s3server import ACCESS_KEY, SECRET_KEY, big_torch_file, start, upload_big
    from tests.test_remote import build_package

    os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = ACCESS_KEY, SECRET_KEY
    work = Path(tempfile.mkdtemp(prefix="bench-remote-", dir=args.workdir or REPO.parent))
    server_iter = start()
    s3 = next(server_iter)
    template = modeltemplates.get_template("pytorch-py27")
    print(f"server: moto on 127.0.0.1 behind the counting proxy {s3.endpoint}; client: s3fs "
          f"{__import__('s3fs').__version__}, fsspec {fsspec.__version__}")
    print(f"{'model':<14} {'operation':<16} {'wall s':>8} {'bytes':>14} {'requests':>9}")
    try:
        for size_name in args.sizes.split(","):
            size = SIZES[size_name]
            for fmt in args.formats.split(","):
                legacy = fmt == "legacy"
                folder = build_package(work / f"{size_name}-{fmt}")
                model = folder / "resnet.pth"
                model.unlink()
                big_torch_file(model, size, legacy=legacy)
                prefix = f"bench/{size_name}-{fmt}/model"
                for p in sorted(folder.rglob("*")):
                    if p.is_file():
                        upload_big(s3, p, "mt-beijing", f"{prefix}/{p.relative_to(folder).as_posix()}")
                shutil.rmtree(folder.parent)
                label = f"{size_name} {fmt}"

                s3.proxy.counter.reset()
                t0 = time.perf_counter()
                report = template.validate(f"obs://mt-beijing/{prefix}", region="cn-north-4", endpoint_url=s3.endpoint)
                wall = time.perf_counter() - t0
                c = s3.proxy.counter
                print(f"{label:<14} {'validate':<16} {wall:8.2f} {c.bytes_out:14,d} {c.requests:9d}"
                      f"   ({len(report.errors)} errors)")

                fs = fsspec.filesystem("s3", endpoint_url=s3.endpoint, skip_instance_cache=True)
                target = work / "download.bin"
                s3.proxy.counter.reset()
                t0 = time.perf_counter()
                fs.get_file(f"mt-beijing/{prefix}/resnet.pth", str(target))
                wall = time.perf_counter() - t0
                c = s3.proxy.counter
                print(f"{label:<14} {'full download':<16} {wall:8.2f} {c.bytes_out:14,d} {c.requests:9d}")
                target.unlink()
                s3.client().delete_object(Bucket="mt-beijing", Key=f"{prefix}/resnet.pth")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server_iter.close()


if __name__ == "__main__":
    main()
