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
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import yaml
from affine import Affine
from pyproj import Transformer

from twin.core.classes import BUILDING_USE, LANDCOVER
from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS

#: Projected CRS of the sample city: Korea 2000 / Central Belt 2010 (metres).
CRS = "EPSG:5186"
#: Daejeon city hall, (longitude, latitude) in degrees (WGS 84); the district is centred on it.
CITY_HALL_LONLAT = (127.3845, 36.3504)
#: Name written in the manifest.
NAME = "sample-daejeon"
#: The rasters written, in order, with their file names.
RASTER_FILES = {name: f"{name}.tif" for name in
                ("elevation", "building_height", "building_id", "building_use", "landcover")}

_MAX_CELLS = 40_000_000          # 6325 x 6325; the 10 km / 2 m district has 25e6 cells
_VALLEY_Z_CENTRE = 45.0          # m a.s.l., valley floor at the district centre
_VALLEY_SLOPE = 1.0e-3           # m/m, down-valley (north to south) slope of the valley floor
_FLOODPLAIN_SLOPE = 4.0e-3       # m/m, cross-valley rise of the floodplain away from the river
_MICRO_RELIEF = 1.0              # m, amplitude of smooth urban micro-relief
_URBAN_HILL_LIMIT = 2.0          # m, hill relief above which land is wild (forest / grass)
_HILL_GRASS_LIMIT = 8.0          # m, hill relief below which the urban edge is grass
_ARTERIAL_WIDTH = 40.0           # m
_LOCAL_WIDTHS = (10.0, 12.0, 15.0, 20.0, 25.0)   # m
_BLOCK_LENGTH = (90.0, 180.0)    # m
_ARTERIAL_EVERY = 4              # every n-th road line is an arterial

# Building styles: (depth range, length range, gap along depth, gap along length, setback), m.
_STYLES = {
    "lowrise": ((10, 18), (10, 20), (3, 6), (3, 6), 4),
    "apartment": ((12, 18), (30, 60), (16, 28), (6, 12), 6),
    "commercial": ((20, 50), (20, 50), (4, 10), (4, 10), 3),
    "industrial": ((30, 60), (30, 60), (8, 15), (8, 15), 6),
}
_KINDS = ("lowrise", "apartment", "commercial", "industrial", "public")
_USE_OF_KIND = np.array([BUILDING_USE["residential"], BUILDING_USE["residential"],
                         BUILDING_USE["commercial"], BUILDING_USE["industrial"],
                         BUILDING_USE["public"]], dtype=np.int8)


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


# --------------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------------

def generate_sample_city(size_m: float = 2500.0, cell: float = 5.0,
                         seed: int = 20261125) -> SampleCity:
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
    west, north = _origin(size_m)
    transform = Affine(cell, 0.0, west, 0.0, -cell, north)
    rng_terrain, rng_roads, rng_blocks, rng_heights = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))

    terrain = _terrain(rng_terrain, ny, nx, cell)
    roads = _roads(rng_roads, terrain, cell)
    landcover, rects, kinds, core_dist = _blocks(rng_blocks, terrain, roads, cell)
    building_id = _paint_buildings(rects, (ny, nx))
    heights = _heights(rng_heights, kinds, core_dist)
    elevation = terrain["z"]
    _underpasses(rng_roads, elevation, terrain, roads, cell)

    height_lut = np.concatenate([[0.0], heights])
    use_lut = np.concatenate([[0], _USE_OF_KIND[kinds]]).astype(np.int8)
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


