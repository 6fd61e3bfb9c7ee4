"""Camera presets: oblique views from the eight compass points, top-down, or a custom camera; the
area a default view frames (the most affected one); and where scene points land in the image.

The oblique presets frame a *focus* box: by default the part of the city the hazard hits hardest
(:func:`affected_box`: the weighted 5th to 95th percentiles of the affected cells' positions,
weighted by how hard each is hit, padded and never smaller than :data:`MIN_FOCUS_SHARE` of the
city's side), so that a flood that fills one valley of a large district is not a speck.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv

from twin.core.errors import InputError

#: Bearing (degrees clockwise from north) of the camera seen from the scene centre, by preset.
#: "sw" puts the camera south-west of the city, looking north-east.
COMPASS_BEARINGS = {"n": 0.0, "ne": 45.0, "e": 90.0, "se": 135.0,
                    "s": 180.0, "sw": 225.0, "w": 270.0, "nw": 315.0}

#: Every named view.
VIEWS = (*COMPASS_BEARINGS, "top")
#: Smallest side of a focus box, as a share of the city's side (dimensionless).
MIN_FOCUS_SHARE = 0.4
#: Weighted percentiles (%) of the affected cells' positions that bound the focus box.
FOCUS_PERCENTILES = (5.0, 95.0)
#: Padding of the focus box on each side, as a share of its side (dimensionless).
FOCUS_PADDING = 0.1


@dataclass(frozen=True)
class Camera:
    """A custom camera in local scene metres (see :mod:`viz.meshes`).

    Attributes
    ----------
    position : tuple of float
        Eye position (m).
    focal_point : tuple of float
        Point looked at (m).
    up : tuple of float
        View-up direction (unitless), default +z.
    """

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)


def _weighted_percentiles(values: np.ndarray, weights: np.ndarray, q: tuple[float, float]) -> np.ndarray:
    """Weighted percentiles ``q`` (%) of ``values``: the value where the cumulative weight reaches q."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return values[order][np.searchsorted(cumulative, np.asarray(q) / 100.0 * cumulative[-1])
                         .clip(0, len(values) - 1)]


def affected_box(weights: np.ndarray, dx: float, bounds: tuple[float, ...]) -> tuple[float, ...] | None:
    """The box (local m) around the most affected part of the city.

    Parameters
    ----------
    weights : numpy.ndarray, shape (ny, nx)
        How hard each cell is hit (e.g. water depth, m; 1 for a burned cell); 0 or NaN: not at all.
    dx : float
        Cell size (m).
    bounds : tuple of float
        ``(xmin, xmax, ymin, ymax, zmin, zmax)`` of the terrain (m, local).

    Returns
    -------
    tuple of float or None
        ``(xmin, xmax, ymin, ymax, zmin, zmax)``: the weighted :data:`FOCUS_PERCENTILES` of the
        cells' centres, padded by :data:`FOCUS_PADDING`, grown to at least :data:`MIN_FOCUS_SHARE`
        of the city's side about its centre, within the terrain; the terrain's z range. None when
        no cell is hit.
    """
    w = np.nan_to_num(np.asarray(weights, dtype=np.float64)).clip(min=0.0)
    rows, cols = np.nonzero(w)
    if rows.size == 0:
        return None
    ny = w.shape[0]
    x, y, wt = (cols + 0.5) * dx, (ny - rows - 0.5) * dx, w[rows, cols]
    box = []
    for values, lo, hi in ((x, bounds[0], bounds[1]), (y, bounds[2], bounds[3])):
        a, b = _weighted_percentiles(values, wt, FOCUS_PERCENTILES)
        pad = FOCUS_PADDING * (b - a) + dx
        a, b = a - pad, b + pad
        side = max(b - a, MIN_FOCUS_SHARE * (hi - lo))
        centre = min(max(0.5 * (a + b), lo + side / 2), hi - side / 2)
        box += [max(lo, centre - side / 2), min(hi, centre + side / 2)]
    return (*box, bounds[4], bounds[5])


