"""The viewer of a design-event set (issue #19): the maximum depth of each design event with a
return-period selector, the annual exceedance probability of the building-depth threshold and the
expected annual damage as layers, every class read from the run's risk.nc and buildings.csv.

The run is the bowl's event set of ``test_report_event_set`` (4 storms of 1 h, 21 x 21 cells, four
buildings); the page is checked in headless Chromium as ``test_viz_html`` does: the return-period
buttons clicked with the mouse switch the ground's classes and the buildings' colours.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from test_report_event_set import RETURN_PERIODS, write_event_set_run
from test_viz import make_flood_run
from test_viz_html import Chromium, click_first_visible, legend, needs_chromium, switch
from twin.risk.event_set import loss_column
from viz.render_run import render_run
from viz.run_data import load_run
from viz.viewer.classes import NO_CLASS, aep_classes, annual_damage_classes, damage_classes, depth_classes
from viz.viewer.layers import return_periods, viewer_layers

#: The bowl's grid: cells per side and cell size (m).
N, DX = 21, 10.0
#: Cells whose maximum depth changes class between the bowl's design events (row, column).
CELLS = [(10, 7), (6, 10), (10, 9)]
EVENT_LAYERS = ["event_max_depth", "aep_depth_over_0p5m", "expected_annual_damage_krw"]


@pytest.fixture(scope="module")
def event_run(tmp_path_factory):
    return write_event_set_run(tmp_path_factory.mktemp("viewer_events"))


@pytest.fixture(scope="module")
def offered(event_run):
    run = load_run(event_run)
    ids = np.unique(run.twin["building_id"].values[run.twin["building_id"].values > 0])
    return run, ids, {layer.key: layer for layer in viewer_layers(run, ids)}


def _risk(event_run) -> xr.Dataset:
    with xr.open_dataset(event_run / "risk.nc") as ds:
        return ds.load()


def _table(event_run, ids) -> pd.DataFrame:
    return pd.read_csv(event_run / "buildings.csv").set_index("building_id").loc[ids]


def test_an_event_set_run_offers_the_maps_per_return_period_the_aep_and_the_ead(event_run, offered):
    run, ids, layers = offered
    assert list(layers)[-3:] == EVENT_LAYERS
    assert "the T = 500 years event" in layers["max_depth"].title           # the control is the rarest event
    risk, table = _risk(event_run), _table(event_run, ids)
    depth = layers["event_max_depth"]
    assert depth.steps == ("2 years", "10 years", "100 years", "500 years") and len(depth.cells) == 4
    damage = damage_classes("d")
    for k, t in enumerate(RETURN_PERIODS):
        assert np.array_equal(depth.cells[k], depth_classes("d").classify(risk["event_max_depth"].sel(return_period=t)))
        share = table[loss_column(t)].to_numpy() / table["value_krw"].to_numpy()
        assert np.array_equal(depth.building_classes[k], damage.classify(share))
    assert len({tuple(c) for c in depth.building_classes}) >= 3, "the buildings' damage differs between events"
    aep = layers["aep_depth_over_0p5m"]
    scheme = aep_classes("a", RETURN_PERIODS)
    values = risk["aep_depth_over_0p5m"].values
    held = set(np.unique(values[np.isfinite(values)]).tolist())
    assert held <= {0.0, *(1.0 / t for t in RETURN_PERIODS)} and len(held) >= 3  # 0, or 1/T of an event
    for t in RETURN_PERIODS:                          # every cell first exceeded at T is in the class naming T
        classes = aep.cells[0][values == 1.0 / t]
        assert all(scheme.labels[c].startswith(f"first exceeded at T = {t:g} years") for c in classes)
    assert np.all(aep.cells[0][values == 0] == NO_CLASS)
    first = table["first_floor_flood_rp_years"].to_numpy()
    assert np.array_equal(aep.building_classes, scheme.classify(1.0 / first))
    assert np.isnan(first).any() and np.isfinite(first).sum() >= 3  # one building never reached, three at various T
    ead = layers["expected_annual_damage_krw"]
    cells = risk["expected_annual_damage_krw"].values
    assert np.array_equal(ead.cells[0], annual_damage_classes("e", cells, none=False).classify(cells))
    per_building = table["ead_krw"].to_numpy()
    assert np.array_equal(ead.building_classes, annual_damage_classes("e", per_building, none=True).classify(per_building))
    assert ead.building_classes.tolist().count(0) == (per_building == 0).sum()   # "none": no damage


def test_a_single_storm_run_has_no_return_period_layers(tmp_path):
    run = load_run(make_flood_run(tmp_path / "flood"))
    assert return_periods(run) is None
    assert not {layer.key for layer in viewer_layers(run, np.array([1]))} & set(EVENT_LAYERS)


def _cell_centre(twin, row: int, col: int) -> list[float]:
    return [float((col + 0.5) * DX), float((N - row - 0.5) * DX), float(twin["elevation"].values[row, col])]


def _roof_centre(twin, building_id: int) -> list[float]:
    rows, cols = np.nonzero(twin["building_id"].values == building_id)
    top = twin["elevation"].values[rows, cols].min() + twin["building_height"].values[rows, cols].max()
    return [float((cols.mean() + 0.5) * DX), float((N - rows.mean() - 0.5) * DX), float(top)]


def _press(browser, selector):
    """A mouse click on the button ``selector``."""
    x, y = browser.evaluate(f"""(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
    browser.click(x, y)


def _ground_class(browser, point) -> str:
    shown = click_first_visible(browser, [point])[0]
    return dict((c, t) for c, _, t in shown["rows"])["layer"]


def _shade_of(pixel, colour_hex) -> float:
    """How far a pixel is from being ``colour_hex`` under some uniform shading (0: exactly a shade of it)."""
    colour = np.array([int(colour_hex[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    shade = float(pixel @ colour / (colour @ colour))
    return float(np.abs(pixel - shade * colour).max()) if 0.3 < shade <= 1.01 else np.inf


@pytest.fixture(scope="module")
def seen(event_run, offered, tmp_path_factory):
    """One browser session: the top view, the event layer at each return period (buttons clicked),
    the ground classes at :data:`CELLS` and a roof's colour, then the AEP and EAD layers."""
    run, ids, layers = offered
    page = render_run(event_run, tmp_path_factory.mktemp("page") / "view.html")
    browser = Chromium(page, tmp_path_factory.mktemp("profile"))
    try:
        assert browser.ready is True, browser.ready
        _press(browser, '#views [data-view="top"]')
        out = {"hidden_before": browser.evaluate('document.getElementById("steps").hidden')}
        switch(browser, "event_max_depth")
        out["buttons"] = browser.evaluate('[...document.querySelectorAll("#step-buttons button")].map('
                                          '(b) => [b.textContent, b.getAttribute("aria-pressed")])')
        changing = [k for k, i in enumerate(ids) if layers["event_max_depth"].building_classes[0][k]
                    != layers["event_max_depth"].building_classes[-1][k]]
        roofs = [_roof_centre(run.twin, int(ids[k])) for k in changing]
        roof = browser.evaluate(f"""(() => {{ const canvas = document.getElementById("view");
            for (const [k, p] of {json.dumps(roofs)}.entries()) {{ const [x, y] = viewer.project(p);
              if (document.elementFromPoint(x, y) === canvas) return [k, Math.round(x), Math.round(y)]; }}
            return null; }})()""")
        assert roof is not None, "every roof whose colour changes is behind a panel"
        out["roof_building"] = changing[roof[0]]
        out["steps"] = []
        for k in range(len(RETURN_PERIODS)):
            _press(browser, f'#step-buttons [data-step="{k}"]')
            step = {"state": browser.evaluate("viewer.state.step"), "legend": legend(browser),
                    "pressed": browser.evaluate('document.querySelector("#step-buttons [aria-pressed=true]")'
                                                '.dataset.step'),
                    "ground": [_ground_class(browser, _cell_centre(run.twin, r, c)) for r, c in CELLS]}
            browser.evaluate('document.getElementById("info").hidden = true')  # leave the roof uncovered
            step["roof"] = browser.screenshot()[roof[2], roof[1]].astype(float)
            out["steps"].append(step)
        for key in EVENT_LAYERS[1:]:
            switch(browser, key)
            out[key] = {"legend": legend(browser), "hidden": browser.evaluate('document.getElementById("steps").hidden'),
                        "ground": [_ground_class(browser, _cell_centre(run.twin, r, c)) for r, c in CELLS]}
        return out
    finally:
        browser.close()


@needs_chromium
def test_the_return_period_buttons_switch_the_depths_and_the_buildings_shown(seen, event_run, offered):
    run, ids, layers = offered
    assert seen["hidden_before"] is True                   # the default layer has no return periods
    assert seen["buttons"] == [["2 years", "false"], ["10 years", "false"], ["100 years", "false"],
                               ["500 years", "true"]]    # the rarest event first, as the control run
    depth = _risk(event_run)["event_max_depth"]
    scheme, damage = depth_classes("d"), layers["event_max_depth"].buildings
    for k, (t, step) in enumerate(zip(RETURN_PERIODS, seen["steps"])):
        assert step["state"] == k and step["pressed"] == str(k)
        assert f"design event of T = {t:g} years" in step["legend"]
        expected = [scheme.labels[c] if c != NO_CLASS else "— (water under 5 cm not drawn)"
                    for c in scheme.classify([depth.sel(return_period=t).values[r, c] for r, c in CELLS])]
        assert step["ground"] == expected, t
        roof_class = layers["event_max_depth"].building_classes[k][seen["roof_building"]]
        assert _shade_of(step["roof"], damage.colours[roof_class]) < 8, (t, step["roof"])
    assert len({tuple(s["ground"]) for s in seen["steps"]}) >= 3, "the data shown changes with the return period"
    first, last = seen["steps"][0]["roof"], seen["steps"][-1]["roof"]
    assert np.abs(first - last).max() > 30, "the roof's colour changes between the events"


@needs_chromium
def test_the_aep_and_ead_layers_show_their_classes(seen, event_run):
    risk = _risk(event_run)
    aep, ead = seen["aep_depth_over_0p5m"], seen["expected_annual_damage_krw"]
    assert aep["hidden"] and ead["hidden"]                 # no return-period buttons on these maps
    assert aep["legend"].startswith("Annual exceedance probability of a depth over 0.5 m")
    assert "Buildings: annual chance of water above the first floor" in aep["legend"]
    scheme = aep_classes("a", RETURN_PERIODS)
    expected = [scheme.labels[c] if c != NO_CLASS else "— (the smallest return period of the set whose design event "
                "exceeds it; never exceeded in the set: not drawn)"
                for c in scheme.classify([risk["aep_depth_over_0p5m"].values[r, c] for r, c in CELLS])]
    assert aep["ground"] == expected and "first exceeded at T = 10 years (10 % a year)" in expected
    assert ead["legend"].startswith("Expected annual damage per cell (KRW per year)")
    assert "Buildings: expected annual damage (KRW per year)" in ead["legend"]
