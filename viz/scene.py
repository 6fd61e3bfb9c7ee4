"""A city scene on an offscreen plotter: the lit terrain, the buildings in their states, and one
hazard layer drawn cell by cell (a water surface for depths, a drape for the others), with
isochrones and markers where the run has them.

The static meshes are built once. :meth:`CityScene.show_layer` replaces only the layer's mesh
under the same actor and :meth:`CityScene.set_building_states` only the buildings' colours, so
an animation renders one scene again and again. Every colour is set per cell and drawn unlit
for the layer, so the colours in the image are the legend's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyvista as pv
import xarray as xr

from twin.core.errors import InputError
from viz.buildings import building_mesh, risk_states
from viz.camera import Camera, affected_box, apply_view
from viz.legend import (BUILDING_COLOURS, BUILDING_STATES, ISOCHRONE_EVERY_S, RampScale, StepScale, cell_colours,
                        duration_words, hex_rgb, layer_style)
from viz.meshes import draped_cells, elevation_of, grid_origin, half_cell_ground, isochrones, pin, terrain_mesh
from viz.offscreen import prefer_egl
from viz.run_data import Layer, RunData, building_values, get_layer

#: Colour of the isochrone lines and of the markers' labels.
LINE_COLOUR = "#1a1a1a"
#: Height of a marker (pin) as a share of the city's side (dimensionless).
PIN_SHARE = 0.06


def _state_rgb() -> np.ndarray:
    """RGB (uint8) of each building state, in the order of BUILDING_STATES."""
    return np.array([hex_rgb(BUILDING_COLOURS[s]) for s in BUILDING_STATES], dtype=np.uint8)


class CityScene:
    """An offscreen plotter holding a city's terrain and buildings, and one hazard layer.

    Parameters
    ----------
    twin : xarray.Dataset
        CityTwin (elevation, building_id, building_height in m; landcover optional).
    size : tuple of int
        Width and height (pixels) of the 3D view.
    exaggeration : float
        Vertical exaggeration (dimensionless).
    building_values : mapping of int to float, optional
        Per-building value by building id, coloured on a ramp (YlOrRd) instead of by state.
    building_label : str
        Legend title of ``building_values``, with units.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.
    Notes
    -----
    The plotter renders without multisample anti-aliasing. With cells one or two pixels across
    (a district of 500 x 500 cells in a 1920 x 1080 still) it blends every one-cell rivulet of
    water with the ground around it, so that its pixels are no depth class's colour, and with
    Mesa's llvmpipe it more than doubled the time of a render (the sample flash flood's scene at
    720 x 470 pixels: 2.3-2.7 s with 4 samples, 1.1 s without, on a loaded 2-core machine).
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
        theme = pv.themes.Theme()
        theme.load_theme(pv.global_theme)
        theme.multi_samples = 0
        self.plotter = pv.Plotter(off_screen=True, window_size=list(size), theme=theme)
        self.plotter.set_background("white")
        self.terrain = terrain_mesh(twin, exaggeration)
        self._ground = half_cell_ground(elevation_of(twin)[0])
        self.buildings = building_mesh(twin, building_values, exaggeration, value_name="value")
        self.building_ids = (np.unique(self.buildings.cell_data["building_id"]) if self.buildings.n_cells
                             else np.zeros(0, dtype=np.int32))
        self.building_scale: RampScale | None = None
        self.building_label = building_label
        self.layer_mesh: pv.PolyData | None = None
        self.layer_label: str | None = None
        self.layer_scale: StepScale | RampScale | None = None
        self.layer: Layer | None = None
        self.title = ""
        self._layer_actor = self._iso_actor = None
        self._shown_weights = np.zeros(elevation_of(twin)[0].shape)
        self.plotter.add_mesh(self.terrain, scalars="rgb", rgb=True, smooth_shading=True, name="terrain")
        if self.buildings.n_cells:
            self._add_buildings(building_values, building_label)

    def _add_buildings(self, values: Mapping[int, float] | None, label: str) -> None:
        if values is not None:
            v = self.buildings.cell_data["value"]
            finite = v[np.isfinite(v)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self.building_scale = RampScale("YlOrRd", lo, hi if hi > lo else lo + 1.0)
            rgb = cell_colours(self.building_scale, v)
            rgb[~np.isfinite(v)] = hex_rgb(BUILDING_COLOURS["none"])
            self.buildings.cell_data["rgb"] = rgb
        else:
            self.buildings.cell_data["rgb"] = np.tile(hex_rgb(BUILDING_COLOURS["none"]), (self.buildings.n_cells, 1))
        self.plotter.add_mesh(self.buildings, scalars="rgb", rgb=True, name="buildings")

    def set_building_states(self, states: np.ndarray) -> None:
        """Colour the buildings by state (index in :data:`viz.legend.BUILDING_STATES`, one per id
        of :attr:`building_ids`)."""
        if not self.buildings.n_cells:
            return
        owner = np.searchsorted(self.building_ids, self.buildings.cell_data["building_id"])
        self.buildings.cell_data["rgb"][:] = _state_rgb()[np.asarray(states)[owner]]
        self.buildings.Modified()

    @property
    def bounds(self) -> tuple[float, ...]:
        """Bounds of the terrain (m, local): ``(xmin, xmax, ymin, ymax, zmin, zmax)``."""
        return tuple(self.terrain.bounds)

    def show_layer(self, layer: Layer, scale: StepScale | RampScale | None = None,
                   last_s: float | None = None) -> pv.PolyData:
        """Draw (or replace) the hazard layer, one flat colour per cell.

        Parameters
        ----------
        layer : Layer
            The field and its label.
        scale : StepScale or RampScale, optional
            The classes to draw it in; default :func:`viz.legend.layer_style`'s (fix it for
            animations, so that colours mean the same in every frame).
        last_s : float, optional
            End of the run (s), for the classes of arrival times.

        Returns
        -------
        pyvista.PolyData
            The layer's mesh (possibly empty: nothing wet or nothing defined).
        """
        style, shown = layer_style(layer.name, layer.values, water=layer.water,
                                   wet_threshold=self.water_threshold, last_s=last_s)
        scale = scale or style
        if isinstance(scale, StepScale):
            shown = shown & (scale.classify(layer.values) >= 0)
        rgb = cell_colours(scale, layer.values)
        mesh = draped_cells(self.twin, shown, rgb, exaggeration=self.exaggeration, ground=self._ground,
                            depth=np.where(shown, layer.values, 0.0) if layer.water else None)
        self.layer, self.layer_mesh, self.layer_label, self.layer_scale = layer, mesh, layer.label, scale
        self._shown_weights = np.where(shown, scale.classify(layer.values) + 1.0 if isinstance(scale, StepScale)
                                       else 1.0, 0.0)
        self._layer_actor = self._swap(self._layer_actor, mesh, scalars="rgb", rgb=True, lighting=False, name="layer")
        return mesh

    def show_isochrones(self, arrival: np.ndarray, every_s: float = ISOCHRONE_EVERY_S) -> pv.PolyData:
        """Draw (or replace) lines of equal arrival time (s) every ``every_s`` seconds."""
        lines = isochrones(self.twin, arrival, every_s, self.exaggeration)
        self._iso_actor = self._swap(self._iso_actor, lines, color=LINE_COLOUR, lighting=False,
                                     line_width=max(1.0, self.plotter.window_size[1] / 600), name="isochrones")
        return lines

    def _swap(self, actor, mesh: pv.PolyData, **style):
        """Show ``mesh`` under ``actor`` (made on first use with ``style``, hidden while the mesh is
        empty), without adding or removing actors (each of which would render the scene)."""
        if not mesh.n_cells:
            if actor is not None:
                actor.visibility = False
            return actor
        if actor is None:
            return self.plotter.add_mesh(mesh, **style)
        actor.mapper.SetInputData(mesh)
        actor.visibility = True
        return actor

    def show_pins(self, points_xy: list[tuple[float, float]], labels: list[str], colour: str) -> None:
        """Markers at local points (m) with their labels (e.g. the ignitions)."""
        xmin, xmax, ymin, ymax = self.bounds[:4]
        height = PIN_SHARE * max(xmax - xmin, ymax - ymin)
        tops = []
        for k, (x, y) in enumerate(points_xy):
            marker = pin(self.twin, x, y, height, self.exaggeration)
            self.plotter.add_mesh(marker, color=colour, name=f"pin{k}")
            tops.append((x, y, marker.bounds[5] + 0.1 * height))
        if tops:
            size = max(8, round(self.plotter.window_size[1] / 55))
            self.plotter.add_point_labels(np.array(tops), labels, font_size=size,
                                          text_color=LINE_COLOUR, shape_opacity=0.7, show_points=False,
                                          always_visible=True, name="pin_labels")

    def affected_box(self) -> tuple[float, ...] | None:
        """:func:`viz.camera.affected_box` of the layer shown, its cells weighted by class (1 for
        the first class, 2 for the next, ...), or None before a layer is shown or when it is empty."""
        if self.layer_mesh is None:
            return None
        return affected_box(self._shown_weights, grid_origin(self.twin)[2], self.bounds)

    def set_title(self, text: str) -> None:
        """Remember the image's title; the frame around the view draws it (:mod:`viz.still`)."""
        self.title = text

    def set_view(self, view: str | Camera, focus: tuple[float, ...] | None = None) -> None:
        """Camera preset (``"n"`` ... ``"nw"``, ``"top"``) or a custom :class:`Camera`; the
        oblique presets frame ``focus`` (local m), default the whole city."""
        apply_view(self.plotter, view, self.bounds, focus=focus)

    def screenshot(self) -> np.ndarray:
        """Render and return the view as an (height, width, 3) uint8 array (rendered again: a
        mesh swapped under an actor is not seen by the plotter's own check for changes)."""
        self.plotter.render()
        return self.plotter.screenshot(return_img=True)

    def close(self) -> None:
        """Free the plotter."""
        self.plotter.close()


def open_scene(run: RunData, *, size: tuple[int, int] = (1920, 1080), exaggeration: float = 1.0,
               building_value: str | None = "auto", water_threshold: float = 0.05) -> CityScene:
    """A :class:`CityScene` of a run's twin with its buildings drawn as the run left them.

    Parameters
    ----------
    run : RunData
    size : tuple of int
        Width and height (pixels) of the 3D view.
    exaggeration : float
        Vertical exaggeration (dimensionless).
    building_value : str or None
        ``"auto"``: each building in its state (:func:`viz.buildings.risk_states`: its risk class
        from buildings.csv, burned where the control run's fire reached it; neutral without a
        table); a numeric column of buildings.csv (e.g. ``expected_depth_max_m``, m) on a colour
        ramp, the table's values as they are (:func:`viz.run_data.building_values`); None: all neutral.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.

    Returns
    -------
    CityScene
    """
    column = None if building_value in ("auto", None) else building_value
    values, label = building_values(run, column) if column else (None, "")
    scene = CityScene(run.twin, size=size, exaggeration=exaggeration, building_values=values,
                      building_label=label, water_threshold=water_threshold)
    if building_value == "auto":
        scene.set_building_states(risk_states(run.buildings, scene.building_ids))
    return scene


def compose(run: RunData, layer: str, *, time: float | None = None, view: str | Camera = "sw",
            size: tuple[int, int] = (1920, 1080), exaggeration: float = 1.0,
            building_value: str | None = "auto", water_threshold: float = 0.05) -> CityScene:
    """A ready scene of one layer of a run: buildings, layer, marks and camera set.

    Parameters are those of :func:`open_scene`, plus the ``layer`` name, the snapshot ``time`` (s)
    for snapshot layers (default the last) and the ``view`` (preset name or :class:`Camera`). An
    oblique preset frames the area the layer hits hardest (:meth:`CityScene.affected_box`).
    Arrival-time layers get their isochrones; a run whose scenario has ignitions gets them marked.

    Returns
    -------
    CityScene
        Close it after use.
    """
    shown = get_layer(run, layer, time)
    scene = open_scene(run, size=size, exaggeration=exaggeration, building_value=building_value,
                       water_threshold=water_threshold)
    scene.show_layer(shown, last_s=run.duration_s)
    if shown.name.startswith("arrival_time"):
        scene.show_isochrones(shown.values)
    mark_ignitions(scene, run)
    scene.set_view(view, focus=scene.affected_box())
    return scene


def ignitions_of(run: RunData) -> list[tuple[tuple[float, float], float]]:
    """The ignitions of the run's scenario: ``((easting, northing), time_s)`` of each point
    ignition and of the first point of each line ignition (none without a scenario)."""
    found = []
    for ignition in getattr(run.hazard_block, "ignitions", None) or ():
        point = ignition.at if ignition.at is not None else ignition.line[0]
        found.append(((float(point[0]), float(point[1])), float(ignition.time)))
    return found


def mark_ignitions(scene: CityScene, run: RunData) -> None:
    """Pins at the run's ignitions, labelled ``ignition`` (and their time when not at the start)."""
    e0, n0, _ = grid_origin(run.twin)
    found = ignitions_of(run)
    labels = ["ignition" if t == 0 else f"ignition at {duration_words(t)}" for _, t in found]
    scene.show_pins([(e - e0, n - n0) for (e, n), _ in found], labels, LINE_COLOUR)
