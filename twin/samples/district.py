"""What every part of the sample city shares: CRS, centre, default size and seed, origin, rasters.

The sample district (see :mod:`twin.samples.city`) is a square centred on Daejeon city hall in
EPSG:5186 (Korea 2000 / Central Belt 2010, metres). Its grid follows from these constants alone, so
its footprint is known without generating or reading it (:func:`district_bounds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import Transformer

#: Projected CRS of the sample city: Korea 2000 / Central Belt 2010 (metres).
CRS = "EPSG:5186"
#: Daejeon city hall, (longitude, latitude) in degrees (WGS 84); the district is centred on it.
CITY_HALL_LONLAT = (127.3845, 36.3504)
#: Name written in the manifest.
NAME = "sample-daejeon"
#: The rasters written, in order, with their file names.
RASTER_FILES = {name: f"{name}.tif" for name in
                ("elevation", "building_height", "building_id", "building_use", "landcover")}
#: Defaults of :func:`twin.samples.city.generate_sample_city`: district side (m), cell size (m)
#: and seed; ``data/sample_city/`` holds the city they give.
DEFAULT_SIZE_M = 2500.0
DEFAULT_CELL_M = 5.0
DEFAULT_SEED = 20261125


def district_origin(size_m: float) -> tuple[float, float]:
    """North-west corner ``(west, north)`` (m, EPSG:5186) of a district of side ``size_m`` (m)
    centred on city hall, snapped to whole metres."""
    to_5186 = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    east, north = to_5186.transform(*CITY_HALL_LONLAT)
    return float(round(east - size_m / 2)), float(round(north + size_m / 2))


def district_bounds(size_m: float = DEFAULT_SIZE_M) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` (m, EPSG:5186) of a district of side ``size_m`` (m).

    These are the bounds of the grid :func:`twin.samples.city.generate_sample_city` lays out for
    ``size_m`` (at any cell size, the side being a whole number of cells).
    """
    west, north = district_origin(size_m)
    return west, north - size_m, west + size_m, north


@dataclass(frozen=True, eq=False)
class SampleCity:
    """The rasters of a generated sample city (read-only arrays, shape ``(ny, nx)``, row 0 north).

    Attributes
    ----------
    elevation : numpy.ndarray of float64
        Bare-earth terrain elevation above sea level (m).
    building_height : numpy.ndarray of float64
        Building height above ground (m), 0 where there is no building.
    building_id : numpy.ndarray of int32
        Building identifier 1..N, one connected rectangle per building, 0 where none.
    building_use : numpy.ndarray of int8
        Building use code (:data:`twin.core.classes.BUILDING_USE`), 0 where there is no building.
    landcover : numpy.ndarray of int8
        Land-cover code (:data:`twin.core.classes.LANDCOVER`).
    transform : affine.Affine
        North-up transform of square cells (m), origin at the north-west corner.
    crs : str
        ``"EPSG:5186"``.
    seed : int
        The seed the city was generated from.
    """

    elevation: np.ndarray
    building_height: np.ndarray
    building_id: np.ndarray
    building_use: np.ndarray
    landcover: np.ndarray
    transform: Affine
    crs: str
    seed: int

    @property
    def cell(self) -> float:
        """Cell size (m)."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(ny, nx)``."""
        return self.elevation.shape

    def rasters(self) -> dict[str, np.ndarray]:
        """The five rasters by field name, in the order of :data:`RASTER_FILES`."""
        return {name: getattr(self, name) for name in RASTER_FILES}

