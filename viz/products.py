"""The renderings a run makes of itself, as its scenario's ``render:`` block asks."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from viz.render_run import render_run

#: Depth (m) drawn as water when the run records no wet threshold of its own.
DEFAULT_WATER_THRESHOLD_M = 0.05


def run_wet_threshold(run_dir: Path) -> float:
    """The wet threshold (m) the run's hazard recorded in ``hazard.nc`` (``wet_threshold_m``), or the default."""
    with xr.open_dataset(run_dir / "hazard.nc") as ds:
        return float(ds.attrs.get("wet_threshold_m", DEFAULT_WATER_THRESHOLD_M))


def render_products(run_dir: str | Path, spec, water_threshold: float | None = None,
                    scenario_file: str | Path | None = None) -> list[Path]:
    """Render the stills (one per view), the HTML view and the animation of a run folder.

    Parameters
    ----------
    run_dir : str or Path
        A run folder holding twin.nc and hazard.nc.
    spec : twin.scenario.schema.RenderSpec
        Views, layer, size, exaggeration, and whether to make the HTML view and the animation.
    water_threshold : float, optional
        Depth (m) above which a cell is drawn as water; default the run's wet threshold
        (:func:`run_wet_threshold`).
    scenario_file : str or Path, optional
        The run's scenario file, for the words of the pictures (its description, the wind and
        ignitions of a fire): a run renders itself before its manifest names the file.

    Returns
    -------
    list of Path
        The files written: ``render_<layer>_<view>.png`` (:func:`viz.render_run.still_name`; the
        layer is the ``render:`` block's, else the hazard's default, e.g.
        ``render_max_depth_sw.png``), ``view.html``, ``animation.gif``.
    """
    run_dir = Path(run_dir)
    if not spec.enabled:
        return []
    if water_threshold is None:
        water_threshold = run_wet_threshold(run_dir)
    common = {"layer": spec.layer, "size": tuple(spec.size), "exaggeration": spec.exaggeration,
              "water_threshold": water_threshold, "scenario_file": scenario_file}
    files = [render_run(run_dir, view=view, **common) for view in spec.views]  # named by still_name
    if spec.html:
        files.append(render_run(run_dir, run_dir / "view.html", view=spec.views[0], **common))
    if spec.animation:
        files.append(render_run(run_dir, run_dir / "animation.gif", view=spec.views[0],
                                size=(min(spec.size[0], 960), min(spec.size[1], 540)),
                                exaggeration=spec.exaggeration, water_threshold=water_threshold,
                                scenario_file=scenario_file))
    return files
