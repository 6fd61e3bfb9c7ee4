"""Sample city blocks and buildings: zoning, parks, footprints, heights and land cover.

See :mod:`twin.samples.city` for the design; lengths in metres, footprints in cells.
"""

from __future__ import annotations

import math

import numpy as np

from twin.core.classes import BUILDING_USE, LANDCOVER
from twin.samples.streets import block_intervals

_HILL_GRASS_LIMIT = 8.0          # m, hill relief below which the urban edge is grass

# Building styles: (depth range, length range, gap along depth, gap along length, setback), m.
_STYLES = {
    "lowrise": ((10, 18), (10, 20), (3, 6), (3, 6), 4),
    "apartment": ((12, 18), (30, 60), (16, 28), (6, 12), 6),
    "commercial": ((20, 50), (20, 50), (4, 10), (4, 10), 3),
    "industrial": ((30, 60), (30, 60), (8, 15), (8, 15), 6),
}
_KINDS = ("lowrise", "apartment", "commercial", "industrial", "public")
#: Building-use code (:data:`twin.core.classes.BUILDING_USE`) of each building kind, by kind index.
USE_OF_KIND = np.array([BUILDING_USE["residential"], BUILDING_USE["residential"],
                        BUILDING_USE["commercial"], BUILDING_USE["industrial"],
                        BUILDING_USE["public"]], dtype=np.int8)


def lay_out_blocks(rng: np.random.Generator, terrain: dict, roads: dict, cell: float):
    """Zone the blocks, lay out their buildings and paint land cover.

    Returns the land-cover raster (buildings not yet painted), the building rectangles
    ``(r0, r1, c0, c1)`` in cells, their kind index into ``_KINDS`` and, for commercial
    buildings, the distance to the core centre relative to the core radius. The streets
    inside city parks are removed from ``roads["road"]`` in place.
    """
    ny, nx = terrain["z"].shape
    size = nx * cell
    area_ratio = (size / 2500.0) ** 2
    row_iv, col_iv = block_intervals(roads["rows"], ny), block_intervals(roads["cols"], nx)
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


def paint_buildings(rects: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Building-id raster: rectangle k gets id k + 1."""
    bid = np.zeros(shape, dtype=np.int32)
    for k, (r0, r1, c0, c1) in enumerate(rects):
        bid[r0:r1, c0:c1] = k + 1
    return bid


def building_heights(rng: np.random.Generator, kinds: np.ndarray, core_dist: np.ndarray) -> np.ndarray:
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