def _origin(size_m: float) -> tuple[float, float]:
    """North-west corner (m, EPSG:5186) of a district of side ``size_m`` centred on city hall,
    snapped to whole metres."""
    to_5186 = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    east, north = to_5186.transform(*CITY_HALL_LONLAT)
    return float(round(east - size_m / 2)), float(round(north + size_m / 2))


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], cell: float,
                  length_m: float) -> np.ndarray:
    """Smooth random field in [0, 1] over a 1-D or 2-D grid of cells of ``cell`` m.

    White noise on control points ``length_m`` apart, spread with normalised Gaussian weights
    of standard deviation ``length_m`` (separable, so a 2-D field costs two matrix products),
    then rescaled to span exactly [0, 1].
    """
    weights = []
    for n in shape:
        k = int(math.ceil(n * cell / length_m)) + 3
        centres = (np.arange(k) - 1.0) * length_m
        pos = (np.arange(n) + 0.5) * cell
        w = np.exp(-0.5 * ((pos[:, None] - centres[None, :]) / length_m) ** 2)
        weights.append(w / w.sum(axis=1, keepdims=True))
    c = rng.standard_normal([w.shape[1] for w in weights])
    f = weights[0] @ c if len(shape) == 1 else weights[0] @ c @ weights[1].T
    f -= f.min()
    f /= f.max()
    return f


def _smoothstep(t: np.ndarray) -> np.ndarray:
    """3 t^2 - 2 t^3 on t clipped to [0, 1], computed in place in ``t`` (which is returned)."""
    np.clip(t, 0.0, 1.0, out=t)
    r = np.multiply(t, -2.0)
    r += 3.0
    t *= t
    t *= r
    return t


def _terrain(rng: np.random.Generator, ny: int, nx: int, cell: float) -> dict:
    """River, floodplain and hills: elevation (m) and the masks the layout needs."""
    size = nx * cell
    xm = (np.arange(nx) + 0.5) * cell                     # m east of the west edge
    ym = (np.arange(ny) + 0.5) * cell                     # m south of the north edge
    axis = size * (0.5 + rng.uniform(-0.03, 0.03))       # valley axis, m east of west edge
    width = rng.uniform(24.0, 36.0)                       # bankfull width, m
    depth = rng.uniform(2.5, 3.5)                         # bankfull depth, m
    amp = np.array([rng.uniform(20.0, 45.0), rng.uniform(5.0, 12.0)])
    k = 2.0 * np.pi / np.array([rng.uniform(900.0, 1400.0), rng.uniform(300.0, 500.0)])
    phase = rng.uniform(0.0, 2.0 * np.pi, 2)
    arg = ym[:, None] * k + phase
    xc = axis + (amp * np.sin(arg)).sum(axis=1)           # river centreline, m
    stretch = np.sqrt(1.0 + (amp * k * np.cos(arg)).sum(axis=1) ** 2)   # sqrt(1 + (dxc/dy)^2)
    # distance from the centreline, perpendicular to it (locally straight channel)
    d = np.abs(xm[None, :] - xc[:, None])
    d /= stretch[:, None]
    z_valley = _VALLEY_Z_CENTRE - _VALLEY_SLOPE * (ym - size / 2)     # per row, m
    water = d <= width / 2

    # hills: smoothstep ramps from a wavy foot to the district edge on each side
    hills = np.zeros((ny, nx))
    for sign, edge in ((-1.0, axis), (1.0, size - axis)):
        foot = size * (0.31 + 0.05 * _smooth_noise(rng, (ny,), cell, 400.0))   # m from axis
        relief = rng.uniform(80.0, 120.0) * (0.8 + 0.2 * _smooth_noise(rng, (ny,), cell, 600.0))
        out = sign * (xm - axis)                           # m from the axis, outwards
        cols = np.flatnonzero(out > foot.min())
        win = slice(cols.min(), cols.max() + 1)
        t = out[None, win] - foot[:, None]
        t /= (edge - cell / 2 - foot)[:, None]
        t = _smoothstep(t)
        t *= relief[:, None]
        hills[:, win] += t

    z = d - width / 2
    np.maximum(z, 0.0, out=z)
    z *= _FLOODPLAIN_SLOPE
    z += z_valley[:, None]
    z += hills
    # micro-relief, faded out over 200 m towards the river so that the banks stay 2-4 m above
    # the bed (the fade only touches the columns within 200 m of the river)
    relief = _smooth_noise(rng, (ny, nx), cell, 400.0)
    reach = (width / 2 + 200.0) * stretch.max()
    win = slice(max(0, int((xc.min() - reach) / cell)), min(nx, int((xc.max() + reach) / cell) + 1))
    fade = d[:, win] - width / 2
    fade /= 200.0
    relief[:, win] *= _smoothstep(fade)
    relief *= _MICRO_RELIEF
    z += relief
    del relief, fade
    # flat bed across the middle half of the channel, banks rising to 0.6 * depth below the
    # floodplain: every row then has its thalweg exactly ``depth`` below the valley floor
    rows, cols = np.nonzero(water)
    bank = np.clip(4.0 * d[rows, cols] / width - 1.0, 0.0, 1.0)
    z[rows, cols] = z_valley[rows] - depth * (1.0 - 0.4 * bank ** 2)
    riverside = ~water & (d <= width / 2 + rng.uniform(30.0, 50.0))
    return dict(z=z, water=water, riverside=riverside, d=d, hills=hills,
                urban=(hills < _URBAN_HILL_LIMIT) & ~water, axis=axis, xc=xc,
                bank_z=z_valley - 0.6 * depth, green=_smooth_noise(rng, (ny, nx), cell, 40.0),
                housing=_smooth_noise(rng, (ny, nx), cell, 500.0))


