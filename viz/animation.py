"""Animations (GIF, MP4) of a run's snapshots: flood depth or fire front over time, with a clock."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from twin.core.errors import InputError
from viz.camera import Camera
from viz.run_data import RunData, get_layer
from viz.scene import open_scene, title_of

#: Animation formats by file suffix.
FORMATS = (".gif", ".mp4")


def _writer(out: Path, fps: float):
    if out.suffix == ".gif":
        return imageio.get_writer(out, mode="I", duration=1000.0 / fps, loop=0)
    # yuv420p needs even dimensions: frames are cropped to even sizes before writing. ffmpeg writes
    # to the terminal itself: only its errors (a failed write also raises here), not libx264's notes.
    return imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=1,
                              pixelformat="yuv420p", ffmpeg_log_level="error")


def render_animation(run: RunData, out: str | Path, *, layer: str | None = None,
                     view: str | Camera = "sw", size: tuple[int, int] = (1920, 1080),
                     exaggeration: float = 1.0, fps: float = 4.0,
                     building_value: str | None = "auto", water_threshold: float = 0.05) -> Path:
    """Render every snapshot of a run into a GIF or MP4, one frame per snapshot time.

    The colour range is fixed over all frames; the title carries the clock (hh:mm since start).
    Frames are rendered offscreen and streamed to the file, never all held in memory.

    Parameters
    ----------
    run : RunData
    out : str or Path
        ``.gif`` or ``.mp4`` path.
    layer : str, optional
        Snapshot variable with a ``time`` dimension (s); default ``depth`` for a flood,
        ``burned`` for a fire.
    view : str or Camera
        Camera preset or custom camera.
    size : tuple of int
        Width and height (pixels).
    exaggeration : float
        Vertical exaggeration (dimensionless).
    fps : float
        Frames per second of the output.
    building_value : str or None
        Per-building colouring, see :func:`viz.scene.open_scene`.
    water_threshold : float
        Depth (m) above which a cell is drawn as water.

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
    layer = layer or run.outputs.snapshot
    source = run.hazard.get(layer)
    if source is None or "time" not in source.dims:
        raise InputError("no snapshots to animate", file=run.run_dir / "hazard.nc", field=layer,
                         expected=f"a variable {layer}(time, y, x)", found="none")
    times = np.asarray(source["time"].values, dtype=np.float64)
    finite = np.asarray(source.values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    clim = (float(finite.min()), float(finite.max())) if finite.size else None
    scene = open_scene(run, size=size, exaggeration=exaggeration, building_value=building_value,
                       water_threshold=water_threshold)
    try:
        scene.set_view(view)
        with _writer(out, fps) as writer:
            for t in times:
                frame = get_layer(run, layer, t)
                scene.show_layer(frame, clim=clim)
                scene.set_title(title_of(run, frame))
                image = scene.screenshot()
                h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
                writer.append_data(image[:h, :w])
    finally:
        scene.close()
    return out
