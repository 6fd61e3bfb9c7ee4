"""The HTML viewer: one offline file that draws the city, switches layers with their legends, and
answers a click on a building with its row of buildings.csv.

The classes and layers are checked in Python; the page itself in a headless Chromium with the
network cut off, driven through its DevTools protocol: clicks are mouse clicks at the page position
where a building is drawn, through the browser's input. The browser tests skip only when Chromium
(the README's test command installs it where it runs as root: ``sh .ci/system-packages.sh
chromium``) or websocket-client (the ``test`` extra) is missing.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.request

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_viz import CHANNEL, DX, N, TIMES, make_fire_run, make_flood_run
from twin.core.errors import InputError
from viz.camera import Camera
from viz.render_run import render_run
from viz.run_data import load_run
from viz.viewer.classes import (NO_CLASS, damage_classes, depth_classes, hazard_rating_classes,
                                probability_classes, time_classes)
from viz.viewer.layers import BUILDINGS, HAZARD_RATING, viewer_layers
from viz.viewer.page import camera_presets

try:
    import websocket                                    # websocket-client, of the test extra
except ImportError:                                     # pragma: no cover
    websocket = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or websocket is None,
    reason="chromium or websocket-client is not installed (as root: sh .ci/system-packages.sh chromium; "
           "pip install -e '.[test]')")
WINDOW = (1000, 640)
BROWSER = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-unsafe-swiftshader",  # WebGL in software, without the deprecation warning
           f"--window-size={WINDOW[0]},{WINDOW[1]}"]
DESCRIPTION = "1 m of water along the valley <in a test>"
#: Hazard-rating class of each band of channel rows (cells elsewhere dry).
RATED = {"low": slice(42, 46), "danger_for_some": slice(46, 50), "danger_for_most": slice(50, 54),
         "danger_for_all": slice(54, 58)}


def make_viewer_run(run_dir):
    """The synthetic flood run of test_viz, with what a real run adds: the scenario's description,
    the hazard-rating class probabilities in risk.nc and a fuller buildings.csv."""
    run_dir = make_flood_run(run_dir)
    with xr.open_dataset(run_dir / "hazard.nc") as ds:
        hazard = ds.load()
    hazard.attrs.update(scenario_description=DESCRIPTION, members=1)
    hazard.to_netcdf(run_dir / "hazard.nc")
    with xr.open_dataset(run_dir / "risk.nc") as ds:
        risk = ds.load()
    for label in ("dry", *RATED):
        p = np.zeros((N, N))
        if label == "dry":
            p[:] = 1.0
            p[CHANNEL, :] = 0.0
        else:
            p[RATED[label], :] = 1.0
        risk[f"p_hazard_{label}"] = (("y", "x"), p, {"units": "1"})
    risk.to_netcdf(run_dir / "risk.nc")
    table = pd.read_csv(run_dir / "buildings.csv")
    ids = table["building_id"].to_numpy()
    table["source_id"] = [f"OSM-{9000 + i}" for i in ids]
    table["use"] = np.where(ids % 3, "residential", "commercial")
    table["value_krw"] = 1.0e8 * ids
    table["expected_flood_loss_krw"] = table["value_krw"] * table["expected_damage_fraction"]
    table.to_csv(run_dir / "buildings.csv", index=False)
    return run_dir


@pytest.fixture(scope="module")
def viewer_run(tmp_path_factory):
    return make_viewer_run(tmp_path_factory.mktemp("viewer"))


@pytest.fixture(scope="module")
def page(viewer_run, tmp_path_factory):
    return render_run(viewer_run, tmp_path_factory.mktemp("page") / "view.html")


def roof_centres(run_dir, building_ids) -> list[list[float]]:
    """Per building: local x, y (m) of the centre of its cell nearest its footprint's centroid, and
    its roof height (m): the lowest ground under it plus its greatest height (viz.buildings)."""
    twin = load_run(run_dir).twin
    ids, ground, height = (twin[name].values for name in ("building_id", "elevation", "building_height"))
    centres = []
    for building_id in building_ids:
        rows, cols = np.nonzero(ids == building_id)
        k = np.argmin(np.hypot(rows - rows.mean(), cols - cols.mean()))
        top = ground[rows, cols].min() + height[rows, cols].max()
        centres.append([float((cols[k] + 0.5) * DX), float((N - rows[k] - 0.5) * DX), float(top)])
    return centres


def cell_centre(run_dir, row: int, col: int) -> list[float]:
    """Local x, y (m) and ground elevation (m) of a cell centre."""
    z = load_run(run_dir).twin["elevation"].values[row, col]
    return [float((col + 0.5) * DX), float((N - row - 0.5) * DX), float(z)]


class Chromium:
    """A headless Chromium on one page, driven through its DevTools protocol (a websocket)."""

    def __init__(self, page, profile):
        profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([CHROMIUM, *BROWSER, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert self.process.poll() is None and time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            target = next(t for t in json.loads(answer.read()) if t["type"] == "page")
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=120, suppress_origin=True)
        self.calls = 0
        self.call("Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=WINDOW[1], deviceScaleFactor=1,
                  mobile=False)
        self.call("Page.navigate", url=page.as_uri())
        while time.monotonic() < deadline + 60:
            state = self.call("Runtime.evaluate", expression="[location.href, document.readyState]",
                              returnByValue=True)["result"].get("value")
            if state == [page.as_uri(), "complete"]:
                break
            time.sleep(0.1)
        self.ready = self.evaluate("viewer.ready.then(() => true, (err) => String(err))")

    def call(self, method, **params):
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.calls:
                assert "error" not in message, message["error"]
                return message["result"]

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def click(self, x, y):
        """A left click at page position (x, y) (CSS pixels), through the browser's input."""
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self) -> np.ndarray:
        shot = self.call("Page.captureScreenshot", format="png")["data"]
        return iio.imread(base64.b64decode(shot))[..., :3].astype(int)

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