def _road_lines(rng: np.random.Generator, n: int, cell: float) -> np.ndarray:
    """Road lines across one axis: rows of ``(first cell, end cell, arterial)``."""
    lines = []
    offset = rng.integers(_ARTERIAL_EVERY)
    pos = rng.uniform(20.0, 80.0)
    k = 0
    while pos < n * cell:
        arterial = k % _ARTERIAL_EVERY == offset
        w = _ARTERIAL_WIDTH if arterial else float(rng.choice(_LOCAL_WIDTHS))
        c0 = int(round(pos / cell))
        c1 = min(n, max(c0 + 1, int(round((pos + w) / cell))))
        if c0 < n:
            lines.append((c0, c1, int(arterial)))
        pos += w + rng.uniform(*_BLOCK_LENGTH)
        k += 1
    return np.array(lines, dtype=np.int64).reshape(-1, 3)


def _line_mask(lines: np.ndarray, n: int, arterial_only: bool = False) -> np.ndarray:
    """1-D boolean mask of the cells covered by road lines."""
    mask = np.zeros(n, dtype=bool)
    for c0, c1, art in lines:
        if art or not arterial_only:
            mask[c0:c1] = True
    return mask


def _intervals(lines: np.ndarray, n: int) -> np.ndarray:
    """The gaps between road lines (blocks along one axis): rows of ``(first, end)`` cells."""
    edges = np.concatenate([[0], lines[:, :2].ravel(), [n]]).reshape(-1, 2)
    return edges[edges[:, 1] > edges[:, 0]]


def _roads(rng: np.random.Generator, terrain: dict, cell: float) -> dict:
    """Street grid: road lines of both axes and the 2-D road mask (no parks cut yet)."""
    ny, nx = terrain["z"].shape
    rows, cols = _road_lines(rng, ny, cell), _road_lines(rng, nx, cell)
    line = _line_mask(rows, ny)[:, None] | _line_mask(cols, nx)[None, :]
    arterial = _line_mask(rows, ny, True)[:, None] | _line_mask(cols, nx, True)[None, :]
    # only east-west arterials cross the riverside park (to bridges, not represented)
    bridge_approach = _line_mask(rows, ny, True)[:, None]
    road = line & terrain["urban"] & (~terrain["riverside"] | bridge_approach)
    return dict(rows=rows, cols=cols, road=road, arterial=arterial)


