"""Grid meshes of a city twin: the lit terrain, and cells draped on it (water surface, colour layers),
isochrone lines and point markers.

All meshes are :class:`pyvista.PolyData` in *local* metres: x is easting and y northing measured
from the twin's south-west corner (the outer edge of cell ``(ny-1, 0)``), z is elevation above
the datum times the vertical exaggeration. Local coordinates keep float32 rendering precise for
projected CRS whose eastings are in the hundreds of thousands of metres; the corner's easting and
northing (m) are stored in ``field_data["origin"]``.

The terrain has a point at each cell centre and a quad joining each 2x2 block of centres. A
layer is drawn *per cell*: each drawn cell is the square it covers, split into four quads through
its centre, its edge midpoints and its corners (a grid of half-cell spacing), so that every cell
of a layer is visible by itself, a single wet cell included. Those points lie on the terrain
surface or above it: an edge midpoint at the mean of the two centres it joins (on the terrain's
edge), a corner at the higher of the means of the two diagonals of the terrain quad around it
(VTK splits a quad along one diagonal; either way the corner is not below it). Within each of
the cell's four quads the terrain is one plane, or two planes meeting on the diagonal VTK splits
both quads along, so the draped cell never dips below the terrain. It is lifted by
:data:`LIFT_M` on top, and a water surface by the depth as well.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
import xarray as xr
from contourpy import contour_generator

from viz.legend import LANDCOVER_RGB

#: Height (m, after exaggeration) of a draped layer above the terrain, against z-fighting.
LIFT_M = 0.3


def grid_origin(twin: xr.Dataset) -> tuple[float, float, float]:
    """South-west corner and cell size of a twin's grid.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin with cell-centre coordinates ``x`` (m, increasing) and ``y`` (m, decreasing) and
        ``attrs["cell_size"]`` (m).

    Returns
    -------
    tuple of float
        ``(easting, northing, dx)`` of the outer south-west corner (m) and the cell size (m).
    """
    dx = float(twin.attrs["cell_size"])
    return float(twin.x.min()) - dx / 2, float(twin.y.min()) - dx / 2, dx


def cell_centres(shape: tuple[int, int], dx: float) -> tuple[np.ndarray, np.ndarray]:
    """Local x and y (m) of every cell centre of a north-up grid, arrays of ``shape`` (ny, nx)."""
    ny, nx = shape
    x = (np.arange(nx) + 0.5) * dx
    y = (ny - np.arange(ny) - 0.5) * dx      # row 0 is the north edge
    return np.broadcast_to(x, shape), np.broadcast_to(y[:, None], shape)


def elevation_of(twin: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (m) with non-finite values set to 0, and the mask of cells inside the domain."""
    z = np.asarray(twin["elevation"].values, dtype=np.float64)
    inside = np.isfinite(z)
    if "domain_mask" in twin:
        inside &= np.asarray(twin["domain_mask"].values) == 1
    return np.where(np.isfinite(z), z, 0.0), inside


def _with_origin(mesh: pv.PolyData, twin: xr.Dataset) -> pv.PolyData:
    e0, n0, _ = grid_origin(twin)
    mesh.field_data["origin"] = np.array([e0, n0])
    return mesh


