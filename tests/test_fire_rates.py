"""Spread-rate physics: fuel tables, curing, wind limits, the fire ellipse, Hamada's model.

The Rothermel rates themselves are checked against Behave in ``tests/test_fire_behave.py``.
"""

import math

import numpy as np
import pytest

from kernels import fire
from kernels.fuel_models import FUEL_TABLE, LB_FT2_PER_TON_ACRE, check_fuel_models


def test_published_units_convert_exactly():
    """GR2 1-h load 0.10 t/ac and depth 1.0 ft land in SI through the exact factors."""
    kg_m2 = 0.10 * LB_FT2_PER_TON_ACRE * 0.45359237 / 0.3048**2
    assert FUEL_TABLE["w_o"][0, 102] == pytest.approx(kg_m2, rel=1e-14)
    assert FUEL_TABLE["delta"][102] == pytest.approx(0.3048, rel=1e-14)
    assert FUEL_TABLE["h"][106] == pytest.approx(9000 * 1055.05585262 / 0.45359237, rel=1e-14)


def test_non_burnable_and_unknown_models():
    """NB 91-99 give zero; unknown numbers raise with the list of bad numbers."""
    r = fire.surface_spread_rate(np.array([91, 93, 98, 99]), (0.06, 0.07, 0.08, 0.6, 0.9), 5.0, 0.3)
    assert np.all(r == 0.0)
    with pytest.raises(ValueError, match=r"\[14, 300\]"):
        check_fuel_models([1, 14, 300])
    with pytest.raises(ValueError, match="5 classes"):
        fire.surface_fire_base(1, (0.06, 0.07, 0.08))
    with pytest.raises(ValueError, match="finite"):
        fire.surface_fire_base(1, (np.nan, 0.07, 0.08, 0.6, 0.9))


def test_moisture_of_extinction_stops_spread():
    """Dead fuel at or above the model's extinction moisture (GR1: 15 %) does not burn."""
    r = fire.surface_spread_rate(1, (0.12, 0.12, 0.12, 0.0, 0.0), 3.0, 0.0)
    assert float(r) == 0.0
    assert float(fire.surface_spread_rate(1, (0.11, 0.11, 0.11, 0.0, 0.0), 3.0, 0.0)) > 0.0


def test_dynamic_curing_speeds_grass_fire():
    """Curing (lower herb moisture moves GR2 herb load to the dead class) speeds the fire."""
    dry = (0.06, 0.07, 0.08)
    rates = [float(fire.surface_spread_rate(102, dry + (m, 0.9), 2.0, 0.0)) for m in (0.3, 0.6, 0.9, 1.2)]
    assert rates == sorted(rates, reverse=True)


def test_cured_fraction_follows_behaveplus_rounded_line():
    """c = 1 below 30 %, 1.333 - 1.11 M_herb from 30 % to 120 % (0.001 at 120 %), 0 above."""
    m = np.array([0.0, 0.29, 0.30, 0.60, 0.90, 1.02, 1.20, 1.2000001, 2.0])
    expected = [1.0, 1.0, 1.333 - 0.333, 1.333 - 0.666, 1.333 - 0.999, 1.333 - 1.1322, 1.333 - 1.332, 0.0, 0.0]
    np.testing.assert_allclose(fire.cured_fraction(m), expected, rtol=1e-12, atol=1e-15)
    # Scott & Burgan's exact line (1.20 - M) / 0.90 differs by up to 0.001
    assert np.max(np.abs(fire.cured_fraction(m[2:7]) - (1.20 - m[2:7]) / 0.90)) == pytest.approx(1e-3, rel=1e-6)


def test_broadcasting_over_arrays():
    """Array fuel models, moistures and winds broadcast like numpy and match scalar calls."""
    fms = np.array([[101, 102], [165, 8]])
    winds = np.array([1.0, 3.0])
    r = fire.surface_spread_rate(fms, (0.06, 0.07, 0.08, 0.6, 0.9), winds, 0.1)
    for (i, j), number in np.ndenumerate(fms):
        one = fire.surface_spread_rate(number, (0.06, 0.07, 0.08, 0.6, 0.9), winds[j], 0.1)
        assert r[i, j] == pytest.approx(float(one), rel=1e-12)


