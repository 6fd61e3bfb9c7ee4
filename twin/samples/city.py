"""A synthetic, Daejeon-like sample district: terrain, river, streets and buildings as rasters.

:func:`generate_sample_city` builds the five twin rasters of a district centred on Daejeon city
hall (36.3504 N, 127.3845 E) in EPSG:5186 (Korea 2000 / Central Belt 2010), deterministically
from a seed; :func:`write_sample_city` writes them as GeoTIFFs with a ``twin.yaml`` manifest and
a README. Nothing here is survey data: it is a plausible test city for the flood and fire models.

What the district holds (all lengths in metres, elevations above sea level):

* A river flowing north to south along the valley axis: bankfull width 24-36 m, incised 2.5-3.5 m
  below its banks, meandering gently (amplitudes 20-45 m), its valley floor falling 1 m per km
  (45 m a.s.l. at the district centre). River cells are the lowest land of every row.
* A floodplain rising 0.4 % away from the river, 0-1 m of smooth urban micro-relief (faded out
  near the banks), and hills on the west and east sides whose crests stand some 65-145 m above
  the river bed (forest, grass at their foot; the floodplain's rise adds to them in larger
  districts, which is why districts are at most 10 km wide).
* A street grid: local roads 10-25 m wide around blocks of 90-180 m, 40 m arterials every fourth
  road; underpasses (2-4 m deep, road-width depressions on arterials) where water ponds.
* Buildings as separate rectangles (sides 10-60 m, gaps of at least one cell): a commercial core
  (12-80 m tall), apartment slabs (30-75 m) and low-rise housing (3-12 m), an industrial strip of
  large low sheds by the river (6-15 m), public buildings (12-28 m), a riverside park, city parks
  and construction sites.

Large-scale layout (valley width, hill positions, core radius, numbers of parks and underpasses)
scales with the district size; streets, blocks, buildings and the river keep their sizes in
metres, so a 10 km district is a larger city of the same character, not a stretched copy.

The generator is split by job: :mod:`twin.samples.district` (CRS, centre, defaults, origin and
the :class:`SampleCity` container), :mod:`twin.samples.terrain` (river, floodplain, hills),
:mod:`twin.samples.streets` (street grid, underpasses), :mod:`twin.samples.buildings` (zoning,
parks, footprints, heights, land cover) and :mod:`twin.samples.writing` (GeoTIFFs, manifest,
README). The command line is ``twin sample-city``.
"""

from __future__ import annotations

import numpy as np
from affine import Affine

from twin.core.classes import LANDCOVER
from twin.core.errors import InputError
from twin.samples.buildings import USE_OF_KIND, building_heights, lay_out_blocks, paint_buildings
from twin.samples.district import (CRS, DEFAULT_CELL_M, DEFAULT_SEED, DEFAULT_SIZE_M, SampleCity,
                                   district_origin)
from twin.samples.streets import cut_underpasses, street_grid
from twin.samples.terrain import make_terrain
from twin.samples.writing import write_sample_city

__all__ = ["SampleCity", "generate_sample_city", "write_sample_city"]

_MAX_CELLS = 40_000_000          # 6325 x 6325; the 10 km / 2 m district has 25e6 cells


def generate_sample_city(size_m: float = DEFAULT_SIZE_M, cell: float = DEFAULT_CELL_M,
                         seed: int = DEFAULT_SEED) -> SampleCity:
    """Generate a square Daejeon-like district, deterministically from ``seed``.

    Parameters
    ----------
    size_m : float
        Side of the square district (m), 2000 to 10000; a whole number of cells.
    cell : float
        Cell size (m), 1 to 10 (buildings are at least 10 m wide).
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical rasters.

    Returns
    -------
    SampleCity
        The rasters, their north-up transform (origin snapped to whole metres, the district
        centred on Daejeon city hall) and CRS ``EPSG:5186``.

    Raises
    ------
    InputError
        If the size or the cell size is out of range, or the size is not a whole number of cells.

    Notes
    -----
    The terrain is the sum of a valley floor falling ``1e-3`` m/m southwards, a floodplain
    rising ``4e-3`` m/m away from the river, 0-1 m of smooth noise and two hill ramps
    (smoothstep profiles, zero at their foot, 64-120 m at the district edge). These are design
    choices for a plausible test city, not fitted to survey data.
    """
    ny, nx = _check_grid(size_m, cell)
    west, north = district_origin(size_m)
    transform = Affine(cell, 0.0, west, 0.0, -cell, north)
    rng_terrain, rng_roads, rng_blocks, rng_heights = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))

    terrain = make_terrain(rng_terrain, ny, nx, cell)
    roads = street_grid(rng_roads, terrain, cell)
    landcover, rects, kinds, core_dist = lay_out_blocks(rng_blocks, terrain, roads, cell)
    building_id = paint_buildings(rects, (ny, nx))
    heights = building_heights(rng_heights, kinds, core_dist)
    elevation = terrain["z"]
    cut_underpasses(rng_roads, elevation, terrain, roads, cell)

    height_lut = np.concatenate([[0.0], heights])
    use_lut = np.concatenate([[0], USE_OF_KIND[kinds]]).astype(np.int8)
    building = building_id > 0
    landcover[building] = LANDCOVER["building"]
    arrays = dict(elevation=elevation, building_height=height_lut[building_id],
                  building_id=building_id, building_use=use_lut[building_id],
                  landcover=landcover)
    for a in arrays.values():
        a.setflags(write=False)
    return SampleCity(**arrays, transform=transform, crs=CRS, seed=int(seed))


def _check_grid(size_m: float, cell: float) -> tuple[int, int]:
    """Validate the district size and cell size (m); return the grid shape."""
    if not 1.0 <= cell <= 10.0:
        raise InputError("cell size out of range", field="cell", expected="1 to 10 m",
                         found=f"{cell} m")
    if not 2000.0 <= size_m <= 10000.0:
        raise InputError("district size out of range", field="size_m",
                         expected="2000 to 10000 m", found=f"{size_m} m")
    n = int(round(size_m / cell))
    if abs(n * cell - size_m) > 1e-6 * size_m:
        raise InputError("district size is not a whole number of cells", field="size_m",
                         expected=f"a multiple of the cell size {cell} m", found=f"{size_m} m")
    if n * n > _MAX_CELLS:
        raise InputError("grid too large for one in-memory raster", field="size_m",
                         expected=f"at most {_MAX_CELLS} cells", found=f"{n} x {n} cells")
    return n, n