def _blocks(rng: np.random.Generator, terrain: dict, roads: dict, cell: float):
    """Zone the blocks, lay out their buildings and paint land cover.

    Returns the land-cover raster (buildings not yet painted), the building rectangles
    ``(r0, r1, c0, c1)`` in cells, their kind index into ``_KINDS`` and, for commercial
    buildings, the distance to the core centre relative to the core radius.
    """
    ny, nx = terrain["z"].shape
    size = nx * cell
    area_ratio = (size / 2500.0) ** 2
    row_iv, col_iv = _intervals(roads["rows"], ny), _intervals(roads["cols"], nx)
    urban, road = terrain["urban"], roads["road"]

    lc = np.where(terrain["hills"] < _HILL_GRASS_LIMIT, LANDCOVER["grass"], LANDCOVER["forest"])
    lc[(lc == LANDCOVER["forest"]) & (terrain["green"] > 0.8)] = LANDCOVER["grass"]
    lc = lc.astype(np.int8)
    lc[urban] = LANDCOVER["urban_open"]

    core = np.array([terrain["axis"] - size * rng.uniform(0.12, 0.18),
                     size * rng.uniform(0.35, 0.65)])      # (x, y) m from the NW corner
    core_r = 0.14 * size
    ind_y0 = size * rng.uniform(0.45, 0.6)
    parks = _pick_parks(rng, terrain, row_iv, col_iv, core, core_r,
                        max(1, int(round(area_ratio))), cell)
    park_blocks = {(i + di, j + dj) for i, j in parks for di in (0, 1) for dj in (0, 1)}
    # park cells: the 2 x 2 blocks and the local streets between them
    park_cells = np.zeros_like(urban)
    for i, j in parks:
        (r0, _), (_, r1) = row_iv[i], row_iv[i + 1]
        (c0, _), (_, c1) = col_iv[j], col_iv[j + 1]
        park_cells[r0:r1, c0:c1] = True
    park_cells &= urban & ~roads["arterial"] & ~terrain["riverside"]
    road = roads["road"] = road & ~park_cells
    sat = _summed_area(urban & ~road & ~park_cells & ~terrain["riverside"])

    # zone every block whose centre is urban: (r0, r1, c0, c1, kind, distance to core / radius)
    blocks = []
    for i, (r0, r1) in enumerate(row_iv):
        for j, (c0, c1) in enumerate(col_iv):
            rc, cc = (r0 + r1) // 2, (c0 + c1) // 2
            if not urban[rc, cc]:
                continue
            xb, yb = (cc + 0.5) * cell, (rc + 0.5) * cell
            dist_core = math.hypot(xb - core[0], yb - core[1]) / core_r
            if (i, j) in park_blocks:
                kind = "park"
            elif dist_core < 1.0:
                kind = "commercial"
            elif (xb > terrain["xc"][rc] and terrain["d"][rc, cc] < 0.1 * size + 60.0
                  and ind_y0 < yb < ind_y0 + 0.35 * size):
                kind = "industrial"
            elif terrain["housing"][rc, cc] > 0.6 and terrain["hills"][rc, cc] == 0.0:
                kind = "apartment"
            else:
                kind = "lowrise"
            blocks.append([r0, r1, c0, c1, kind, dist_core])
    # public buildings and construction sites on whole residential blocks, 4 % and 2 % of them
    whole = _fully_inside(np.array([b[:4] for b in blocks], dtype=np.int64).reshape(-1, 4), sat)
    housing = [k for k, b in enumerate(blocks) if whole[k] and b[4] in ("apartment", "lowrise")]
    n_public = max(3, int(round(0.04 * len(blocks))))
    n_bare = max(1, int(round(0.02 * len(blocks))))
    picked = rng.permutation(housing)[:n_public + n_bare]
    for n, k in enumerate(picked):
        blocks[k][4] = "public" if n < n_public else "construction"

    cover_of = {"park": LANDCOVER["grass"], "public": LANDCOVER["grass"],
                "apartment": LANDCOVER["grass"], "construction": LANDCOVER["bare"]}
    rects, kinds, core_dist = [], [], []
    for r0, r1, c0, c1, kind, dist_core in blocks:
        block = lc[r0:r1, c0:c1]
        block[urban[r0:r1, c0:c1]] = cover_of.get(kind, LANDCOVER["urban_open"])
        if kind in ("park", "construction"):
            continue
        new = (_public_building(rng, r0, r1, c0, c1, cell) if kind == "public"
               else _pack_block(rng, r0, r1, c0, c1, _STYLES[kind], cell))
        rects += new
        kinds += [_KINDS.index(kind)] * len(new)
        core_dist += [dist_core] * len(new)

    # parks: grass with groves
    lc[park_cells] = np.where(terrain["green"][park_cells] > 0.55,
                              LANDCOVER["forest"], LANDCOVER["grass"])
    lc[terrain["riverside"]] = LANDCOVER["grass"]
    lc[terrain["water"]] = LANDCOVER["water"]
    lc[road] = LANDCOVER["road"]

    rects = np.array(rects, dtype=np.int64).reshape(-1, 4)
    keep = _fully_inside(rects, sat)
    return lc, rects[keep], np.array(kinds, dtype=np.int64)[keep], np.array(core_dist)[keep]


