"""The run report of a design-event set (issue #19): the loss-exceedance curve drawn from summary.json's
points with the tails as configured, the expected annual damage, the buildings flooded by return period
and the buildings of largest expected annual damage from buildings.csv.

The run is the bowl of ``test_events_run`` (21 x 21 cells, four buildings at different heights above its
bottom) under four design storms of 1 h, a single member each, protection 3 years and the linear tail;
the tails' drawing is also checked on curves built by ``twin.events.annual`` for every convention.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_events_run import IDF_SAMPLE, write_bowl_twin
from test_report import _page
from twin.core.errors import InputError
from twin.events.annual import expected_annual_damage, loss_curve, tail_conventions
from twin.pipeline.run import run_scenario
from viz.report import write_report
from viz.report.charts import TAIL_SPAN, loss_exceedance_chart
from viz.report.data import event_set_figures, read_report_data
from viz.report.words import money_scale

RETURN_PERIODS = [2.0, 10.0, 100.0, 500.0]
PROTECTION_RP = 3.0


def write_event_set_run(folder: Path, workers: int = 1) -> Path:
    """Run the bowl's event set (4 storms of 1 h, one member each, protection 3 years, linear tail)."""
    twin = write_bowl_twin(folder / "twin")
    scenario = folder / "bowl_events.yaml"
    scenario.write_text(textwrap.dedent(f"""\
        name: bowl-events
        description: four design storms over a bowl with four buildings
        twin: {twin}
        hazard: flood
        duration: 70 min
        events:
          return_periods: {RETURN_PERIODS}
          storm_duration: 1 h
          idf: {{table: {IDF_SAMPLE}}}
          temporal: {{huff: 3}}
          protection_rp: {PROTECTION_RP}
          tail: linear
        flood:
          boundaries: {{north: closed, south: closed, east: closed, west: closed}}
        output: {{every: 30 min}}
        render: {{enabled: false}}
        """), encoding="utf-8")
    return run_scenario(scenario, out=folder / "run", progress=False, workers=workers)


@pytest.fixture(scope="module")
def event_run(tmp_path_factory):
    return write_event_set_run(tmp_path_factory.mktemp("event_set"))


@pytest.fixture(scope="module")
def events_summary(event_run):
    return json.loads((event_run / "summary.json").read_text())["risk"]["events"]


