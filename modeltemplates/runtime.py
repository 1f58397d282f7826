"""The runtime a template deploys onto: AI engine and Python interpreter."""

from __future__ import annotations

import attrs

#: The Python versions the source checks have a grammar for (``inspect/grammars``: one
#: ``Language`` per version). A template's ``python`` must be one of them; a test keeps the two equal.
SUPPORTED_PYTHON_VERSIONS: tuple[str, ...] = ("2.7", "3.6", "3.7")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@attrs.frozen
class Runtime:
    """Engine name and version plus the Python version the platform runs the package under.

    ``Runtime("PyTorch", "1.0", "2.7")`` is what the PyTorch-py27 template deploys onto.
    """

    engine: str
    engine_version: str
    python: str
    #: "CPU" or "GPU" when the template names a device (the Caffe templates); "" otherwise.
    device: str = ""

    @property
    def python_version(self) -> tuple[int, int]:
        major, minor = _version_tuple(self.python)[:2]
        return (major, minor)

    @property
    def engine_version_tuple(self) -> tuple[int, ...]:
        return _version_tuple(self.engine_version)

    @property
    def platform_runtime(self) -> str:
        """The ``runtime`` value of ``config.json``, e.g. ``python2.7``."""
        return f"python{self.python}"

    @property
    def platform_runtimes(self) -> tuple[str, ...]:
        """Every ``runtime`` value that selects this runtime: ``python3.7``, and ``python3.7-gpu`` for GPU."""
        if self.device:
            return (self.platform_runtime, f"{self.platform_runtime}-{self.device.lower()}")
        return (self.platform_runtime,)

    def __str__(self) -> str:
        return f"{self.engine} {self.engine_version} on Python {self.python}"
