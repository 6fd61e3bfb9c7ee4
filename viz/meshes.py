"""Grid meshes of a city twin: lit terrain, translucent water surface, draped colour layer, north arrow.

All meshes are :class:`pyvista.PolyData` in *local* metres: x is easting and y northing measured
from the twin's south-west corner (the outer edge of cell ``(ny-1, 0)``), z is elevation above
the datum times the vertical exaggeration. Local coordinates keep float32 rendering precise for
projected CRS whose eastings are in the hundreds of thousands of metres; the corner's easting and
northing (m) are stored in ``field_data["origin"]``.

Raster values live at cell centres; a mesh point sits at each cell centre and a quad joins each
2x2 block of centres, so a surface spans the domain less half a cell at its rim.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
import xarray as xr

#: RGB tint (0-255) by land-cover code (0 unknown, 1 water, 2 road, 3 building, 4 grass,
#: 5 forest, 6 bare, 7 urban open); see ``twin.core.classes.LANDCOVER``.
LANDCOVER_RGB = np.array([
    [170, 170, 170],
    [105, 150, 195],
    [140, 140, 140],
    [190, 180, 170],
    [150, 190, 110],
    [70, 120, 60],
    [205, 185, 145],
    [205, 200, 190],
], dtype=np.uint8)


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


def grid_surface(z: np.ndarray, shown: np.ndarray, dx: float, *, rule: str = "all",
                 point_data: dict[str, np.ndarray] | None = None) -> pv.PolyData:
    """Quad surface through the cell centres of a raster, keeping the quads chosen by ``shown``.

    Parameters
    ----------
    z : numpy.ndarray, shape (ny, nx)
        Height of each cell-centre point (m, already exaggerated).
    shown : numpy.ndarray of bool, shape (ny, nx)
        Points that belong to the surface.
    dx : float
        Cell size (m).
    rule : {"all", "any"}
        A quad is kept when all (or any) of its four corner points are shown.
    point_data : dict of str to numpy.ndarray, optional
        Rasters of shape (ny, nx) or (ny, nx, k) attached as point data.

    Returns
    -------
    pyvista.PolyData
        Quads with upward normals (counter-clockwise seen from above); unused points removed.
    """
    ny, nx = z.shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    sw, se, ne, nw = idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:], idx[:-1, :-1]
    flat = shown.ravel()
    corner_shown = np.stack([flat[c] for c in (sw, se, ne, nw)])
    keep = corner_shown.all(axis=0) if rule == "all" else corner_shown.any(axis=0)
    quads = np.stack([c[keep] for c in (sw, se, ne, nw)], axis=1)
    used, local = np.unique(quads, return_inverse=True)
    x, y = cell_centres((ny, nx), dx)
    points = np.column_stack([x.ravel()[used], y.ravel()[used], z.ravel()[used]])
    faces = np.column_stack([np.full(len(quads), 4), local.reshape(-1, 4)]).ravel()
    mesh = pv.PolyData(points, faces=faces)
    for name, values in (point_data or {}).items():
        values = np.asarray(values)
        mesh.point_data[name] = values.reshape(ny * nx, *values.shape[2:])[used]
    return mesh


def _elevation(twin: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (m) with non-finite values set to 0, and the mask of usable cells."""
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
        Quads inside the domain, with point data ``elevation`` (m, not exaggerated) and
        ``rgb`` (uint8 land-cover tint).
    """
    z, inside = _elevation(twin)
    lc = (np.asarray(twin["landcover"].values) if "landcover" in twin
          else np.zeros(z.shape, dtype=np.int8))
    lc = np.where((lc >= 0) & (lc < len(LANDCOVER_RGB)), lc, 0)
    mesh = grid_surface(z * exaggeration, inside, grid_origin(twin)[2], rule="all",
                        point_data={"elevation": z, "rgb": LANDCOVER_RGB[lc]})
    return _with_origin(mesh, twin)


def water_mesh(twin: xr.Dataset, depth: np.ndarray, threshold: float = 0.05,
               exaggeration: float = 1.0) -> pv.PolyData:
    """Water surface at elevation + depth where the depth exceeds a threshold.

    A quad is drawn where any of its corners is wet; dry corners sit at the ground, so the
    surface meets the terrain at the wet edge.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin with ``elevation`` (m).
    depth : numpy.ndarray, shape (ny, nx)
        Water depth (m); NaN counts as dry.
    threshold : float
        Depth (m) above which a cell is drawn as wet.
    exaggeration : float
        Vertical exaggeration (dimensionless).

    Returns
    -------
    pyvista.PolyData
        Possibly empty surface with point data ``depth`` (m).
    """
    z, inside = _elevation(twin)
    d = np.where(np.isfinite(depth), depth, 0.0)
    wet = inside & (d > threshold)
    surface = (z + np.where(wet, d, 0.0)) * exaggeration
    mesh = grid_surface(surface, wet, grid_origin(twin)[2], rule="any",
                        point_data={"depth": np.where(wet, d, 0.0)})
    return _with_origin(mesh, twin)


def drape_mesh(twin: xr.Dataset, values: np.ndarray, name: str, *, blank_zero: bool = False,
               exaggeration: float = 1.0, lift: float = 0.3) -> pv.PolyData:
    """A colour layer draped just above the terrain where ``values`` is defined.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin with ``elevation`` (m).
    values : numpy.ndarray, shape (ny, nx)
        Field to colour by (its own units); NaN is not drawn.
    name : str
        Name of the point-data array holding ``values``.
    blank_zero : bool
        Also leave out cells whose value is 0 (e.g. probability 0, not burned).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    lift : float
        Height (m, after exaggeration) of the drape above the terrain, against z-fighting.

    Returns
    -------
    pyvista.PolyData
        Possibly empty surface with point data ``name``.
    """
    z, inside = _elevation(twin)
    v = np.asarray(values, dtype=np.float64)
    shown = inside & np.isfinite(v)
    if blank_zero:
        shown &= v != 0
    mesh = grid_surface(z * exaggeration + lift, shown, grid_origin(twin)[2], rule="all",
                        point_data={name: v})
    return _with_origin(mesh, twin)


def north_arrow(bounds: tuple[float, ...]) -> pv.PolyData:
    """A 3D arrow pointing north (+y) with an "N" at its tip, near the north-west corner.

    Parameters
    ----------
    bounds : tuple of float
        ``(xmin, xmax, ymin, ymax, zmin, zmax)`` of the scene (m, local).

    Returns
    -------
    pyvista.PolyData
        Arrow and letter merged into one mesh, sized to a tenth of the scene's extent.
    """
    xmin, xmax, ymin, ymax, _, zmax = bounds
    size = 0.1 * max(xmax - xmin, ymax - ymin)
    start = (xmin + 0.08 * (xmax - xmin), ymax - 0.08 * (ymax - ymin) - size, zmax + 0.1 * size)
    arrow = pv.Arrow(start=start, direction=(0.0, 1.0, 0.0), scale=size,
                     tip_length=0.35, tip_radius=0.15, shaft_radius=0.05)
    letter = pv.Text3D("N", depth=0.1).scale(0.5 * size)
    lx = start[0] - 0.5 * (letter.bounds[1] + letter.bounds[0])
    ly = start[1] + 1.1 * size - letter.bounds[2]
    letter = letter.translate((lx, ly, start[2]))
    return pv.merge([arrow.triangulate(), letter.triangulate()])
