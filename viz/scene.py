"""A city scene on an offscreen plotter: terrain, buildings, north arrow, title, and one hazard layer.

The static meshes are built once; :meth:`CityScene.show_layer` swaps the hazard layer (water
surface or draped colour), so an animation re-renders only what changes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyvista as pv
import xarray as xr
from matplotlib.colors import LinearSegmentedColormap

from twin.core.errors import InputError
from viz.buildings import building_mesh
from viz.camera import Camera, apply_view
from viz.meshes import drape_mesh, north_arrow, terrain_mesh, water_mesh
from viz.offscreen import prefer_egl
from viz.run_data import Layer, RunData, building_values, clock, get_layer

#: Water colour ramp, light to dark blue with depth: every shade reads as water.
WATER_CMAP = LinearSegmentedColormap.from_list("water", ["#6baed6", "#08519c"])
#: Colour map of each drape layer (see :func:`drape_cmap` for the others).
DRAPE_CMAPS = {"arrival_time": "inferno", "burned": "Reds", "burn_probability": "YlOrRd",
               "max_speed": "viridis"}
#: Drape layers where 0 means "nothing here" and is left out (the terrain shows through); so are
#: all probability layers (``*_probability`` and the ``p_*`` fields of risk.nc).
BLANK_ZERO = ("burned",)
#: Opacity of the water surface (0-1).
WATER_OPACITY = 0.75


def is_probability(name: str) -> bool:
    """True for probability layers: ``burn_probability`` and risk.nc's ``p_*`` fields."""
    return name.endswith("_probability") or name.startswith("p_")


def drape_cmap(name: str) -> str:
    """Colour map of a drape layer: its own, blue for flood probabilities, else viridis."""
    if name in DRAPE_CMAPS:
        return DRAPE_CMAPS[name]
    return "PuBu" if name.startswith("p_") else "viridis"


def _font_size(window_height: int) -> int:
    """Text size (points) in proportion to the image height (pixels): 18 at 1080."""
    return max(8, round(window_height / 60))


def _scalar_bar(title: str, position_y: float, window_height: int) -> dict:
    """A vertical scalar bar at the right edge, in the upper (layer) or lower (buildings) half."""
    size = _font_size(window_height)
    return {"title": title, "vertical": True, "position_x": 0.86, "position_y": position_y,
            "width": 0.05, "height": 0.36, "color": "black", "fmt": "%.3g",
            "title_font_size": size, "label_font_size": size, "n_labels": 5}


class CityScene:
    """An offscreen plotter holding a city's terrain, buildings and north arrow.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin (elevation, building_id, building_height in m; landcover optional).
    size : tuple of int
        Image width and height (pixels).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    building_values : mapping of int to float, optional
        Per-building value by building id, coloured with a scalar bar.
    building_label : str
        Scalar-bar label of ``building_values``, with units.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.
    """

    def __init__(self, twin: xr.Dataset, *, size: tuple[int, int] = (1920, 1080),
                 exaggeration: float = 1.0, building_values: Mapping[int, float] | None = None,
                 building_label: str = "", water_threshold: float = 0.05):
        if not exaggeration > 0:
            raise InputError("vertical exaggeration must be positive", field="exaggeration",
                             expected="> 0", found=repr(exaggeration))
        self.twin = twin
        self.exaggeration = float(exaggeration)
        self.water_threshold = float(water_threshold)
        prefer_egl()  # before the plotter makes its render window: no X server needed, no X warning
        self.plotter = pv.Plotter(off_screen=True, window_size=list(size))
        self.plotter.set_background("white")
        self.terrain = terrain_mesh(twin, exaggeration)
        self.buildings = building_mesh(twin, building_values, exaggeration, value_name="value")
        self.layer_mesh: pv.PolyData | None = None
        self.layer_label: str | None = None
        self.plotter.add_mesh(self.terrain, scalars="rgb", rgb=True, smooth_shading=True,
                              name="terrain")
        if self.buildings.n_cells and building_values is not None:
            values = self.buildings.cell_data["value"]
            finite = values[np.isfinite(values)]
            clim = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self.plotter.add_mesh(self.buildings, scalars="value", cmap="YlOrRd", clim=clim,
                                  nan_color="lightgrey", name="buildings",
                                  scalar_bar_args=_scalar_bar(building_label, 0.06, size[1]))
        elif self.buildings.n_cells:
            self.plotter.add_mesh(self.buildings, color="#d9d4cc", name="buildings")
        self.plotter.add_mesh(north_arrow(self.terrain.bounds), color="black", name="north")

    @property
    def bounds(self) -> tuple[float, ...]:
        """Bounds of the terrain (m, local): ``(xmin, xmax, ymin, ymax, zmin, zmax)``."""
        return tuple(self.terrain.bounds)

    def show_layer(self, layer: Layer, clim: tuple[float, float] | None = None) -> pv.PolyData:
        """Draw (or replace) the hazard layer: a water surface for depths, else a colour drape.

        Parameters
        ----------
        layer : Layer
            The field and its label.
        clim : tuple of float, optional
            Colour range (layer units); default the layer's own range. Fix it for animations.

        Returns
        -------
        pyvista.PolyData
            The layer's mesh (possibly empty: nothing wet or nothing defined).
        """
        if layer.water:
            mesh = water_mesh(self.twin, layer.values, self.water_threshold, self.exaggeration)
            scalars, cmap, opacity = "depth", WATER_CMAP, WATER_OPACITY
        else:
            blank = layer.name in BLANK_ZERO or is_probability(layer.name)
            mesh = drape_mesh(self.twin, layer.values, layer.name, blank_zero=blank,
                              exaggeration=self.exaggeration)
            scalars, cmap, opacity = layer.name, drape_cmap(layer.name), 1.0
        self.plotter.remove_actor("layer")
        if layer.label in self.plotter.scalar_bars:
            self.plotter.remove_scalar_bar(layer.label)
        self.layer_mesh, self.layer_label = mesh, layer.label
        if mesh.n_cells:
            if clim is None:
                values = mesh.point_data[scalars]
                clim = (float(np.nanmin(values)), float(np.nanmax(values)))
            if clim[1] <= clim[0]:
                clim = (clim[0], clim[0] + 1.0)
            self.plotter.add_mesh(mesh, scalars=scalars, cmap=cmap, clim=clim, opacity=opacity,
                                  smooth_shading=True, name="layer",
                                  scalar_bar_args=_scalar_bar(layer.label, 0.52,
                                                              self.plotter.window_size[1]))
        return mesh

    def set_title(self, text: str) -> None:
        """Title at the top edge of the image."""
        self.plotter.add_text(text, position="upper_edge", color="black", name="title",
                              font_size=_font_size(self.plotter.window_size[1]))

    def set_view(self, view: str | Camera) -> None:
        """Camera preset (``"n"`` ... ``"nw"``, ``"top"``) or a custom :class:`Camera`."""
        apply_view(self.plotter, view, self.bounds)

    def screenshot(self) -> np.ndarray:
        """Render and return the image as an (height, width, 3) uint8 array."""
        return self.plotter.screenshot(return_img=True)

    def close(self) -> None:
        """Free the plotter."""
        self.plotter.close()


