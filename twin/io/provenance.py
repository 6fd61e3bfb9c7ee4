"""Provenance of a run: hashes of the scenario and input files, package versions, the manifest.

Timestamps (:func:`utc_now`, ISO 8601 in UTC) are those of :mod:`twin.core.cf`, which also stamps
every netCDF file's ``history``.

``manifest.json`` is written last in a run folder; a folder without one is incomplete.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from twin.core.atomic import atomic_path
from twin.core.cf import utc_now  # noqa: F401  (the timestamps of manifests and logs, as in the netCDF history)

#: Packages whose versions are recorded in every manifest.
RECORDED_PACKAGES = ("city-twin", "numpy", "scipy", "xarray", "rasterio", "rioxarray", "dask", "distributed",
                     "netCDF4", "numba", "pydantic", "pyvista", "vtk")


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`RECORDED_PACKAGES` (``"not installed"`` where absent)."""
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_json(path: str | Path, data: dict) -> Path:
    """Write JSON atomically (temporary name, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n", encoding="utf-8")
    return Path(path)


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