def terrain_mesh(twin: xr.Dataset, exaggeration: float = 1.0) -> pv.PolyData:
    """Terrain surface through the cell centres, tinted by land cover.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin with ``elevation`` (m); ``landcover`` and ``domain_mask`` are used when present.
    exaggeration : float
        Vertical exaggeration (dimensionless); z = elevation x exaggeration (m).

    Returns
    -------
    pyvista.PolyData
        Quads inside the domain (a quad where all four corners are inside), with point data
        ``elevation`` (m, not exaggerated) and ``rgb`` (uint8 land-cover tint,
        :data:`viz.legend.LANDCOVER_RGB`).
    """
    z, inside = elevation_of(twin)
    ny, nx = z.shape
    lc = (np.asarray(twin["landcover"].values) if "landcover" in twin
          else np.zeros(z.shape, dtype=np.int8))
    lc = np.where((lc >= 0) & (lc < len(LANDCOVER_RGB)), lc, 0)
    idx = np.arange(ny * nx).reshape(ny, nx)
    sw, se, ne, nw = idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:], idx[:-1, :-1]
    flat = inside.ravel()
    keep = flat[sw] & flat[se] & flat[ne] & flat[nw]
    quads = np.stack([c[keep] for c in (sw, se, ne, nw)], axis=1)
    used, local = np.unique(quads, return_inverse=True)
    x, y = cell_centres((ny, nx), grid_origin(twin)[2])
    points = np.column_stack([x.ravel()[used], y.ravel()[used], (z * exaggeration).ravel()[used]])
    faces = np.column_stack([np.full(len(quads), 4), local.reshape(-1, 4)]).ravel()
    mesh = pv.PolyData(points, faces=faces)
    mesh.point_data["elevation"] = z.ravel()[used]
    mesh.point_data["rgb"] = LANDCOVER_RGB[lc].reshape(-1, 3)[used]
    return _with_origin(mesh, twin)


def half_cell_ground(z: np.ndarray) -> np.ndarray:
    """Terrain heights on the grid of half-cell spacing that draped cells are built on.

    Parameters
    ----------
    z : numpy.ndarray, shape (ny, nx)
        Height of each cell centre (m).

    Returns
    -------
    numpy.ndarray, shape (2 ny + 1, 2 nx + 1)
        Point ``(2i + 1, 2j + 1)`` is the centre of cell ``(i, j)``, ``(2i + 1, 2j)`` the middle
        of its west edge, ``(2i, 2j)`` its north-west corner. Edge midpoints take the mean of
        the two centres they join, corners the higher mean of the two diagonals of the four
        centres around them; beyond the rim the edge row or column is repeated.
    """
    ny, nx = z.shape
    zp = np.pad(z, 1, mode="edge")
    out = np.empty((2 * ny + 1, 2 * nx + 1))
    out[1::2, 1::2] = z
    out[1::2, 0::2] = 0.5 * (zp[1:-1, :-1] + zp[1:-1, 1:])
    out[0::2, 1::2] = 0.5 * (zp[:-1, 1:-1] + zp[1:, 1:-1])
    nw, ne, sw, se = zp[:-1, :-1], zp[:-1, 1:], zp[1:, :-1], zp[1:, 1:]
    out[0::2, 0::2] = np.maximum(0.5 * (nw + se), 0.5 * (ne + sw))
    return out


