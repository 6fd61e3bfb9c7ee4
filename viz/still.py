"""Still images (PNG) of a run: one layer, one camera."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio

from viz.camera import Camera
from viz.run_data import RunData
from viz.scene import compose


def render_still(run: RunData, out: str | Path, *, layer: str, time: float | None = None,
                 view: str | Camera = "sw", size: tuple[int, int] = (1920, 1080),
                 exaggeration: float = 1.0, building_value: str | None = "auto",
                 water_threshold: float = 0.05) -> Path:
    """Render one layer of a run to a PNG.

    Parameters
    ----------
    run : RunData
    out : str or Path
        PNG path.
    layer : str
        Variable of hazard.nc or risk.nc (``max_depth``, ``depth`` at ``time``, ``arrival_time``,
        ``burn_probability``, ...).
    time : float, optional
        Snapshot time (s) for snapshot layers; default the last one.
    view : str or Camera
        Camera preset (``"n"`` ... ``"nw"``, ``"top"``) or a custom camera.
    size : tuple of int
        Width and height (pixels).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    building_value : str or None
        Per-building colouring, see :func:`viz.scene.open_scene`.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.

    Returns
    -------
    Path
        The PNG written.
    """
    scene = compose(run, layer, time=time, view=view, size=size, exaggeration=exaggeration,
                    building_value=building_value, water_threshold=water_threshold)
    try:
        image = scene.screenshot()
    finally:
        scene.close()
    out = Path(out)
    iio.imwrite(out, image)
    return out
