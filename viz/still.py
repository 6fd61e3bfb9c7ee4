"""Still images (PNG) of a run: one layer, one camera, in a frame with its title and legends."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from viz.buildings import risk_states
from viz.camera import Camera
from viz.legend_panel import FrameLayout, compose_image, draw_frame, frame_layout, over
from viz.legend_text import compass_of, frame_text
from viz.run_data import RunData
from viz.scene import CityScene, compose


class FrameDrawer:
    """Renders scenes of a run into their frame (:mod:`viz.legend_panel`).

    The parts of the frame that stay the same from one image to the next (title, credits,
    compass, fixed legends) are drawn once and kept while they do not change; each image draws
    only the rest (the second line, the clock, the buildings' counts of an animation).

    Parameters
    ----------
    run : RunData
    layout : FrameLayout
    """

    def __init__(self, run: RunData, layout: FrameLayout):
        self.run, self.layout = run, layout
        self._fixed_key, self._fixed = None, None

    def __call__(self, scene: CityScene, states: np.ndarray | None = None, time: float | None = None,
                 **words) -> np.ndarray:
        """The scene rendered into its frame: an RGB uint8 image.

        Parameters
        ----------
        scene : CityScene
            Sized to ``layout.view``, its layer shown and its camera set.
        states : numpy.ndarray, optional
            The buildings' states the scene shows (None: plain buildings).
        time : float, optional
            The time shown (s), for the wind of a changing wind.
        **words
            Passed to :func:`viz.legend_text.frame_text` (``buildings_title``, ``clock``, ``animated``).
        """
        text = frame_text(self.run, scene, states, **words)
        compass = compass_of(self.run, scene, time)
        key = (compass, text.title, text.credits, tuple(s for s in text.sections if not s.changing))
        if key != self._fixed_key:
            self._fixed_key, self._fixed = key, draw_frame(self.layout, text, compass, part="fixed")
        frame = over(draw_frame(self.layout, text, compass, part="changing"), self._fixed)
        return compose_image(self.layout, frame, scene.screenshot())


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
        ``burn_probability``, ...) or ``hazard_class``.
    time : float, optional
        Snapshot time (s) for snapshot layers; default the last one.
    view : str or Camera
        Camera preset (``"n"`` ... ``"nw"``, ``"top"``) or a custom camera.
    size : tuple of int
        Width and height (pixels) of the whole image; the 3D view takes what the title band,
        the legend panel and the credits line leave (:func:`viz.legend_panel.frame_layout`).
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
    layout = frame_layout(size)
    scene = compose(run, layer, time=time, view=view, size=layout.view[2:], exaggeration=exaggeration,
                    building_value=building_value, water_threshold=water_threshold)
    states = risk_states(run.buildings, scene.building_ids) if building_value == "auto" else None
    try:
        image = FrameDrawer(run, layout)(scene, states, time)
    finally:
        scene.close()
    out = Path(out)
    iio.imwrite(out, image)
    return out
