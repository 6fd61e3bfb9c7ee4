"""Design storms (twin.events.huff, twin.events.alternating_block, twin.events.hyetograph,
twin.events.design_storm): each storm holds the IDF depth, the alternating block's windows hold
the IDF depths of their durations, Huff's curves are monotone and peak in their own quartile, and
the storm fed to the flood scenario keeps its depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.core.errors import InputError
from twin.events.alternating_block import alternating_block, block_order
from twin.events.design_storm import design_storms, idf_relation
from twin.events.huff import HUFF_TIME, huff_curve, huff_hyetograph
from twin.events.hyetograph import Hyetograph
from twin.events.schema import EventsSpec
from twin.hazards.flood.forcing import UniformRain, cumulative_series, series_integral
from twin.hazards.flood.schema import UniformRainfall
from twin.scenario.units import MM_PER_H

SAMPLE = Path(__file__).resolve().parent.parent / "twin" / "events" / "data" / "idf_sample.csv"


def _spec(temporal: dict, **kw) -> EventsSpec:
    return EventsSpec.model_validate({"return_periods": [2, 10, 100], "storm_duration": "2 h",
                                      "idf": {"table": str(SAMPLE)}, "temporal": temporal, **kw})


# ---------------------------------------------------------------- Huff

@pytest.mark.parametrize("quartile", [1, 2, 3, 4])
def test_huff_curve_rises_from_0_to_1_and_peaks_in_its_own_quartile(quartile):
    f = huff_curve(quartile)
    assert f[0] == 0.0 and f[-1] == 1.0
    assert np.all(np.diff(f) >= 0)
    by_quarter = f[[5, 10, 15, 20]] - f[[0, 5, 10, 15]]
    assert int(np.argmax(by_quarter)) + 1 == quartile


@pytest.mark.parametrize("quartile", [1, 2, 3, 4])
def test_huff_storm_holds_the_idf_depth(quartile):
    depth, duration = 0.0823, 7200.0
    storm = huff_hyetograph(depth, duration, quartile)
    assert storm.depth_m() == pytest.approx(depth, rel=1e-13)
    assert storm.edges_s == pytest.approx(HUFF_TIME * duration)
    # the cumulative depth at each tabulated time is the curve times the depth
    cum = np.concatenate([[0.0], np.cumsum(storm.rates_m_s * np.diff(storm.edges_s))])
    assert cum == pytest.approx(huff_curve(quartile) * depth, rel=1e-12, abs=1e-15)


def test_huff_quartile_outside_1_to_4_is_refused():
    with pytest.raises(ValueError, match="1, 2, 3, 4"):
        huff_curve(5)


# ---------------------------------------------------------------- alternating block

def test_alternating_block_by_hand():
    """60, 45, 36 mm/h over 10, 20, 30 min: depths 10, 15, 18 mm, blocks 10, 5, 3 mm; centre block 1,
    then right, then left: 3, 10, 5 mm per 10 min = 18, 60, 30 mm/h."""
    storm = alternating_block(600.0, np.array([60.0, 45.0, 36.0]) * MM_PER_H)
    assert storm.rates_m_s / MM_PER_H == pytest.approx([18.0, 60.0, 30.0], rel=1e-12)
    assert block_order(12).tolist() == [5, 6, 4, 7, 3, 8, 2, 9, 1, 10, 0, 11]


def test_alternating_block_peak_and_windows_hold_the_idf_depths():
    """Chow et al. (1988) section 14.4: the most intense j blocks hold P_j = i(j dt) j dt for every j,
    the peak block is i(dt), the whole storm i(n dt) n dt."""
    spec = _spec({"alternating_block": {"block": "10 min"}})
    relation = idf_relation(spec, Path, "test")
    durations = spec.idf_durations_s()
    for t, storm in zip(spec.return_periods, design_storms(spec, relation)):
        i = relation.intensity(durations, t)
        assert storm.peak_m_s() == pytest.approx(i[0], rel=1e-12)
        assert storm.depth_m() == pytest.approx(i[-1] * 7200.0, rel=1e-12)
        blocks = storm.rates_m_s * 600.0
        for j in range(1, blocks.size + 1):
            windows = np.convolve(blocks, np.ones(j), mode="valid")
            assert windows.max() == pytest.approx(i[j - 1] * j * 600.0, rel=1e-12)


def test_blocks_shorter_than_the_table_are_refused_before_any_storm():
    spec = _spec({"alternating_block": {"block": "2 min"}})
    with pytest.raises(InputError, match="block duration outside the IDF relation") as info:
        idf_relation(spec, Path, "test")
    assert "idf_sample.csv" in str(info.value) and "found 2 min" in str(info.value)


def test_alternating_block_refuses_depth_decreasing_with_duration():
    with pytest.raises(ValueError, match="depth decreases"):
        alternating_block(600.0, np.array([60.0, 20.0]) * MM_PER_H)


# ---------------------------------------------------------------- the event set

def test_design_storms_hold_the_idf_depth_times_the_areal_reduction_and_grow_with_return_period():
    spec = _spec({"huff": 3}, areal_reduction=0.9)
    relation = idf_relation(spec, Path, "test")
    storms = design_storms(spec, relation)
    depths = [s.depth_m() for s in storms]
    for t, depth in zip(spec.return_periods, depths):
        assert depth == pytest.approx(0.9 * relation.intensity(7200.0, t) * 7200.0, rel=1e-12)
    assert np.all(np.diff(depths) > 0)
    assert np.all(np.diff([s.rates_m_s for s in storms], axis=0) >= 0)  # every block, not only the total


# ---------------------------------------------------------------- the flood scenario's form

def test_series_keeps_the_depth_through_the_flood_forcing_and_validates_as_uniform_rainfall():
    spec = _spec({"huff": 3})
    storm = design_storms(spec, idf_relation(spec, Path, "test"))[-1]
    times, rates = storm.series(ramp_s=1.0)
    rain = UniformRain(times, rates)  # the flood forcing's own checks
    cum = cumulative_series(rain.times, rain.rates)
    assert cum[-1] == pytest.approx(storm.depth_m(), rel=1e-13)
    block = UniformRainfall(times=times.tolist(), intensity_mm_h=(rates / MM_PER_H).tolist())
    assert block.rates_m_s() == pytest.approx(rates.tolist(), rel=1e-13)
    # inside each block, away from the ramps, the intensity is the block's
    mids = 0.5 * (storm.edges_s[:-1] + storm.edges_s[1:])
    assert np.interp(mids, times, rates) == pytest.approx(storm.rates_m_s, rel=1e-13)
    # to an inner edge the depth differs from the blocks' by ramp |jump| / 8
    jump = np.abs(np.diff(storm.rates_m_s))
    blocks_cum = np.cumsum(storm.rates_m_s * np.diff(storm.edges_s))[:-1]
    for e, want, j in zip(storm.edges_s[1:-1], blocks_cum, jump):
        got = series_integral(rain.times, cum, rain.rates, 0.0, e)
        assert abs(got - want) == pytest.approx(j * 1.0 / 8, rel=1e-6, abs=1e-15)  # round-off of a 0.1 m depth


def test_series_refuses_a_ramp_as_long_as_a_block():
    storm = Hyetograph(np.array([0.0, 60.0, 120.0]), np.array([1e-5, 2e-5]))
    with pytest.raises(ValueError, match="shorter than the shortest block"):
        storm.series(ramp_s=60.0)