#: What the info panel shows: hidden or not, the building, its heading and rows (column, raw value, words).
INFO = """(() => {
  const box = document.getElementById("info");
  return {hidden: box.hidden, building: box.dataset.building, heading: (box.querySelector("h2") || {}).textContent,
          rows: [...box.querySelectorAll("tr[data-column]")].map((tr) => [tr.dataset.column, tr.dataset.value,
                                                                          tr.querySelector("td").textContent])};
})()"""


def click_first_visible(browser, points):
    """Click, as a user would, the first of ``points`` (local m) drawn where no panel covers the
    canvas: a mouse click at its page position (``viewer.project``); return the info panel and the
    index of the point clicked."""
    found = browser.evaluate(f"""(() => {{
        const canvas = document.getElementById("view");
        for (const [k, point] of {json.dumps(points)}.entries()) {{
          const [x, y] = viewer.project(point);
          if (document.elementFromPoint(x, y) === canvas) return [k, x, y];
        }}
        return null; }})()""")
    assert found is not None, f"every point is behind a panel or off the canvas: {points}"
    k, x, y = found
    browser.click(x, y)
    return browser.evaluate(INFO), k


def legend(browser) -> str:
    return browser.evaluate('document.getElementById("legend").innerText')


def switch(browser, key):
    """Choose a layer in the layer switch."""
    browser.evaluate(f"""(() => {{ const s = document.getElementById("layer"); s.value = "{key}";
                         s.dispatchEvent(new Event("change")); }})()""")


# --- classes and layers (no browser) -----------------------------------------------------------

def test_depth_classes_are_the_planners_steps():
    scheme = depth_classes("depth")
    assert scheme.labels == ("5–10 cm", "10–30 cm", "30–50 cm", "50 cm–1 m", "1–2 m", "over 2 m")
    values = [0.049, 0.05, 0.0999, 0.1, 0.3, 0.5, 0.99, 1.0, 2.0, 7.0, np.nan]
    assert scheme.classify(values).tolist() == [NO_CLASS, 0, 0, 1, 2, 3, 3, 4, 5, 5, NO_CLASS]


def test_hazard_rating_classes_name_their_hr_range_and_skip_dry():
    scheme, position = hazard_rating_classes(("dry", "low", "danger_for_some", "danger_for_most", "danger_for_all"),
                                             "rating")
    assert scheme.labels == ("Low (HR under 0.75)", "Danger for some (HR 0.75–1.25)",
                             "Danger for most (HR 1.25–2)", "Danger for all (HR over 2)")
    assert position == {"low": 1, "danger_for_some": 2, "danger_for_most": 3, "danger_for_all": 4}