def open_scene(run: RunData, *, size: tuple[int, int] = (1920, 1080), exaggeration: float = 1.0,
               building_value: str | None = "auto", water_threshold: float = 0.05) -> CityScene:
    """A :class:`CityScene` of a run's twin with its buildings coloured by a per-building value.

    Parameters
    ----------
    run : RunData
    size : tuple of int
        Image width and height (pixels).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    building_value : str or None
        A numeric column of buildings.csv (e.g. ``expected_depth_max_m``, m), ``"auto"`` (the
        hazard's default column when buildings.csv has it, else none) or None (plain buildings).
        The buildings carry the table's values as they are (see :func:`viz.run_data.building_values`).
    water_threshold : float
        Depth (m) above which a cell is drawn as water.

    Returns
    -------
    CityScene
    """
    if building_value == "auto":
        column = run.outputs.building_value
        building_value = column if run.buildings is not None and column in run.buildings else None
    values, label = building_values(run, building_value) if building_value else (None, "")
    return CityScene(run.twin, size=size, exaggeration=exaggeration, building_values=values,
                     building_label=label, water_threshold=water_threshold)


def compose(run: RunData, layer: str, *, time: float | None = None, view: str | Camera = "sw",
            size: tuple[int, int] = (1920, 1080), exaggeration: float = 1.0,
            building_value: str | None = "auto", water_threshold: float = 0.05) -> CityScene:
    """A ready scene of one layer of a run: buildings, layer, title and camera set.

    Parameters are those of :func:`open_scene`, plus the ``layer`` name, the snapshot ``time`` (s)
    for snapshot layers (default the last) and the ``view`` (preset name or :class:`Camera`).

    Returns
    -------
    CityScene
        Close it after use.
    """
    shown = get_layer(run, layer, time)
    scene = open_scene(run, size=size, exaggeration=exaggeration, building_value=building_value,
                       water_threshold=water_threshold)
    scene.show_layer(shown)
    scene.set_title(title_of(run, shown))
    scene.set_view(view)
    return scene


def title_of(run: RunData, layer: Layer) -> str:
    """Image title: scenario, hazard, members, layer and snapshot time (hh:mm) where it has one."""
    parts = [run.scenario_name]
    if run.kind:
        parts.append(run.kind)
    if run.members is not None:
        parts.append(f"{run.members} member{'' if run.members == 1 else 's'}")
    parts.append(layer.name.replace("_", " ") if layer.time is None else f"t = {clock(layer.time)}")
    return ", ".join(parts)