def apply_view(plotter: pv.Plotter, view: str | Camera, bounds: tuple[float, ...],
               elevation_deg: float = 35.0, focus: tuple[float, ...] | None = None) -> None:
    """Point the plotter's camera at the scene.

    Parameters
    ----------
    plotter : pyvista.Plotter
        Plotter whose camera is set.
    view : str or Camera
        A compass preset (``"n"``, ``"ne"``, ... ``"nw"``: oblique from that side, perspective),
        ``"top"`` (north-up map, parallel projection, the whole domain in frame with a margin) or a
        :class:`Camera`.
    bounds : tuple of float
        ``(xmin, xmax, ymin, ymax, zmin, zmax)`` of the terrain (m, local).
    elevation_deg : float
        Angle of the oblique views above the horizon (degrees).
    focus : tuple of float, optional
        Box the oblique views frame (local m, like ``bounds``; :func:`affected_box`); default the
        whole terrain. The top view always shows the whole city.

    Raises
    ------
    twin.core.errors.InputError
        For an unknown preset name (the message lists the valid ones).
    """
    xmin, xmax, ymin, ymax, zmin, zmax = bounds
    focal = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, (zmin + zmax) / 2])
    extent = max(xmax - xmin, ymax - ymin, zmax - zmin, 1e-9)
    camera = plotter.camera
    if isinstance(view, Camera):
        camera.position, camera.focal_point, camera.up = view.position, view.focal_point, view.up
    elif view == "top":
        plotter.enable_parallel_projection()
        camera.focal_point = tuple(focal)
        camera.position = tuple(focal + [0.0, 0.0, 2.0 * extent])
        camera.up = (0.0, 1.0, 0.0)
        width, height = plotter.window_size
        camera.parallel_scale = 0.55 * max(ymax - ymin, (xmax - xmin) * height / width)
    elif view in COMPASS_BEARINGS:
        plotter.disable_parallel_projection()
        frame = bounds if focus is None else focus
        bearing = np.radians(COMPASS_BEARINGS[view])
        elevation = np.radians(elevation_deg)
        direction = np.array([np.sin(bearing) * np.cos(elevation),
                              np.cos(bearing) * np.cos(elevation), np.sin(elevation)])
        centre = np.array([(frame[0] + frame[1]) / 2, (frame[2] + frame[3]) / 2, (frame[4] + frame[5]) / 2])
        camera.focal_point = tuple(centre)
        camera.position = tuple(centre + 2.0 * extent * direction)
        camera.up = (0.0, 0.0, 1.0)
        plotter.reset_camera(bounds=frame)
        camera.zoom(1.25)
    else:
        raise InputError("unknown view", field="view", expected=f"one of {', '.join(VIEWS)} or a Camera",
                         found=repr(view))
    plotter.reset_camera_clipping_range()


def project(plotter: pv.Plotter, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where scene points land in the plotter's image.

    Parameters
    ----------
    plotter : pyvista.Plotter
        Plotter with its camera set (one renderer filling the window).
    points : numpy.ndarray, shape (n, 3)
        Points (m, local).

    Returns
    -------
    col, row : numpy.ndarray
        Pixel column and row (from the top edge) of each point, as floats.
    depth : numpy.ndarray
        Distance (m) of each point from the camera along its view direction, as
        :meth:`pyvista.Plotter.get_image_depth` measures it (there with a minus sign).
    """
    width, height = plotter.window_size
    camera = plotter.camera
    matrix = camera.GetCompositeProjectionTransformMatrix(width / height, -1, 1)
    m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
    hom = np.column_stack([np.asarray(points, dtype=np.float64), np.ones(len(points))]) @ m.T
    ndc = hom[:, :3] / hom[:, 3:4]
    col = (ndc[:, 0] + 1.0) * width / 2.0
    row = height - (ndc[:, 1] + 1.0) * height / 2.0
    forward = np.subtract(camera.focal_point, camera.position)
    forward /= np.linalg.norm(forward)
    depth = (np.asarray(points, dtype=np.float64) - np.asarray(camera.position)) @ forward
    return col, row, depth


def screen_angle(plotter: pv.Plotter, at: np.ndarray, direction: np.ndarray) -> float | None:
    """The angle (degrees anticlockwise from the image's right) at which a ground direction
    (x, y, m) starting at a scene point appears in the image, or None where it points at the eye."""
    tip = np.asarray(at, dtype=np.float64) + 10.0 * np.append(np.asarray(direction, dtype=np.float64), 0.0)
    col, row, _ = project(plotter, np.vstack([at, tip]))
    dc, dr = col[1] - col[0], row[0] - row[1]
    if abs(dc) + abs(dr) < 1e-9:
        return None
    return float(np.degrees(np.arctan2(dr, dc)))


def pixels_per_metre(plotter: pv.Plotter, at: np.ndarray) -> float:
    """Image pixels per metre of ground at a scene point, along the ground direction that runs
    across the image (for a scale bar valid at that point)."""
    camera = plotter.camera
    forward = np.subtract(camera.focal_point, camera.position)
    right = np.cross(forward, camera.up)
    across = np.array([right[0], right[1], 0.0])
    norm = np.linalg.norm(across)
    across = across / norm if norm > 1e-12 else np.array([1.0, 0.0, 0.0])
    col, row, _ = project(plotter, np.vstack([at, np.asarray(at) + across]))
    return float(np.hypot(col[1] - col[0], row[1] - row[0]))
