"""Animations (GIF, MP4) of a run's snapshots: the flood's depth or the fire's reach at each time,
the buildings in their state at that time, a clock and the legend on every frame.

One scene is built and kept: each frame replaces only the layer's mesh, the isochrones and the
buildings' colours (:class:`viz.scene.CityScene`), and the parts of the frame around the view
that change. Frames are
streamed to the file, never all held in memory; a progress bar counts them on a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from twin.core.errors import InputError
from twin.io.progress import CountBar
from viz.buildings import StatesOverTime
from viz.camera import Camera
from viz.legend import BUILDING_COLOURS
from viz.legend_panel import INK, frame_layout
from viz.run_data import Layer, RunData, clock, get_layer
from viz.scene import LINE_COLOUR, mark_ignitions, open_scene
from viz.still import FrameDrawer

#: Animation formats by file suffix.
FORMATS = (".gif", ".mp4")


class GifWriter:
    """A GIF of frames on one palette: the given exact colours first (the legend's, so that the
    classes keep their colours), the rest a median cut of the first frame; no dithering.

    Frames are kept as palette images (one byte per pixel) and written on :meth:`close`.
    """

    def __init__(self, out: Path, fps: float, exact: list[str]):
        self.out, self.duration_ms, self.exact = out, 1000.0 / fps, exact
        self.frames: list[Image.Image] = []
        self.palette: Image.Image | None = None

    def _palette_of(self, frame: Image.Image) -> Image.Image:
        fixed = [int(c[i:i + 2], 16) for c in dict.fromkeys(self.exact) for i in (1, 3, 5)]
        rest = frame.quantize(colors=256 - len(fixed) // 3, method=Image.Quantize.MEDIANCUT).getpalette()
        palette = Image.new("P", (1, 1))
        palette.putpalette((fixed + rest)[:768])
        return palette

    def append_data(self, image: np.ndarray) -> None:
        """Add a frame (RGB uint8)."""
        frame = Image.fromarray(image)
        self.palette = self.palette or self._palette_of(frame)
        self.frames.append(frame.quantize(palette=self.palette, dither=Image.Dither.NONE))

    def __enter__(self) -> "GifWriter":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None and self.frames:
            self.frames[0].save(self.out, save_all=True, append_images=self.frames[1:], duration=self.duration_ms,
                                loop=0, optimize=False)


def _writer(out: Path, fps: float, exact: list[str]):
    if out.suffix == ".gif":
        return GifWriter(out, fps, exact)
    # yuv420p needs even dimensions (the frame size is made even). ffmpeg writes to the terminal
    # itself: only its errors, not libx264's notes.
    return imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=1,
                              pixelformat="yuv420p", ffmpeg_log_level="error")


def frame_layer(run: RunData, snapshot: str, time: float) -> Layer:
    """The layer a frame shows at ``time`` (s): the snapshot there; a snapshot that is a
    dimensionless 0/1 mask of the cells reached (a fire's ``burned``) as the arrival times of the
    cells reached by then, where hazard.nc has ``arrival_time``, so that the frame shows when each
    part burned."""
    layer = get_layer(run, snapshot, time)
    finite = layer.values[np.isfinite(layer.values)]
    mask = not layer.water and layer.units == "1" and np.isin(finite, (0.0, 1.0)).all()
    if "arrival_time" not in run.hazard or not mask:
        return layer
    arrival = np.asarray(run.hazard["arrival_time"].values, dtype=np.float64)
    return Layer("arrival_time", np.where(layer.values == 1, arrival, np.nan), "s", "arrival time (s)", False,
                 layer.time, f"area the {run.kind or 'hazard'} reached")


def render_animation(run: RunData, out: str | Path, *, layer: str | None = None,
                     view: str | Camera = "sw", size: tuple[int, int] = (1920, 1080),
                     exaggeration: float = 1.0, fps: float = 4.0,
                     building_value: str | None = "auto", water_threshold: float = 0.05,
                     progress: bool | None = None) -> Path:
    """Render every snapshot of a run into a GIF or MP4, one frame per snapshot time.

    Each frame shows the layer at its time in classes fixed over the whole animation, the
    buildings in their state at that time (:class:`viz.buildings.StatesOverTime`: burned by then,
    or the damage class of the control run's depth so far), the clock (hh:mm since the start) and
    the legend. The camera frames the area the last frame hits hardest.

    Parameters
    ----------
    run : RunData
    out : str or Path
        ``.gif`` or ``.mp4`` path.
    layer : str, optional
        Snapshot variable with a ``time`` dimension (s); default the hazard's (``depth`` for a
        flood, ``burned`` for a fire).
    view : str or Camera
        Camera preset or custom camera.
    size : tuple of int
        Width and height (pixels) of each frame (made even).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    fps : float
        Frames per second of the output.
    building_value : str or None
        ``"auto"`` (states over time), a buildings.csv column (fixed colours) or None (plain);
        see :func:`viz.scene.open_scene`.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.
    progress : bool, optional
        Show a progress bar of the frames on stderr; default when stderr is a terminal.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    twin.core.errors.InputError
        For an unknown suffix, or a layer without snapshots.
    """
    out = Path(out)
    if out.suffix not in FORMATS:
        raise InputError("unknown animation format", file=out, expected=" or ".join(FORMATS),
                         found=out.suffix)
    snapshot = layer or run.outputs.snapshot
    source = run.hazard.get(snapshot)
    if source is None or "time" not in source.dims:
        raise InputError("no snapshots to animate", file=run.run_dir / "hazard.nc", field=snapshot,
                         expected=f"a variable {snapshot}(time, y, x)", found="none")
    times = np.asarray(source["time"].values, dtype=np.float64)
    layout = frame_layout((size[0] // 2 * 2, size[1] // 2 * 2))
    scene = open_scene(run, size=layout.view[2:], exaggeration=exaggeration, building_value=building_value,
                       water_threshold=water_threshold)
    states = (StatesOverTime(run.twin, run.buildings, scene.building_ids, run.risk_impact)
              if building_value == "auto" else None)
    try:
        last = frame_layer(run, snapshot, times[-1])
        scene.show_layer(last, last_s=run.duration_s)
        scale = scene.layer_scale
        mark_ignitions(scene, run)
        scene.set_view(view, focus=scene.affected_box())
        enabled = sys.stderr.isatty() if progress is None else progress
        draw = FrameDrawer(run, layout)
        exact = [*getattr(scale, "colours", ()), *BUILDING_COLOURS.values(), LINE_COLOUR, INK, "#ffffff"]
        with _writer(out, fps, exact) as writer, CountBar(len(times), "frames", enabled) as bar:
            for t in times:
                shown = frame_layer(run, snapshot, t)
                scene.show_layer(shown, scale=scale)
                if shown.name.startswith("arrival_time"):
                    scene.show_isochrones(shown.values)
                now = None
                if states is not None:
                    now = states.at(run.hazard, snapshot, t)
                    scene.set_building_states(now)
                writer.append_data(draw(scene, now, t, clock=clock(t), animated=True,
                                        buildings_title="buildings at this time (control run)"))
                bar.advance()
    finally:
        scene.close()
    return out
