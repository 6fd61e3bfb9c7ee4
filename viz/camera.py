"""Camera presets: oblique views from the eight compass points, top-down, or a custom camera."""

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


def apply_view(plotter: pv.Plotter, view: str | Camera, bounds: tuple[float, ...],
               elevation_deg: float = 35.0) -> None:
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
        bearing = np.radians(COMPASS_BEARINGS[view])
        elevation = np.radians(elevation_deg)
        direction = np.array([np.sin(bearing) * np.cos(elevation),
                              np.cos(bearing) * np.cos(elevation), np.sin(elevation)])
        camera.focal_point = tuple(focal)
        camera.position = tuple(focal + 2.0 * extent * direction)
        camera.up = (0.0, 0.0, 1.0)
        plotter.reset_camera(bounds=bounds)
        camera.zoom(1.25)
    else:
        raise InputError("unknown view", field="view", expected=f"one of {', '.join(VIEWS)} or a Camera",
                         found=repr(view))
    plotter.reset_camera_clipping_range()
