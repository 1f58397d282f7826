"""The tool's version, in one place: the package, reports, manifests and the result cache name it."""

__version__ = "0.1.0"

#: How reports and manifests name the tool that wrote them.
TOOL = {"name": "modeltemplates", "version": __version__}
