"""The exported HTML page renders in a headless Chromium with the network cut off.

Skipped only when Chromium is not installed (the README's test command installs it where it runs
as root: ``sh .ci/system-packages.sh chromium``).
"""

from __future__ import annotations

import shutil
import subprocess

import imageio.v3 as iio
import pytest
import pyvista as pv

from test_viz import make_flood_run
from viz.render_run import render_run

pv.OFF_SCREEN = True

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (800, 450)


def screenshot(page, out, user_data_dir):
    """Headless Chromium screenshot of a local page; every host name resolves to nothing."""
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={user_data_dir}",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--screenshot={out}",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=10000", page.as_uri()],
        check=True, capture_output=True, timeout=120)
    return iio.imread(out)[..., :3].astype(int)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (as root: sh .ci/system-packages.sh chromium)")
def test_html_page_renders_the_city_offline(tmp_path):
    run = make_flood_run(tmp_path / "run")
    page = render_run(run, tmp_path / "scene.html", size=WINDOW)
    image = screenshot(page, tmp_path / "shot.png", tmp_path / "profile")
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    assert image.std() > 20                                                  # not a blank canvas
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    assert ((g > r + 20) & (g > b + 40)).sum() > 1000                       # the grass-tinted terrain
    assert ((b > r + 40) & (b > g + 10)).sum() > 500                        # the flooded channel
    # control: the same check on a page with no data draws nothing but the background
    empty = tmp_path / "empty.html"
    empty.write_text(page.read_text(encoding="utf-8").replace('const base64Str = "', 'const base64Str = "x'))
    blank = screenshot(empty, tmp_path / "blank.png", tmp_path / "profile2")
    assert ((blank[..., 2] > blank[..., 0] + 40)).sum() < 500