def test_shares_read_in_per_cent_from_zero():
    probability = probability_classes("p")
    assert probability.labels == ("0–10 %", "10–30 %", "30–50 %", "50–70 %", "70–90 %", "over 90 %")
    assert probability.classify([0.0, 1e-9, 0.1, 0.95, 1.0]).tolist() == [NO_CLASS, 0, 1, 5, 5]
    damage = damage_classes("d")
    assert damage.labels == ("none", "0–5 %", "5–10 %", "10–30 %", "30–60 %", "over 60 %")
    assert damage.classify([0.0, 0.01, 0.6, np.nan]).tolist() == [0, 1, 5, NO_CLASS]


def test_time_classes_step_so_that_a_run_has_a_few():
    two_hours = time_classes("arrival", 7200.0)
    assert two_hours.labels == ("00:00–00:30", "00:30–01:00", "01:00–01:30", "01:30–02:00")
    assert two_hours.classify([0.0, 1799.0, 1800.0, 7200.0, np.nan]).tolist() == [0, 0, 1, 3, NO_CLASS]
    assert len(time_classes("arrival", 86400.0).labels) <= 6


def test_flood_run_offers_its_layers_default_first(viewer_run):
    run = load_run(viewer_run)
    ids = np.unique(run.twin["building_id"].values[run.twin["building_id"].values > 0])
    layers = viewer_layers(run, ids)
    assert [layer.key for layer in layers] == ["max_depth", "depth", HAZARD_RATING, "arrival_time", BUILDINGS]
    depth = layers[1]
    assert depth.times == tuple(TIMES) and len(depth.cells) == len(TIMES) and depth.buildings is None
    rating = layers[2].cells[0]
    for k, rows in enumerate(RATED.values()):
        assert np.all(rating[rows, :] == k)
    assert np.all(rating[:CHANNEL.start] == NO_CLASS)
    table = run.buildings.set_index("building_id")
    risk = layers[0].building_classes
    assert np.array_equal(risk, np.where(table.loc[ids, "risk_class_name"] == "low", 1, 3))
    damage = layers[-1].building_classes
    assert np.array_equal(damage, layers[-1].buildings.classify(table.loc[ids, "expected_damage_fraction"]))
    assert [layer.key for layer in viewer_layers(run, ids, default="arrival_time")][0] == "arrival_time"


def test_fire_run_offers_arrival_burned_snapshots_and_burn_probability(tmp_path):
    run_dir = make_fire_run(tmp_path / "fire")
    run = load_run(run_dir)
    layers = viewer_layers(run, np.array([1, 2]))
    assert [layer.key for layer in layers] == ["arrival_time", "burned"]
    assert layers[1].ground.labels == ("burned",) and len(layers[1].cells) == len(TIMES)
    assert layers[0].buildings is None                        # no buildings.csv
    burn = np.where(np.isfinite(run.hazard["arrival_time"].values), 0.8, 0.0)
    long_name = "probability over members that the fire reached the cell"
    xr.Dataset({"burn_probability": (("y", "x"), burn, {"units": "1", "long_name": long_name})},
               coords={"x": run.twin.x, "y": run.twin.y}).to_netcdf(run_dir / "risk.nc")
    pd.DataFrame({"building_id": [1, 2], "burn_probability": [0.0, 0.5],
                  "risk_class_name": ["none", "high"]}).to_csv(run_dir / "buildings.csv", index=False)
    layers = viewer_layers(load_run(run_dir), np.array([1, 2]))
    assert [layer.key for layer in layers] == ["arrival_time", "burned", "burn_probability", BUILDINGS]
    burn_layer, buildings = layers[2], layers[3]
    assert burn_layer.title == "Burn probability" and burn_layer.ground.title == long_name.capitalize()
    assert np.array_equal(burn_layer.cells[0], np.where(burn > 0, 4, NO_CLASS))            # 70-90 %
    assert buildings.title == "Burn probability" and buildings.building_classes.tolist() == [0, 4]
    assert burn_layer.building_classes.tolist() == [0, 3]                                   # none, high


def test_ensemble_runs_offer_the_hazards_probability_layer(tmp_path):
    run = load_run(make_flood_run(tmp_path / "ensemble"))                      # 3 members
    keys = [layer.key for layer in viewer_layers(run, np.array([1]))]
    assert "p_depth_over_0p5m" in keys and HAZARD_RATING not in keys         # its risk.nc has no classes


