"""The renderings a run makes of itself: named by the same rule as ``twin render``'s, and made
without VTK or ffmpeg writing to the terminal (offscreen EGL, no X server)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import pyvista as pv

from test_viz import make_flood_run
from twin.scenario.schema import RenderSpec
from viz.offscreen import WINDOW_VARIABLE, egl_installed
from viz.products import render_products
from viz.render_run import render_run, still_name

pv.OFF_SCREEN = True

SMALL = (320, 180)


@pytest.fixture(scope="module")
def flood_run(tmp_path_factory):
    return make_flood_run(tmp_path_factory.mktemp("flood"))


def test_still_names_follow_layer_then_view():
    assert still_name("max_depth", "sw") == "render_max_depth_sw.png"
    assert still_name("arrival_time", "top") == "render_arrival_time_top.png"


@pytest.mark.parametrize("layer, name", [(None, "render_max_depth_top.png"),
                                         ("flood_probability", "render_p_depth_over_0p5m_top.png")])
def test_run_stills_and_twin_render_write_the_same_file_name(flood_run, layer, name):
    spec = RenderSpec(views=["top"], layer=layer, html=False, size=SMALL)
    assert render_products(flood_run, spec) == [flood_run / name]
    (flood_run / name).unlink()
    assert render_run(flood_run, view="top", layer=layer, size=SMALL) == flood_run / name
    assert (flood_run / name).stat().st_size > 0


@pytest.mark.skipif(not egl_installed(), reason="no libEGL: VTK has no offscreen window without X")
@pytest.mark.parametrize("out", [None, "flood.mp4"])
def test_render_writes_nothing_on_stderr_without_an_x_server(flood_run, tmp_path, out):
    """Once ``vtkXOpenGLRenderWindow ... bad X server connection`` (with colour codes) came first."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", WINDOW_VARIABLE)}
    argv = [sys.executable, "-m", "twin.cli", "render", str(flood_run), "--view", "top",
            "--width", str(SMALL[0]), "--height", str(SMALL[1])]
    if out is not None:
        argv += ["--out", str(tmp_path / out)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    written = tmp_path / out if out else flood_run / "render_max_depth_top.png"
    assert done.stdout == f"wrote {written}\n" and written.stat().st_size > 0