def _pick_parks(rng, terrain, row_iv, col_iv, core, core_r, n, cell) -> list:
    """Choose ``n`` city parks of 2 x 2 blocks, outside the core and away from the river.

    Returns the (row, column) block indices of each park's north-west block.
    """
    starts_r, starts_c = row_iv[:, 0], col_iv[:, 0]
    ok = terrain["urban"] & (terrain["d"] > 150.0) & (terrain["hills"] == 0.0)
    rr, cc = np.nonzero(ok[::4, ::4])
    order = rng.permutation(len(rr))
    parks: list = []
    taken: set = set()
    for p in order:
        r, c = rr[p] * 4, cc[p] * 4
        if math.hypot((c + 0.5) * cell - core[0], (r + 0.5) * cell - core[1]) < core_r:
            continue
        i = int(np.searchsorted(starts_r, r, side="right")) - 1
        j = int(np.searchsorted(starts_c, c, side="right")) - 1
        if not (0 <= i < len(row_iv) - 1 and 0 <= j < len(col_iv) - 1):
            continue
        quad = {(i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1)}
        if quad & taken:
            continue
        taken |= quad
        parks.append((i, j))
        if len(parks) == n:
            break
    return parks


def _cells(lo_hi_m: tuple[float, float], cell: float, minimum: int = 1) -> tuple[int, int]:
    """A (min, max) length range in metres as a whole-cell range inside it."""
    lo = max(minimum, math.ceil(lo_hi_m[0] / cell - 1e-9))
    hi = max(lo, math.floor(lo_hi_m[1] / cell + 1e-9))
    return lo, hi


def _pack_block(rng, r0, r1, c0, c1, style, cell) -> list:
    """Rows of rectangular footprints inside one block (cells), randomly oriented.

    Footprints are rows of ``depth`` x ``length`` rectangles separated by gaps of at least one
    cell, set back from the block edge; the last rectangle of a row or the last row is shortened
    to fit when it stays within the style's range.
    """
    depth_m, length_m, gap_d_m, gap_l_m, setback_m = style
    dlo, dhi = _cells(depth_m, cell)
    llo, lhi = _cells(length_m, cell)
    gdlo, gdhi = _cells(gap_d_m, cell)
    gllo, glhi = _cells(gap_l_m, cell)
    sb = max(1, int(round(setback_m / cell)))
    transpose = rng.random() < 0.5
    a0, a1, b0, b1 = (c0, c1, r0, r1) if transpose else (r0, r1, c0, c1)
    rects = []
    a = a0 + sb
    while True:
        dep = min(int(rng.integers(dlo, dhi + 1)), a1 - sb - a)
        if dep < dlo:
            break
        b = b0 + sb
        while True:
            ln = min(int(rng.integers(llo, lhi + 1)), b1 - sb - b)
            if ln < llo:
                break
            rects.append((b, b + ln, a, a + dep) if transpose else (a, a + dep, b, b + ln))
            b += ln + int(rng.integers(gllo, glhi + 1))
        a += dep + int(rng.integers(gdlo, gdhi + 1))
    return rects


def _public_building(rng, r0, r1, c0, c1, cell) -> list:
    """One public building of 30-60 m sides centred in its block (cells), if it fits."""
    sb = max(1, int(round(8.0 / cell)))
    lo, hi = _cells((30.0, 60.0), cell)
    h = min(int(rng.integers(lo, hi + 1)), r1 - r0 - 2 * sb)
    w = min(int(rng.integers(lo, hi + 1)), c1 - c0 - 2 * sb)
    if min(h, w) < _cells((10.0, 60.0), cell)[0]:
        return []
    ra, ca = (r0 + r1 - h) // 2, (c0 + c1 - w) // 2
    return [(ra, ra + h, ca, ca + w)]


