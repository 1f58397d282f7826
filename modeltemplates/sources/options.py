"""How to reach a package behind a URL: region, endpoint, fsspec options. Light: imports no client."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from modeltemplates.sources.regions import check_region


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class RemoteOptions:
    """Options for a URL source.

    ``region`` is the ModelArts region the package is for (it picks the OBS endpoint and turns on
    the same-region rule); ``endpoint_url`` overrides the endpoint; ``storage_options`` go to the
    fsspec filesystem as they are. Credentials are kept out of ``repr`` and never shown.
    """

    region: str | None = None
    endpoint_url: str | None = None
    storage_options: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)
    #: Random access (model files, text files): a read far from the previous one fetches at least
    #: ``small_read`` bytes, reads that follow on fetch twice as much as the fetch before (up to
    #: half the cache); each open file keeps at most ``block_size * max_blocks`` bytes of what
    #: was fetched (see ``sources/rangecache.py``).
    block_size: int = 64 << 10
    max_blocks: int = 32
    small_read: int = 4 << 10
    #: Files up to this size are fetched whole, once, and kept (up to ``small_files_total`` bytes in
    #: all): the checks and the data-file scan both read ``labels.json`` and the like.
    small_file: int = 64 << 10
    small_files_total: int = 16 << 20
    #: Read size for sequential reads (hashing).
    stream_block_size: int = 8 << 20
    #: Seconds to connect and to wait for a read; attempts per request (throttling included).
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 5
    #: Objects a listing may return before the location is refused as too large to be a package.
    max_objects: int = 100_000

    @classmethod
    def make(
        cls,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        **more: Any,
    ) -> RemoteOptions:
        """Checked options: an unknown ``region`` is a ``ValueError`` listing the known regions."""
        if region is not None:
            check_region(region)
        return cls(region=region, endpoint_url=endpoint_url, storage_options=storage_options or {}, **more)
