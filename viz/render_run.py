"""Render a run folder: the product (still, animation, HTML, glTF, VTK) follows the output suffix."""

from __future__ import annotations

from pathlib import Path

from twin.core.errors import InputError
from viz.animation import FORMATS as ANIMATION_FORMATS
from viz.animation import render_animation
from viz.camera import Camera
from viz.export import export_gltf, export_html, export_vtm
from viz.run_data import load_run
from viz.scene import compose
from viz.still import render_still

#: Scene exports by file suffix.
EXPORTS = {".gltf": export_gltf, ".glb": export_gltf, ".vtm": export_vtm}
#: Every output suffix render_run knows.
SUFFIXES = (".png", *ANIMATION_FORMATS, ".html", *EXPORTS)


def still_name(layer: str, view: str | Camera) -> str:
    """The file name of a run's still of ``layer`` from ``view``: ``render_<layer>_<view>.png``
    (``custom`` for a :class:`viz.camera.Camera`), e.g. ``render_max_depth_sw.png``.

    The one naming rule of the stills, for ``twin render`` without ``--out`` and for the stills
    a run makes of itself (:func:`viz.products.render_products`).
    """
    return f"render_{layer}_{view if isinstance(view, str) else 'custom'}.png"


def render_run(run_dir: str | Path, out: str | Path | None = None, view: str | Camera = "sw",
               layer: str | None = None, size: tuple[int, int] = (1920, 1080),
               exaggeration: float = 1.0, *, time: float | None = None,
               building_value: str | None = "auto", water_threshold: float = 0.05,
               fps: float = 4.0, scenario_file: str | Path | None = None) -> Path:
    """Render a run folder to a still, an animation or an interactive/exchange export.

    Parameters
    ----------
    run_dir : str or Path
        Run folder with twin.nc and hazard.nc (risk.nc and buildings.csv optional).
    out : str or Path, optional
        Output file; its suffix picks the product: ``.png`` still, ``.gif``/``.mp4`` animation
        of the snapshots, ``.html`` self-contained interactive page, ``.gltf``/``.glb`` glTF,
        ``.vtm`` VTK multiblock of .vtp meshes. Default ``<run_dir>/render_<layer>_<view>.png``
        (:func:`still_name`).
    view : str or Camera
        ``"n"``, ``"ne"``, ``"e"``, ``"se"``, ``"s"``, ``"sw"``, ``"w"``, ``"nw"`` (oblique from
        that side), ``"top"`` (north-up map) or a custom :class:`viz.camera.Camera`.
    layer : str, optional
        Variable of hazard.nc or risk.nc to show; short names the hazard declares
        (:attr:`twin.hazards.interface.Outputs.layer_aliases`, e.g. ``flood_probability``) stand
        for their variable, ``damage`` colours the buildings by expected damage fraction
        (flood) or burn probability (fire) over the default layer. Default ``max_depth`` for a flood run,
        ``arrival_time`` for a fire run; for animations, the snapshot variable (``depth`` or
        ``burned``).
    size : tuple of int
        Image width and height (pixels), the frame with the title and legends included.
    exaggeration : float
        Vertical exaggeration (dimensionless).
    time : float, optional
        Snapshot time (s) for a snapshot layer in a still or export; default the last snapshot.
    building_value : str or None
        Per-building colouring: ``"auto"`` (risk class, burned; over time in animations), a
        buildings.csv column (a colour ramp) or None (plain), see :func:`viz.scene.open_scene`.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.
    fps : float
        Frames per second of animations.
    scenario_file : str or Path, optional
        The run's scenario (its description, ignitions and wind go into the picture); default
        the file ``manifest.json`` names, while it hashes as the manifest recorded
        (:func:`viz.run_data.run_scenario`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    twin.core.errors.InputError
        For a missing run file or variable (named in the message), an unknown suffix or view.
    """
    run = load_run(run_dir, scenario_file)
    default_layer = run.outputs.render_layer
    if layer == "damage":
        layer, building_value = default_layer, run.outputs.building_value
    layer = dict(run.outputs.layer_aliases).get(layer, layer)
    if out is None:
        out = run.run_dir / still_name(layer or default_layer, view)
    out = Path(out)
    suffix = out.suffix.lower()
    options = dict(view=view, size=size, exaggeration=exaggeration, building_value=building_value,
                   water_threshold=water_threshold)
    if suffix in ANIMATION_FORMATS:
        return render_animation(run, out, layer=layer, fps=fps, **options)
    layer = layer or default_layer
    if suffix == ".png":
        return render_still(run, out, layer=layer, time=time, **options)
    if suffix == ".html":
        return export_html(run, out, view=view, layer=layer, exaggeration=exaggeration)
    if suffix not in EXPORTS:
        raise InputError("unknown output format", file=out, expected=", ".join(SUFFIXES),
                         found=suffix or "no suffix")
    scene = compose(run, layer, time=time, **options)
    try:
        return EXPORTS[suffix](scene, out)
    finally:
        scene.close()