def _summed_area(mask: np.ndarray) -> np.ndarray:
    """Summed-area table of a boolean mask, shape ``(ny + 1, nx + 1)``, with a zero first
    row and column."""
    sat = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(np.cumsum(mask, axis=0, dtype=np.int32), axis=1, out=sat[1:, 1:])
    return sat


def _fully_inside(rects: np.ndarray, sat: np.ndarray) -> np.ndarray:
    """Which rectangles ``(r0, r1, c0, c1)`` lie wholly in the mask of summed-area table ``sat``."""
    r0, r1, c0, c1 = rects.T
    inside = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
    return inside == (r1 - r0) * (c1 - c0)


def _paint_buildings(rects: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Building-id raster: rectangle k gets id k + 1."""
    bid = np.zeros(shape, dtype=np.int32)
    for k, (r0, r1, c0, c1) in enumerate(rects):
        bid[r0:r1, c0:c1] = k + 1
    return bid


def _heights(rng: np.random.Generator, kinds: np.ndarray, core_dist: np.ndarray) -> np.ndarray:
    """Building heights (m) by kind: storeys times storey height.

    Low-rise 1-4 storeys of 3 m; apartments 10-25 storeys of 3 m; commercial 3-20 storeys of
    4 m, taller towards the core centre; industrial sheds 6-15 m; public 3-7 storeys of 4 m.
    """
    u = rng.random(kinds.size)
    lowrise = 3.0 * (1 + np.floor(4 * u))
    apartment = 3.0 * (10 + np.floor(16 * u))
    commercial = 4.0 * (3 + np.floor(18 * u ** (1.0 + 3.0 * np.clip(core_dist, 0.0, 1.0))))
    industrial = 6.0 + 0.5 * np.floor(19 * u)
    public = 4.0 * (3 + np.floor(5 * u))
    return np.choose(kinds, [lowrise, apartment, commercial, industrial, public])


def _underpasses(rng: np.random.Generator, z: np.ndarray, terrain: dict, roads: dict,
                 cell: float) -> None:
    """Cut road-width underpasses into ``z`` (in place) where arterials cross other roads.

    Each is a cosine-shaped dip 120-180 m long along the arterial whose floor lies 2.2-3.8 m
    below the lowest ground around it (the level at which it spills), kept only where its floor
    stays at least 0.3 m above the river's bank-cell bed in the same rows, so the river remains
    the lowest land of every row.
    """
    ny, nx = z.shape
    n_wanted = max(2, int(round(3 * (nx * cell / 2500.0) ** 2)))
    road = roads["road"]
    candidates = []      # (along rows?, arterial line, crossing line)
    for along_rows, own, other in ((True, roads["cols"], roads["rows"]),
                                   (False, roads["rows"], roads["cols"])):
        for a in own[own[:, 2] == 1]:
            for b in other:
                candidates.append((along_rows, a, b))
    placed = np.zeros_like(road)
    for p in rng.permutation(len(candidates)):
        along_rows, (a0, a1, _), (b0, b1, _) = candidates[p]
        half = int(round(rng.uniform(60.0, 90.0) / cell))
        mid = (b0 + b1) // 2
        s0, s1 = max(0, mid - half), min(ny if along_rows else nx, mid + half + 1)
        win = (slice(s0, s1), slice(a0, a1)) if along_rows else (slice(a0, a1), slice(s0, s1))
        on_road = road[win]
        centre = (mid, (a0 + a1) // 2) if along_rows else ((a0 + a1) // 2, mid)
        if (placed[max(0, win[0].start - 2):win[0].stop + 2,
                   max(0, win[1].start - 2):win[1].stop + 2].any()
                or not on_road.all() or terrain["d"][centre] < 150.0):
            continue
        t = (np.arange(s0, s1) - mid) / half
        shape = 0.5 * (1.0 + np.cos(np.pi * np.clip(t, -1.0, 1.0)))
        ring = z[max(0, win[0].start - 1):win[0].stop + 1,
                 max(0, win[1].start - 1):win[1].stop + 1]
        floor = z[(mid, win[1]) if along_rows else (win[0], mid)].min()
        cut = rng.uniform(2.2, 3.8) + floor - ring.min()
        dip = cut * (shape[:, None] if along_rows else shape[None, :])
        bank = terrain["bank_z"][win[0]][:, None]
        if np.any(z[win] - dip <= bank + 0.3):
            continue
        z[win] -= dip
        placed[win] = True
        n_wanted -= 1
        if n_wanted == 0:
            break


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------

#: Storage dtype and nodata of each written raster. Elevation is stored as float32 (steps of
#: 0.015 mm at 128-256 m); 0 in the building rasters means "no building", not "no data", so
#: they have no nodata value; land-cover code 0 means unknown.
_STORAGE = {
    "elevation": ("float32", float("nan")),
    "building_height": ("float64", None),
    "building_id": ("int32", None),
    "building_use": ("int8", None),
    "landcover": ("int8", 0),
}


def write_sample_city(city: SampleCity, out_dir: str | Path) -> Path:
    """Write the city as GeoTIFFs, a ``twin.yaml`` manifest and a README into ``out_dir``.

    The files are written into a temporary sibling folder which is then renamed into place,
    so ``out_dir`` never holds a half-written city. An existing ``out_dir`` is replaced only if
    it holds nothing but files of a sample city.

    Parameters
    ----------
    city : SampleCity
        The generated city.
    out_dir : str or Path
        Destination folder.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    InputError
        If ``out_dir`` exists and holds files other than a sample city's.
    """
    out_dir = Path(out_dir)
    ours = {*RASTER_FILES.values(), "twin.yaml", "README.md"}
    if out_dir.exists():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
        if foreign:
            raise InputError("output folder holds other files; refusing to replace it",
                             file=out_dir, expected="an empty or sample-city folder",
                             found=", ".join(foreign[:5]))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, array in city.rasters().items():
            _write_raster(tmp / RASTER_FILES[name], name, array, city)
        manifest = {"name": NAME, "crs": city.crs, "rasters": dict(RASTER_FILES)}
        (tmp / "twin.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        (tmp / "README.md").write_text(readme_text(city, out_dir))
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            out_dir.rename(old / out_dir.name)
            tmp.rename(out_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out_dir


def _write_raster(path: Path, name: str, array: np.ndarray, city: SampleCity) -> None:
    """One tiled, deflate-compressed single-band GeoTIFF with the field's CF attributes."""
    dtype, nodata = _STORAGE[name]
    ny, nx = array.shape
    profile = dict(driver="GTiff", width=nx, height=ny, count=1, dtype=dtype, crs=city.crs,
                   transform=city.transform, nodata=nodata, tiled=True, blockxsize=256,
                   blockysize=256, compress="deflate",
                   predictor=3 if dtype.startswith("float") else 2)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype(dtype), 1)
        attrs = TWIN_FIELDS.cf_attrs(name)
        dst.update_tags(1, **attrs)
        dst.set_band_description(1, attrs["long_name"])
        dst.units = (attrs["units"],)


