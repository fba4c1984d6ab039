"""The installed versions of named packages, for the records that benchmarks and training
write beside their figures."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version


def package_versions(packages: Sequence[str]) -> dict[str, str]:
    """Each package's installed version, or "absent"."""
    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found