def test_wind_limit_forms():
    """Rothermel eq. 86 caps the rate at strong wind; 'none' keeps rising; Andrews 2013 differs."""
    m = (0.06, 0.07, 0.08, 0.6, 0.9)
    base = fire.surface_fire_base(8, m)
    u_max = float(base.max_effective_wind)
    capped = [float(fire.surface_spread_rate(8, m, u, 0.0)) for u in (u_max * 1.5, u_max * 3.0)]
    assert capped[0] == pytest.approx(capped[1], rel=1e-12)
    free = [float(fire.surface_spread_rate(8, m, u, 0.0, wind_limit="none")) for u in (u_max * 1.5, u_max * 3.0)]
    assert free[1] > free[0] > capped[0]
    # eq. 86 in SI: U_max = 0.9 I_R with I_R in Btu ft^-2 min^-1, U in ft/min
    i_r_imperial = float(base.reaction_intensity) * 0.3048**2 * 60.0 / 1055.05585262
    assert u_max == pytest.approx(0.9 * i_r_imperial * 0.3048 / 60.0, rel=1e-12)
    andrews = fire.surface_fire_base(8, m, wind_limit="andrews2013")
    u_andrews = 96.8 * i_r_imperial ** (1 / 3) * 0.3048 / 60.0
    assert float(andrews.max_effective_wind) == pytest.approx(u_andrews, rel=1e-12)


def test_length_to_breadth_si_equals_mph_form():
    """LB in m/s equals Anderson's mph form at the same speed (exact unit conversion)."""
    u = np.linspace(0.0, 12.0, 25)
    mph = u / 0.44704
    lb_mph = 0.936 * np.exp(0.1147 * mph) + 0.461 * np.exp(-0.0692 * mph) - 0.397
    np.testing.assert_allclose(fire.length_to_breadth(u), lb_mph, rtol=1e-14)
    # the mph coefficients used with m/s (the known error) differ by far more
    wrong = 0.936 * np.exp(0.1147 * u) + 0.461 * np.exp(-0.0692 * u) - 0.397
    assert np.max(np.abs(fire.length_to_breadth(u) / wrong - 1.0)) > 0.5
    assert float(fire.length_to_breadth(0.0)) == pytest.approx(1.0, abs=1e-12)


def test_ellipse_rates_geometry():
    """Head, back and flank of the focal ellipse; its length/breadth equals LB."""
    head, lb = 0.7, 2.5
    e = math.sqrt(lb**2 - 1) / lb
    assert float(fire.ellipse_rate(head, lb, 0.0)) == pytest.approx(head)
    assert float(fire.ellipse_rate(head, lb, math.pi)) == pytest.approx(float(fire.backing_rate(head, lb)))
    assert float(fire.backing_rate(head, lb)) == pytest.approx(head * (1 - e) / (1 + e))
    theta = np.linspace(0, 2 * np.pi, 20001)
    r = fire.ellipse_rate(head, lb, theta)
    x, y = r * np.cos(theta), r * np.sin(theta)
    assert (x.max() - x.min()) / (y.max() - y.min()) == pytest.approx(lb, rel=1e-6)


def test_hamada_hand_computed():
    """Hamada speeds for a = 10 m, d = 5 m, f = 0 and 0.5, V = 0 and 8 m/s, computed by hand."""
    down, side, up = fire.hamada_spread_rates(10.0, 5.0, 0.0, 0.0)
    # T_d = (3 + 3.75 + 40/25) / 1.5 = 5.5667 min; T_s = T_u = (3 + 3.75 + 40/5) / 1.5 = 9.8333 min
    assert float(down) == pytest.approx(15.0 / (60.0 * 8.35 / 1.5), rel=1e-12)
    assert float(side) == pytest.approx(15.0 / (60.0 * 14.75 / 1.5), rel=1e-12)
    assert float(up) == pytest.approx(float(side), rel=1e-12)
    v, f = 8.0, 0.5
    t_d = (0.5 * (3 + 3.75 + 40 / 45) + 0.5 * (5 + 6.25 + 80 / 45)) / (1.5 * (1 + 0.8 + 0.448))
    t_s = (0.5 * (3 + 3.75 + 40 / 7) + 0.5 * (5 + 6.25 + 80 / 7)) / (1.5 * (1 + 0.32))
    t_u = (0.5 * (3 + 3.75 + 40 / 6.6) + 0.5 * (5 + 6.25 + 80 / 6.6)) / (1.5 * (1 + 0.128))
    got = fire.hamada_spread_rates(10.0, 5.0, f, v)
    np.testing.assert_allclose(got, [15 / (60 * t_d), 15 / (60 * t_s), 15 / (60 * t_u)], rtol=1e-12)
    assert got[0] > got[1] > got[2]


def test_hamada_trends_and_errors():
    """Fire-resistant buildings and wider gaps slow the spread; bad inputs raise."""
    slow = fire.hamada_spread_rates(10.0, 5.0, 1.0, 5.0)
    fast = fire.hamada_spread_rates(10.0, 5.0, 0.0, 5.0)
    assert all(s < q for s, q in zip(slow, fast))
    with pytest.raises(ValueError):
        fire.hamada_spread_rates(0.0, 5.0, 0.5, 5.0)
    with pytest.raises(ValueError):
        fire.hamada_spread_rates(10.0, 5.0, 1.5, 5.0)
