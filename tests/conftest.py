"""Shared fixtures: tiny synthetic GeoTIFF rasters and twin manifests written into ``tmp_path``.

Grids are small (a few tens of cells) so the tests stay fast. The default CRS is EPSG:5186
(Korea 2000 / Central Belt 2010, metres) with an origin near Daejeon; cells are 10 m squares,
north-up, row 0 at the north edge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from affine import Affine

#: Default projected CRS of the synthetic rasters (metres).
CRS_KOREA = "EPSG:5186"
#: North-west corner (m) of the default grid, in EPSG:5186, inside Daejeon.
ORIGIN = (234_000.0, 416_000.0)
#: Default cell size (m).
CELL = 10.0


def write_raster(path: Path, array: np.ndarray, *, crs: str | None = CRS_KOREA,
                 transform: Affine | None = None, nodata: float | None = None) -> Path:
    """Write ``array`` (ny, nx) as a one-band GeoTIFF; default transform: 10 m cells at :data:`ORIGIN`."""
    array = np.asarray(array)
    if transform is None:
        transform = Affine(CELL, 0.0, ORIGIN[0], 0.0, -CELL, ORIGIN[1])
    profile = {"driver": "GTiff", "height": array.shape[0], "width": array.shape[1], "count": 1,
               "dtype": array.dtype.name, "transform": transform}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


def write_manifest(path: Path, rasters: dict, **extra) -> Path:
    """Write a ``twin.yaml`` with the ``rasters`` mapping and any other top-level keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**extra, "rasters": rasters}, sort_keys=False), encoding="utf-8")
    return path


def sloping_terrain(shape: tuple[int, int] = (12, 16)) -> np.ndarray:
    """Terrain elevation (m, float64) rising 0.1 m per cell eastwards from 50 m."""
    ny, nx = shape
    return 50.0 + 0.1 * np.tile(np.arange(nx, dtype=np.float64), (ny, 1))


def two_buildings(shape: tuple[int, int] = (12, 16)) -> np.ndarray:
    """Building heights (m): two separate rectangular footprints, 9 m and 21 m tall, elsewhere 0."""
    height = np.zeros(shape, dtype=np.float64)
    height[2:5, 2:6] = 9.0
    height[7:10, 9:14] = 21.0
    return height


@pytest.fixture
def raster(tmp_path):
    """``raster(name, array, **kw)`` writes ``tmp_path/name`` with :func:`write_raster` and returns its path."""
    def _write(name: str, array: np.ndarray, **kw) -> Path:
        return write_raster(tmp_path / name, array, **kw)
    return _write


@pytest.fixture
def twin_dir(tmp_path) -> Path:
    """A folder with a small valid twin: ``dem.tif``, ``buildings.tif`` (two footprints), ``twin.yaml``."""
    write_raster(tmp_path / "dem.tif", sloping_terrain())
    write_raster(tmp_path / "buildings.tif", two_buildings())
    write_manifest(tmp_path / "twin.yaml", {"terrain": "dem.tif", "buildings": "buildings.tif"},
                   name="tiny", crs=CRS_KOREA)
    return tmp_path


def write_valley_twin(folder: Path, shape: tuple[int, int] = (40, 60)) -> Path:
    """A small valley of 10 m cells with two buildings, as GeoTIFFs and a ``twin.yaml``; returns the manifest.

    The ground falls 0.05 m per cell towards the middle column and 0.01 m per cell to the south,
    so rain gathers in the valley and drains south.
    """
    ny, nx = shape
    x = np.arange(nx)
    z = 50.0 + 0.05 * np.abs(x - nx // 2)[None, :] + 0.01 * np.arange(ny)[::-1, None] + np.zeros((ny, nx))
    h = np.zeros((ny, nx))
    h[10:14, 20:26] = 9.0
    h[25:30, 34:38] = 15.0
    write_raster(folder / "dem.tif", z.astype(np.float32))
    write_raster(folder / "height.tif", h.astype(np.float32))
    return write_manifest(folder / "twin.yaml", {"elevation": "dem.tif", "building_height": "height.tif"})