def _line(fig, gid):
    found = [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def _scale(events) -> float:
    return money_scale(max(max(events["loss_curve"]["loss_krw"]), max(events["loss_krw"])))[0]


def test_the_charts_points_are_the_summary_curve(event_run, events_summary):
    figures = read_report_data(event_run).events
    fig = loss_exceedance_chart(figures, "ead")
    curve, scale = events_summary["loss_curve"], _scale(events_summary)
    drawn = _line(fig, "loss-curve")
    assert drawn.get_xdata().tolist() == curve["aep_per_year"]
    np.testing.assert_allclose(drawn.get_ydata() * scale, curve["loss_krw"], rtol=1e-12, atol=0)
    assert curve["aep_per_year"][0] == 1.0 / PROTECTION_RP and curve["aep_per_year"][-1] == 0.0  # both tails
    t, losses = np.array(events_summary["return_periods_years"]), np.array(events_summary["loss_krw"])
    assert losses[t > PROTECTION_RP].max() > 0, "the bowl's storms damage a building"
    counted, left_out = _line(fig, "events-counted"), _line(fig, "events-left-out")
    assert counted.get_xdata().tolist() == t[t > PROTECTION_RP].tolist()
    np.testing.assert_allclose(counted.get_ydata() * scale, losses[t > PROTECTION_RP], rtol=1e-12)
    assert left_out.get_xdata().tolist() == t[t <= PROTECTION_RP].tolist()
    assert _line(fig, "protection").get_xydata().tolist() == [[PROTECTION_RP, 0.0]]
    # the curve on the return-period axis passes through every finite point of the summary's curve
    by_t = _line(fig, "curve-by-return-period")
    x, y = by_t.get_xdata(), by_t.get_ydata() * scale
    for p, loss in zip(curve["aep_per_year"][:-1], curve["loss_krw"][:-1]):
        k = np.argmin(np.abs(x - 1.0 / p))
        assert x[k] == pytest.approx(1.0 / p, rel=1e-12) and y[k] == pytest.approx(loss, rel=1e-12, abs=1e-6)


def test_the_report_shows_the_curve_the_ead_and_the_buildings_flooded_by_return_period(event_run, events_summary):
    page = _page(write_report(event_run))
    assert page.sections[:3] == ["headline", "map", "annual-damage"]
    rows = page.rows["loss-curve"][1:]                                  # the header row first
    assert [float(r["attrs"]["data-aep"]) for r in rows] == events_summary["loss_curve"]["aep_per_year"]
    assert [float(r["attrs"]["data-loss"]) for r in rows] == events_summary["loss_curve"]["loss_krw"]
    assert [r["cells"][-1] for r in rows][0].startswith("protection point")
    assert [r["cells"][-1] for r in rows][-1] == "rare tail at AEP 0"
    ead = events_summary["expected_annual_damage_krw"]
    assert f'data-key="ead" data-value="{ead!r}"' in page.raw
    section = page.section_text("annual-damage")
    assert f"{ead / 1e6:,.1f} million KRW per year" in section
    assert "extended linearly in AEP" in section and "return period &lt;= 3 years" in section
    headline = {r["attrs"]["data-key"]: r["cells"][1] for r in page.rows["headline"][1:]}
    assert headline["risk.events.expected_annual_damage_krw"] == f"{ead / 1e6:,.1f} million KRW per year"
    events = page.rows["events"][1:]
    assert [float(r["attrs"]["data-return-period"]) for r in events] == RETURN_PERIODS
    flooded = events_summary["buildings_flooded"]
    assert [int(r["attrs"]["data-reached"]) for r in events] == flooded
    assert [r["cells"][-1] for r in events] == [f"{n:,}" for n in flooded]
    assert len(set(flooded)) >= 3, "the bowl's buildings flood at different return periods"
    assert "not counted" in events[0]["cells"][5] and "not counted" not in events[1]["cells"][5]
    table = pd.read_csv(event_run / "buildings.csv")
    expected = table.sort_values("ead_krw", ascending=False, kind="stable")["building_id"].tolist()
    assert [int(r["attrs"]["data-building-id"]) for r in page.rows["ead-buildings"][1:]] == expected
    assert "design-event set" in page.section_text("buildings")


@pytest.mark.parametrize("protection, tail", [(0.0, "truncate"), (0.0, "constant"), (5.0, "linear"),
                                              (5.0, "truncate")])
def test_the_tails_are_drawn_as_configured(protection, tail):
    t = np.array([2.0, 10.0, 100.0, 500.0])
    losses = np.array([1.0e6, 4.0e7, 3.0e8, 5.0e8])
    aep, curve = loss_curve(t, losses, protection, tail)
    summary = {"risk": {"events": {
        "return_periods_years": t.tolist(), "loss_krw": losses.tolist(), "buildings_flooded": [1, 2, 3, 4],
        "loss_curve": {"aep_per_year": aep.tolist(), "loss_krw": curve.tolist()},
        "expected_annual_damage_krw": float(expected_annual_damage(t, losses, protection, tail)),
        "tail_conventions": tail_conventions(protection, tail)}}}
    fig = loss_exceedance_chart(event_set_figures(summary, Path("summary.json"), "flood"), "ead")
    drawn = _line(fig, "loss-curve")
    assert drawn.get_xdata().tolist() == aep.tolist()
    np.testing.assert_allclose(drawn.get_ydata() * 1e6, curve, rtol=1e-12)
    texts = " ".join(text.get_text() for ax in fig.axes for text in ax.texts)
    by_t = _line(fig, "curve-by-return-period")
    x, y = by_t.get_xdata(), by_t.get_ydata() * 1e6
    if tail == "truncate":
        assert "truncated: nothing counted\nbeyond T = 500 years" in texts and aep[-1] > 0
        assert x.max() == pytest.approx(500.0, rel=1e-12)
    else:
        assert aep[-1] == 0.0 and f"where the loss is {curve[-1] / 1e6:,.3g} million KRW" in texts
        assert x.max() == pytest.approx(500.0 * TAIL_SPAN, rel=1e-12)            # beyond the rarest event
        at_end = np.interp(1.0 / x.max(), [0.0, 1.0 / 500.0], [curve[-1], losses[-1]])
        assert y[-1] == pytest.approx(at_end, rel=1e-12)                          # linear in AEP to AEP 0
        assert ("held" in texts) == (tail == "constant")
    gids = {line.get_gid() for ax in fig.axes for line in ax.get_lines()}
    assert ("protection" in gids) == (protection > 0) and ("events-left-out" in gids) == (protection > 0)


def test_a_summary_without_the_curve_is_refused_naming_the_key(tmp_path):
    summary = {"risk": {"events": {"return_periods_years": [2.0, 10.0], "loss_krw": [0.0, 1.0],
                                   "buildings_flooded": [0, 1], "expected_annual_damage_krw": 0.1,
                                   "tail_conventions": tail_conventions(0.0, "constant")}}}
    with pytest.raises(InputError, match=r"summary.json: risk.events.loss_curve.aep_per_year: figure of the event set missing"):
        event_set_figures(summary, tmp_path / "summary.json", "flood")
    assert event_set_figures({"risk": {"expected_total_loss_krw": 1.0}}, tmp_path / "summary.json", "flood") is None