def half_cell_mean(values: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """The mean of ``values`` over the shown cells that touch each point of the half-cell grid
    (:func:`half_cell_ground`), 0 where none does: a cell's own value at its centre, the mean of
    two cells at an edge midpoint, of up to four at a corner."""
    v = np.where(shown, values, 0.0)
    n = shown.astype(np.float64)
    vp, np_ = np.pad(v, 1), np.pad(n, 1)
    ny, nx = v.shape
    total = np.zeros((2 * ny + 1, 2 * nx + 1))
    count = np.zeros_like(total)
    total[1::2, 1::2], count[1::2, 1::2] = v, n
    total[1::2, 0::2] = vp[1:-1, :-1] + vp[1:-1, 1:]
    count[1::2, 0::2] = np_[1:-1, :-1] + np_[1:-1, 1:]
    total[0::2, 1::2] = vp[:-1, 1:-1] + vp[1:, 1:-1]
    count[0::2, 1::2] = np_[:-1, 1:-1] + np_[1:, 1:-1]
    total[0::2, 0::2] = vp[:-1, :-1] + vp[:-1, 1:] + vp[1:, :-1] + vp[1:, 1:]
    count[0::2, 0::2] = np_[:-1, :-1] + np_[:-1, 1:] + np_[1:, :-1] + np_[1:, 1:]
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


#: The four quads of a cell on the half-cell grid, as (row, col) offsets from the cell's
#: north-west corner point, each counter-clockwise seen from above from its south-west corner.
_CELL_QUADS = tuple(((r + 1, c), (r + 1, c + 1), (r, c + 1), (r, c)) for r in (0, 1) for c in (0, 1))


def draped_cells(twin: xr.Dataset, shown: np.ndarray, rgb: np.ndarray, *, exaggeration: float = 1.0,
                 depth: np.ndarray | None = None, ground: np.ndarray | None = None) -> pv.PolyData:
    """The shown cells draped on the terrain (or floating at the water surface), one flat colour each.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin with ``elevation`` (m).
    shown : numpy.ndarray of bool, shape (ny, nx)
        Cells to draw.
    rgb : numpy.ndarray of uint8, shape (ny, nx, 3)
        Colour of each cell (only the shown cells' are used).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    depth : numpy.ndarray, shape (ny, nx), optional
        Water depth (m): the surface is raised by the mean depth of the shown cells at each of its
        points (:func:`half_cell_mean`), so neighbouring wet cells join without steps.
    ground : numpy.ndarray, optional
        :func:`half_cell_ground` of the elevation, when the caller keeps it between frames.

    Returns
    -------
    pyvista.PolyData
        Four quads per shown cell (possibly none) at ground (+ depth) x exaggeration + :data:`LIFT_M`,
        with cell data ``rgb`` (uint8) and ``cell`` (the flat grid index of the cell it belongs to).
    """
    z, inside = elevation_of(twin)
    ny, nx = z.shape
    shown = np.asarray(shown, dtype=bool) & inside
    if ground is None:
        ground = half_cell_ground(z)
    rows, cols = np.nonzero(shown)
    if rows.size == 0:
        return _with_origin(pv.PolyData(), twin)
    width = 2 * nx + 1
    corner = (2 * rows) * width + 2 * cols
    quads = np.concatenate([np.stack([corner + r * width + c for r, c in quad], axis=1) for quad in _CELL_QUADS])
    used, local = np.unique(quads, return_inverse=True)
    height = ground if depth is None else ground + half_cell_mean(np.nan_to_num(depth), shown)
    pr, pc = np.divmod(used, width)
    dx = grid_origin(twin)[2]
    points = np.column_stack([pc * dx / 2, (2 * ny - pr) * dx / 2, height.ravel()[used] * exaggeration + LIFT_M])
    faces = np.column_stack([np.full(len(quads), 4), local.reshape(-1, 4)]).ravel()
    mesh = pv.PolyData(points, faces=faces)
    cells = np.tile(rows * nx + cols, len(_CELL_QUADS))
    mesh.cell_data["rgb"] = np.asarray(rgb).reshape(-1, 3)[cells].astype(np.uint8)
    mesh.cell_data["cell"] = cells
    return _with_origin(mesh, twin)


def water_mesh(twin: xr.Dataset, depth: np.ndarray, threshold: float = 0.05, exaggeration: float = 1.0,
               rgb: np.ndarray | None = None) -> pv.PolyData:
    """The water surface: every cell deeper than ``threshold`` (m), at ground + depth.

    Parameters
    ----------
    twin : xarray.Dataset
    depth : numpy.ndarray, shape (ny, nx)
        Water depth (m); NaN counts as dry.
    threshold : float
        Depth (m) above which a cell is drawn as wet.
    exaggeration : float
        Vertical exaggeration (dimensionless).
    rgb : numpy.ndarray of uint8, shape (ny, nx, 3), optional
        Colour of each cell; default one blue.

    Returns
    -------
    pyvista.PolyData
        :func:`draped_cells` of the wet cells, with cell data ``depth`` (m) added.
    """
    d = np.nan_to_num(np.asarray(depth, dtype=np.float64))
    wet = d > threshold
    if rgb is None:
        rgb = np.broadcast_to(np.array([66, 146, 198], dtype=np.uint8), (*d.shape, 3))
    mesh = draped_cells(twin, wet, rgb, exaggeration=exaggeration, depth=np.where(wet, d, 0.0))
    if mesh.n_cells:
        mesh.cell_data["depth"] = d.ravel()[mesh.cell_data["cell"]]
    return mesh


def ground_at(twin: xr.Dataset, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Terrain height (m, not exaggerated) at local points (m), bilinear between cell centres."""
    z, _ = elevation_of(twin)
    ny, nx = z.shape
    dx = grid_origin(twin)[2]
    col = np.clip(np.asarray(x) / dx - 0.5, 0, nx - 1)
    row = np.clip(ny - np.asarray(y) / dx - 0.5, 0, ny - 1)
    c0, r0 = np.minimum(col.astype(int), nx - 2 if nx > 1 else 0), np.minimum(row.astype(int), ny - 2 if ny > 1 else 0)
    fc, fr = col - c0, row - r0
    c1, r1 = np.minimum(c0 + 1, nx - 1), np.minimum(r0 + 1, ny - 1)
    return ((1 - fr) * ((1 - fc) * z[r0, c0] + fc * z[r0, c1]) + fr * ((1 - fc) * z[r1, c0] + fc * z[r1, c1]))


def isochrones(twin: xr.Dataset, arrival: np.ndarray, every_s: float, exaggeration: float = 1.0) -> pv.PolyData:
    """Lines of equal arrival time every ``every_s`` seconds, draped on the terrain.

    An isochrone runs only through cells the hazard reached (NaN arrival is masked): where the
    front stopped before a time, that time has no line.

    Parameters
    ----------
    twin : xarray.Dataset
    arrival : numpy.ndarray, shape (ny, nx)
        Arrival time (s), NaN where never reached.
    every_s : float
        Interval between isochrones (s).
    exaggeration : float

    Returns
    -------
    pyvista.PolyData
        Line cells with cell data ``time_s`` (s), at the terrain x exaggeration + 2 :data:`LIFT_M`.
    """
    t = np.asarray(arrival, dtype=np.float64)
    finite = np.isfinite(t)
    if not finite.any():
        return _with_origin(pv.PolyData(), twin)
    ny, nx = t.shape
    x, y = cell_centres((ny, nx), grid_origin(twin)[2])
    generator = contour_generator(x=x[0], y=y[:, 0], z=np.ma.masked_invalid(t), line_type="SeparateCode")
    points, lines, times = [], [], []
    start = 0
    for level in np.arange(every_s, float(np.nanmax(t)) + every_s / 2, every_s):
        for segment in generator.lines(level)[0]:
            points.append(segment)
            lines.append(np.concatenate([[len(segment)], start + np.arange(len(segment))]))
            times.append(level)
            start += len(segment)
    if not points:
        return _with_origin(pv.PolyData(), twin)
    xy = np.concatenate(points)
    z = ground_at(twin, xy[:, 0], xy[:, 1]) * exaggeration + 2 * LIFT_M
    mesh = pv.PolyData(np.column_stack([xy, z]), lines=np.concatenate(lines))
    mesh.cell_data["time_s"] = np.asarray(times)
    return _with_origin(mesh, twin)


def local_xy(twin: xr.Dataset, easting: float, northing: float) -> tuple[float, float]:
    """Local scene coordinates (m) of a point given in the twin's CRS (m)."""
    e0, n0, _ = grid_origin(twin)
    return easting - e0, northing - n0


def pin(twin: xr.Dataset, x: float, y: float, height: float, exaggeration: float = 1.0) -> pv.PolyData:
    """A marker standing on the ground at local ``(x, y)`` (m): a thin post of ``height`` (m,
    after exaggeration) with a ball on top; its label goes at the top of its bounds."""
    base = float(ground_at(twin, np.array([x]), np.array([y]))[0]) * exaggeration
    post = pv.Cylinder(center=(x, y, base + height / 2), direction=(0, 0, 1), radius=height / 40,
                       height=height, resolution=12)
    ball = pv.Sphere(radius=height / 8, center=(x, y, base + height), theta_resolution=16, phi_resolution=16)
    merged = pv.merge([post.triangulate(), ball.triangulate()])
    return _with_origin(merged, twin)
