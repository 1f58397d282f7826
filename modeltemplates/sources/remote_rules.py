"""Rules about packages in buckets (REG...): the same-region rule and objects that change mid-read."""

from __future__ import annotations

from modeltemplates.findings import Basis, Rule, Severity

REGION_MISMATCH = Rule(
    "REG001", "Bucket in another region than ModelArts", Severity.ERROR,
    what="The bucket's location (GetBucketLocation) differs from the target region given with --region / region=.",
    why="The template page: \"Ensure that the OBS directory you use and ModelArts are in the same region.\" "
    "ModelArts in one region does not list or import a model from a bucket in another one, so the import "
    "cannot even select the package.",
    fix="Copy the `model` folder to a bucket in the target region (e.g. `obsutil cp -r -f obs://src/model "
    "obs://dst/model`), or use ModelArts in the bucket's region.",
    basis=Basis.PLATFORM_REJECTS,
    evidence=(
        'Template page (pytorch-py27_general_template): "Ensure that the OBS directory you use and ModelArts '
        'are in the same region."'
    ),
)
BUCKET_REGION = Rule(
    "REG002", "Bucket region", Severity.INFO,
    what="Where the bucket is, when no target region was given (or that it matches the one given).",
    why="ModelArts imports only from a bucket in its own region; knowing the bucket's region tells you where "
    "to import the model.",
    fix="Nothing to fix; pass --region to have the tool check the region for you.",
    basis=Basis.ADVICE,
    evidence=(
        'Template page (pytorch-py27_general_template): the OBS directory and ModelArts must be in the same '
        'region.'
    ),
)
REGION_UNKNOWN = Rule(
    "REG003", "Bucket region could not be read", Severity.WARNING,
    what="GetBucketLocation was refused or failed, so the same-region rule could not be checked.",
    why="Reading a bucket's objects may be allowed while reading its location is not (bucket policies grant "
    "them separately); the region rule then stays unchecked.",
    fix="Allow GetBucketLocation (obs:GetBucketLocation / s3:GetBucketLocation) for these credentials, or "
    "check the bucket's region in the console.",
    basis=Basis.NOT_CHECKED,
    evidence=(
        'GetBucketLocation is a permission of its own in OBS and S3 bucket policies; when refused, this tool '
        'cannot check the region rule.'
    ),
)
CHANGED = Rule(
    "REG004", "Object changed while it was read", Severity.ERROR,
    what="An object's ETag changed between the listing and a read (someone uploaded while the tool read).",
    why="Findings from two versions of a file would describe a package that never existed, so none are "
    "reported; only this error is.",
    fix="Wait for the upload to finish and validate again.",
    basis=Basis.SAFETY,
    evidence=(
        'S3/OBS objects carry an ETag that changes with their content; reads here are pinned to the ETag of '
        'the listing (If-Match), and a 412 answer means the object changed mid-read.'
    ),
)

RULES = (REGION_MISMATCH, BUCKET_REGION, REGION_UNKNOWN, CHANGED)

#: Findings about where the package was read from: left out of the manifest's counts.
SOURCE_RULES = frozenset({BUCKET_REGION.id})