def test_camera_presets_are_top_and_four_obliques_and_the_view_asked_for():
    presets, first = camera_presets("sw")
    assert list(presets) == ["top", "nw", "ne", "se", "sw"] and first == "sw"
    assert presets["top"]["elevation"] > 89 and presets["ne"]["bearing"] == 45.0
    presets, first = camera_presets("n")
    assert first == "n" and presets["n"]["bearing"] == 0.0
    presets, first = camera_presets(Camera(position=(100.0, 0.0, 100.0), focal_point=(0.0, 0.0, 0.0)))
    assert first == "custom" and presets["custom"]["bearing"] == 90.0 and presets["custom"]["elevation"] == 45.0
    with pytest.raises(InputError, match="view"):
        camera_presets("up")


def test_a_layer_the_run_does_not_hold_is_named(viewer_run):
    with pytest.raises(InputError, match="no_such_layer"):
        render_run(viewer_run, viewer_run / "x.html", layer="no_such_layer")


def test_page_is_one_file_with_nothing_to_fetch(page, viewer_run):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=""", text, re.I)
    assert not re.search(r"https?://|import\s*\(|fetch\s*\(", text)
    assert "VTK.js" not in text
    assert "<title>Synthetic flood — city-twin viewer</title>" in text


# --- the page in a browser --------------------------------------------------------------------

@pytest.fixture(scope="module")
def seen(page, viewer_run, tmp_path_factory):
    """One browser session over the page: titles, legends, layer switch, clicks, the time slider."""
    browser = Chromium(page, tmp_path_factory.mktemp("profile"))
    try:
        assert browser.ready is True, browser.ready
        seen = browser.evaluate("""({title: document.title, heading: document.getElementById("title").textContent,
            description: document.getElementById("description").textContent,
            layers: [...document.getElementById("layer").options].map((o) => [o.value, o.textContent]),
            views: [...document.querySelectorAll("#views button")].map((b) => b.textContent)})""")
        seen["legend"] = legend(browser)
        ids = pd.read_csv(viewer_run / "buildings.csv")["building_id"].to_numpy()
        candidates = [int(i) for i in np.random.default_rng(7).permutation(ids)]
        ground = cell_centre(viewer_run, 50, 51)                # in the channel, between buildings
        for view in ("sw", "top"):
            if view == "top":                                   # the Top button, clicked
                x, y = browser.evaluate("""(() => { const r = document.querySelector('#views [data-view="top"]')
                    .getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()""")
                browser.click(x, y)
            seen[view] = []
            for _ in range(2):
                shown, k = click_first_visible(browser, roof_centres(viewer_run, candidates))
                seen[view].append({**shown, "aimed_at": candidates.pop(k)})
        seen["pressed"] = browser.evaluate('document.querySelector("#views [aria-pressed=true]").dataset.view')
        seen["ground"] = click_first_visible(browser, [ground])[0]
        switch(browser, HAZARD_RATING)
        seen["rating"] = {"legend": legend(browser), "ground": click_first_visible(browser, [ground])[0]}
        switch(browser, BUILDINGS)
        seen["buildings"] = legend(browser)
        switch(browser, "depth")
        seen["times"] = []
        for i in range(len(TIMES)):
            browser.evaluate(f"""(() => {{ const s = document.getElementById("time-slider"); s.value = "{i}";
                                 s.dispatchEvent(new Event("input")); }})()""")
            seen["times"].append({"label": browser.evaluate('document.getElementById("time-label").textContent'),
                                  "hidden": browser.evaluate('document.getElementById("time").hidden'),
                                  "ground": click_first_visible(browser, [ground])[0]})
        return seen
    finally:
        browser.close()


@needs_chromium
def test_page_title_is_the_scenario_with_its_description(seen):
    assert seen["title"] == "Synthetic flood — city-twin viewer"
    assert seen["heading"] == "Synthetic flood"
    assert seen["description"] == DESCRIPTION
    assert seen["views"] == ["Top", "NW", "NE", "SE", "SW"]


@needs_chromium
def test_default_legend_is_the_depth_classes_and_the_risk_classes(seen):
    legend = seen["legend"]
    assert legend.startswith("Maximum depth over 1 h")
    for label in ("5–10 cm", "10–30 cm", "30–50 cm", "50 cm–1 m", "1–2 m", "over 2 m",
                  "water under 5 cm not drawn",
                  "Buildings: risk class", "none (no expected loss)", "high (30 % of value or more)"):
        assert label in legend
    assert [key for key, _ in seen["layers"]] == ["max_depth", "depth", HAZARD_RATING, "arrival_time", BUILDINGS]


@needs_chromium
def test_layer_switch_changes_the_legend(seen):
    rating = seen["rating"]["legend"]
    assert rating.startswith("Flood hazard rating to people (Defra/EA)")
    assert "Danger for most (HR 1.25–2)" in rating and "5–10 cm" not in rating
    assert "Buildings: expected damage (share of value)" in seen["buildings"]
    assert "Danger for most" not in seen["buildings"]


@needs_chromium
@pytest.mark.parametrize("view", ["sw", "top"])
def test_click_on_a_building_shows_its_row_of_buildings_csv(seen, viewer_run, view):
    table = pd.read_csv(viewer_run / "buildings.csv").set_index("building_id")
    for shown in seen[view]:
        assert not shown["hidden"]
        assert int(shown["building"]) == shown["aimed_at"]            # the building under the pointer
        row = table.loc[shown["aimed_at"]]
        values = {column: value for column, value, _ in shown["rows"]}
        assert set(values) == {"building_id", *table.columns}         # every column, once
        assert len(shown["rows"]) == len(values)
        assert int(values["building_id"]) == shown["aimed_at"]
        for column, expected in row.items():
            if isinstance(expected, str):
                assert values[column] == expected, column
            else:
                assert float(values[column]) == expected, column
        words = {column: text for column, _, text in shown["rows"]}
        assert words["expected_damage_fraction"] == f"{row['expected_damage_fraction'] * 100:.3g} %"
        assert [c for c, _, _ in shown["rows"]][:3] == ["source_id", "building_id", "use"]
    assert seen[view][0]["aimed_at"] != seen[view][1]["aimed_at"]
    assert seen["pressed"] == "top"


@needs_chromium
def test_click_on_the_ground_names_the_cell_and_its_class(seen):
    ground = seen["ground"]
    assert ground["heading"] == "Ground" and ground["building"] == ""
    assert dict((c, t) for c, _, t in ground["rows"])["layer"] == "1–2 m"           # 1 m of water
    assert dict((c, t) for c, _, t in seen["rating"]["ground"]["rows"])["layer"] == "Danger for most (HR 1.25–2)"


@needs_chromium
def test_time_slider_shows_the_snapshots(seen):
    assert [t["label"] for t in seen["times"]] == ["00:00", "00:30", "01:00"]
    assert not any(t["hidden"] for t in seen["times"])
    classes = [dict((c, t) for c, _, t in s["ground"]["rows"])["layer"] for s in seen["times"]]
    assert classes == ["— (water under 5 cm not drawn)", "50 cm–1 m", "1–2 m"]   # 0, 0.5 and 1 m of water


@needs_chromium
def test_page_draws_the_city_and_the_flood(page, tmp_path):
    hidden_panels = "<style>section { display: none; }</style></head>"     # only the canvas draws
    shown = tmp_path / "shown.html"
    shown.write_text(page.read_text(encoding="utf-8").replace("</head>", hidden_panels), encoding="utf-8")
    # control: the same page where WebGL 2 is not offered
    blank = tmp_path / "blank.html"
    blank.write_text(shown.read_text(encoding="utf-8").replace('getContext("webgl2"', 'getContext("none"'),
                     encoding="utf-8")
    images = {}
    for name, copy in (("shown", shown), ("blank", blank)):
        browser = Chromium(copy, tmp_path / f"profile_{name}")
        try:
            images[name] = (browser.ready, browser.screenshot())
        finally:
            browser.close()
    ready, image = images["shown"]
    assert ready is True
    for ready, image in images.values():
        assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    image, blank_image = images["shown"][1], images["blank"][1]
    assert "WebGL 2" in images["blank"][0]
    for picture, grass_least, water_least in ((image, 1000, 500), (blank_image, None, None)):
        r, g, b = picture[..., 0], picture[..., 1], picture[..., 2]
        grass = ((g > r + 20) & (g > b + 40)).sum()             # the grass-tinted terrain
        water = ((b > r + 40) & (b > g + 10)).sum()             # the flooded channel
        if grass_least is None:
            assert grass < 100 and water < 100
        else:
            assert grass > grass_least and water > water_least
