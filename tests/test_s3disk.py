"""The disk-backed S3 server of the tests (tests/s3disk.py) answers as S3 does for what the readers
send: listings (paged, with a delimiter, URL-encoded keys), ranges, ETag preconditions, errors."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.s3disk import DiskS3Server
from tests.s3server import ACCESS_KEY, SECRET_KEY

botocore_exceptions = pytest.importorskip("botocore.exceptions")


def client(server: DiskS3Server, key: str = ACCESS_KEY) -> Any:
    boto3 = pytest.importorskip("boto3")
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=key, aws_secret_access_key=SECRET_KEY,
                        region_name="cn-north-4")


@pytest.fixture
def tree(s3disk: DiskS3Server) -> Iterator[Path]:
    top = s3disk.bucket_dir("mt-beijing") / "s3disk"
    for name in ("a/1.txt", "a/2.txt", "b/c/3.txt", "d e+f.txt", "z.bin"):
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_bytes(name.encode() * 3)
    yield top
    shutil.rmtree(top)


def test_listing_pages_delimiter_and_encoded_names(s3disk: DiskS3Server, tree: Path) -> None:
    c = client(s3disk)
    pages = list(c.get_paginator("list_objects_v2").paginate(Bucket="mt-beijing", Prefix="s3disk/",
                                                              PaginationConfig={"PageSize": 2}))
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert keys == ["s3disk/a/1.txt", "s3disk/a/2.txt", "s3disk/b/c/3.txt", "s3disk/d e+f.txt", "s3disk/z.bin"]
    assert len(pages) == 3
    top = c.list_objects_v2(Bucket="mt-beijing", Prefix="s3disk/", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["s3disk/a/", "s3disk/b/"]
    assert [o["Key"] for o in top["Contents"]] == ["s3disk/d e+f.txt", "s3disk/z.bin"]
    paged = list(c.get_paginator("list_objects_v2").paginate(Bucket="mt-beijing", Prefix="s3disk/", Delimiter="/",
                                                              PaginationConfig={"PageSize": 1}))
    assert [e for p in paged for e in [x["Prefix"] for x in p.get("CommonPrefixes", [])]
            + [x["Key"] for x in p.get("Contents", [])]] == [
        "s3disk/a/", "s3disk/b/", "s3disk/d e+f.txt", "s3disk/z.bin"]
    assert c.get_bucket_location(Bucket="mt-singapore")["LocationConstraint"] == "ap-southeast-3"


def test_ranges_etags_and_errors(s3disk: DiskS3Server, tree: Path) -> None:
    c = client(s3disk)
    head = c.head_object(Bucket="mt-beijing", Key="s3disk/z.bin")
    assert head["ContentLength"] == 15 and head["ETag"].startswith('"')
    s3disk.counter.reset()
    part = c.get_object(Bucket="mt-beijing", Key="s3disk/z.bin", Range="bytes=2-6", IfMatch=head["ETag"])
    assert part["Body"].read() == b"binz." and part["ContentRange"] == "bytes 2-6/15"
    assert c.get_object(Bucket="mt-beijing", Key="s3disk/z.bin", Range="bytes=-3")["Body"].read() == b"bin"
    assert s3disk.counter.requests == 2 and s3disk.counter.body_bytes == 8
    os.utime(tree / "z.bin", ns=(1, 1))  # a rewrite: new modification time, new ETag
    for kwargs, code in (({"IfMatch": head["ETag"]}, "PreconditionFailed"), ({"Range": "bytes=99-"}, "InvalidRange"),
                         ({"Key": "s3disk/nothing"}, "NoSuchKey"), ({"Key": "s3disk/../x"}, "NoSuchKey"),
                         ({"Bucket": "no-such-bucket"}, "NoSuchBucket")):
        args = {"Bucket": "mt-beijing", "Key": "s3disk/z.bin", **kwargs}
        with pytest.raises(botocore_exceptions.ClientError) as err:
            c.get_object(**args)
        assert err.value.response["Error"]["Code"] == code
    with pytest.raises(botocore_exceptions.ClientError) as err:
        client(s3disk, "AKIAWRONG").get_object(Bucket="mt-beijing", Key="s3disk/z.bin")
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    with pytest.raises(botocore_exceptions.ClientError) as err:
        c.put_object(Bucket="mt-beijing", Key="s3disk/new", Body=b"x")
    assert err.value.response["Error"]["Code"] == "NotImplemented"
