"""The ModelArts regions: the one table the region options and the same-region rule read.

Source: Huawei Cloud's "Regions and Endpoints" list for ModelArts and OBS (region ids as used in
``https://obs.<region>.myhuaweicloud.com``). Add a row here when the platform opens a region.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Region id -> the name the console shows.
MODELARTS_REGIONS: Mapping[str, str] = MappingProxyType({
    "cn-north-1": "CN North-Beijing1",
    "cn-north-4": "CN North-Beijing4",
    "cn-north-9": "CN North-Ulanqab1",
    "cn-east-3": "CN East-Shanghai1",
    "cn-south-1": "CN South-Guangzhou",
    "cn-southwest-2": "CN Southwest-Guiyang1",
    "ap-southeast-1": "CN-Hong Kong",
    "ap-southeast-2": "AP-Bangkok",
    "ap-southeast-3": "AP-Singapore",
    "ap-southeast-4": "AP-Jakarta",
    "af-south-1": "AF-Johannesburg",
    "la-north-2": "LA-Mexico City2",
    "la-south-2": "LA-Santiago",
    "sa-brazil-1": "LA-Sao Paulo1",
    "tr-west-1": "TR-Istanbul",
    "me-east-1": "ME-Riyadh",
})

#: The OBS endpoint of a region.
OBS_ENDPOINT = "https://obs.{region}.myhuaweicloud.com"


class UnknownRegionError(ValueError):
    """A region name that is not a ModelArts region; the message lists the known ones."""


def check_region(region: str) -> str:
    """``region`` itself when ModelArts has it, else :class:`UnknownRegionError` listing them all."""
    if region in MODELARTS_REGIONS:
        return region
    known = ", ".join(f"{r} ({n})" for r, n in MODELARTS_REGIONS.items())
    raise UnknownRegionError(f"unknown ModelArts region {region!r}; known regions: {known}")


def region_label(region: str) -> str:
    name = MODELARTS_REGIONS.get(region)
    return f"{region} ({name})" if name else region


def obs_endpoint(region: str) -> str:
    return OBS_ENDPOINT.format(region=check_region(region))
