"""Ombud: privacy operations under the GDPR, from one privacy register."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ombud")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