def readme_text(city: SampleCity, out_dir: str | Path) -> str:
    """The README of a written sample city: fields, codes, size, figures and the command.

    Parameters
    ----------
    city : SampleCity
        The city the README describes.
    out_dir : str or Path
        The folder, as given to :func:`write_sample_city` (it appears in the command line).

    Returns
    -------
    str
        Markdown text.
    """
    ny, nx = city.shape
    cell = city.cell
    t = city.transform
    lc = city.landcover
    n_build = int(city.building_id.max())
    # one value per building: ids are contiguous rectangles, so first-cell lookup is exact
    first = np.unique(city.building_id.ravel(), return_index=True)[1][1:]
    per_building = city.building_use.ravel()[first]
    counts = np.bincount(per_building, minlength=5)
    heights = city.building_height.ravel()[first]
    rows = []
    for name in RASTER_FILES:
        f = TWIN_FIELDS[name]
        dtype, nodata = _STORAGE[name]
        rows.append(f"| `{RASTER_FILES[name]}` | {dtype} | {f.units or '-'} | "
                    f"{'none' if nodata is None else nodata} | {f.long_name} |")
    shares = "\n".join(f"  - {k} {100 * np.mean(lc == v):.1f} %" for k, v in LANDCOVER.items())
    command = (f"python -m twin.samples.city --size-m {nx * cell:g} --cell {cell:g} "
               f"--seed {city.seed} --out {Path(out_dir).as_posix()}")
    water = lc == LANDCOVER["water"]
    relief = city.elevation - np.where(water, city.elevation, np.inf).min(axis=1)[:, None]
    centre = np.array([np.flatnonzero(row).mean() for row in water])[:, None]
    cols = np.arange(nx)[None, :]
    west, east = relief[cols < centre].max(), relief[cols > centre].max()
    uses = ", ".join(f"{counts[v]} {k}" for k, v in BUILDING_USE.items())
    return f"""# Sample city: a synthetic Daejeon-like district

Synthetic test data for the flood and fire models; **not survey data**. Generated by
`twin/samples/city.py` (see its module docstring for the design); do not edit these files by hand,
regenerate them:

    {command}

`tests/test_sample_city.py` checks that the committed copy equals what the generator produces.

## Grid

- CRS `{city.crs}` (Korea 2000 / Central Belt 2010), metres; centred on Daejeon city hall
  ({CITY_HALL_LONLAT[1]} N, {CITY_HALL_LONLAT[0]} E).
- {ny} rows x {nx} columns of {cell:g} m cells ({nx * cell / 1000:g} km x {ny * cell / 1000:g} km),
  north-up; north-west corner at easting {t.c:.0f} m, northing {t.f:.0f} m.
- Rows run north to south (row 0 at the north edge), as rasterio reads them.

## Files

`twin.yaml` lists the rasters (paths relative to it). Each GeoTIFF is single-band, tiled and
deflate-compressed, with the field's units and long name as band tags.

| file | dtype | units | nodata | meaning |
|---|---|---|---|---|
{chr(10).join(rows)}

Land-cover codes: {", ".join(f"{v} {k}" for k, v in LANDCOVER.items())}.
Building-use codes: 0 none, {", ".join(f"{v} {k}" for k, v in BUILDING_USE.items())}.
Building cells have land cover 3, a height above 0, an id above 0 and a use of 1-4; all other
cells have height 0, id 0 and use 0. Ids 1..N are contiguous; each building is one rectangle.

## What is in it

- A river flowing north to south (bankfull 24-36 m wide, 2.5-3.5 m deep, meandering gently),
  its bed the lowest land of every row and falling 1 m per km; the river is continuous water
  (bridges are not represented).
- A floodplain rising 0.4 % away from the river with 0-1 m of smooth micro-relief; hills on the
  west and east rising {west:.0f} m and {east:.0f} m above the river bed (forest, grass at the
  urban edge).
- A street grid (10-25 m local roads, 40 m arterials) with road-width underpasses 2-4 m deep on
  arterials, where water ponds.
- {n_build} buildings ({uses}),
  heights {heights.min():g}-{heights.max():g} m: a commercial core, apartment slabs and low-rise
  housing, an industrial strip by the river, public buildings, a riverside park, city parks and
  construction sites (bare).
- Elevation {float(np.nanmin(city.elevation)):.2f}-{float(np.nanmax(city.elevation)):.2f} m a.s.l.
- Land-cover shares:
{shares}
"""


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m twin.samples.city [--size-m M] [--cell M] [--seed N] --out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m twin.samples.city",
                                     description="Generate the synthetic Daejeon-like sample city.")
    parser.add_argument("--size-m", type=float, default=2500.0, help="district side (m)")
    parser.add_argument("--cell", type=float, default=5.0, help="cell size (m)")
    parser.add_argument("--seed", type=int, default=20261125, help="random seed")
    parser.add_argument("--out", default="data/sample_city", help="output folder")
    args = parser.parse_args(argv)
    city = generate_sample_city(args.size_m, args.cell, args.seed)
    print(write_sample_city(city, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
