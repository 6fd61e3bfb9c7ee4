"""Rothermel surface fire against Behave (BehavePlus's C++ core, via pyrothermel), the arbiter.

Seeded random draws over every standard fuel model, dead and live moistures, mid-flame winds
and slopes from any direction (:func:`behave_reference.draw_cases`) go through Behave and through
:mod:`kernels.fire`. The two are the same equations in double precision, fed the same numbers
(Behave in its own base units, converted exactly), so they agree to round-off: head rate,
reaction intensity and fireline intensity to rtol 1e-9 (measured worst 1e-11 over 100 000
draws). Two documented Behave behaviours that the kernel does not copy are checked as such:

* Behave snaps a direction of maximum spread within 0.5 degrees of upslope to upslope exactly,
  and caps the slope factor phi_S at 0.9 I_R (I_R in Btu ft^-2 min^-1), the number of its wind
  speed limit in ft/min (``SurfaceFire::calculateWindSpeedLimit``); where that cap binds, Behave's
  direction is that of the capped slope factor.
* Behave caps the length-to-breadth ratio at 8; the backing rate is compared where LB < 8
  (rtol 1e-7: near LB = 1 the eccentricity amplifies Behave's rounded ft/min -> mi/h factor,
  measured worst 1.4e-9) and, where LB >= 8, against the capped ellipse.
"""

import numpy as np
import pytest

from behave_reference import (MODELS, W_M2_PER_BTU_FT2_MIN, Cases, behave_fire, draw_cases, our_fire,
                              our_length_to_breadth, relative_error)
from kernels import fire
from kernels.fuel_models import FUEL_TABLE, J_KG_PER_BTU_LB, KG_M2_PER_LB_FT2, M_PER_FT, MODEL_NAMES

pytest.importorskip("pyrothermel", reason="pyrothermel (Behave) is not installed (test extra)")

#: Relative tolerance of rates and intensities: round-off of two double-precision evaluations.
RTOL = 1e-9
#: Backing rate: Behave converts the effective wind to mi/h with the rounded 0.01136363636.
RTOL_BACKING = 1e-7
#: Behave's upslope snap (degrees), "undocumented hack from BehavePlus code".
SNAP_DEG = 0.5


def _angle_deg(a, b):
    """Absolute difference of two azimuths (degrees), in [0, 180]."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def _behave_slope(cases: Cases) -> np.ndarray:
    """The slope whose phi_S is Behave's: capped at 0.9 I_R (I_R in Btu ft^-2 min^-1)."""
    base = fire.surface_fire_base(cases.fuel_model, tuple(cases.moisture))
    cap = 0.9 * base.reaction_intensity / W_M2_PER_BTU_FT2_MIN
    capped = fire.slope_factor(base, cases.slope) > cap
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(capped, np.sqrt(cap / base.slope_k), cases.slope)


def _check(cases: Cases):
    """Every Behave output against ours for the given cases; returns the number of burning cases."""
    ref, ours = behave_fire(cases), our_fire(cases)
    burning = ref.rate > 0.0
    assert np.array_equal(burning, ours.rate > 0.0), "Behave and the kernel disagree on which cases burn"
    for name in ("rate", "reaction_intensity", "fireline_intensity"):
        err = relative_error(getattr(ours, name), getattr(ref, name))
        worst = int(np.argmax(err))
        assert err[worst] <= RTOL, (f"{name}: relative error {err[worst]:.3g} for fuel model "
                                    f"{cases.fuel_model[worst]}, moisture {cases.moisture[:, worst]}, "
                                    f"wind {cases.wind[worst]:.3f} m/s, slope {cases.slope[worst]:.3f}")

    # direction of maximum spread, with Behave's slope-factor cap and its upslope snap (clockwise
    # side only: Behave snaps an azimuth from upslope in [0, 0.5) degrees, after adding 360 to
    # negative ones)
    as_behave = our_fire(cases._replace(slope=_behave_slope(cases)))
    upslope = (cases.aspect + 180.0) % 360.0
    snapped = burning & ((as_behave.direction - upslope) % 360.0 < SNAP_DEG)
    np.testing.assert_allclose(_angle_deg(ref.direction, upslope)[snapped], 0.0, atol=1e-9)
    other = burning & ~snapped
    np.testing.assert_allclose(_angle_deg(as_behave.direction, ref.direction)[other], 0.0, atol=1e-7)

    # backing rate of the focal ellipse, Behave's LB cap of 8
    free = burning & (our_length_to_breadth(cases) < 8.0)
    np.testing.assert_allclose(ours.backing_rate[free], ref.backing_rate[free], rtol=RTOL_BACKING, atol=0.0)
    capped = burning & ~free
    np.testing.assert_allclose(fire.backing_rate(ours.rate[capped], 8.0), ref.backing_rate[capped], rtol=RTOL, atol=0.0)
    return int(burning.sum())


@pytest.mark.parametrize("number", MODELS.tolist(), ids=lambda n: MODEL_NAMES[n].split()[0] + f"-{n}")
def test_every_fuel_model_matches_behave(number):
    """400 random moistures, winds and slopes per model: Behave and the kernel agree to round-off."""
    cases = draw_cases(400, seed=1000 + number, models=[number])
    assert _check(cases) > 0, "no draw burned: the comparison would be empty"


def test_mixed_draws_match_behave_and_exercise_every_branch():
    """20 000 mixed draws agree, and they include cured, curing and green grass, LB >= 8 and Behave's caps."""
    cases = draw_cases(20_000, seed=17)
    assert _check(cases) > 10_000
    dynamic = FUEL_TABLE["dynamic"][cases.fuel_model]
    m_herb = cases.moisture[3]
    assert np.sum(dynamic & (m_herb < 0.30)) > 100 and np.sum(dynamic & (m_herb > 1.20)) > 100
    assert np.sum(dynamic & (m_herb >= 0.90) & (m_herb <= 1.20)) > 500
    assert np.sum(_behave_slope(cases) != cases.slope) > 0, "the draws never reach Behave's slope-factor cap"
    assert np.sum(our_length_to_breadth(cases) >= 8.0) > 100, "the draws never reach Behave's LB cap"


def test_fuel_table_equals_behave_table():
    """Loads, SAVRs, depth, dead extinction moisture and heat content equal Behave's standard table."""
    from pyrothermel import behave_core, units

    table = behave_core.FuelModels()
    lb_ft2, per_ft = units.LoadingUnits.PoundsPerSquareFoot, units.SurfaceAreaToVolumeUnits.SquareFeetOverCubicFeet
    defined = [n for n in range(FUEL_TABLE["burnable"].size)
               if table.isFuelModelDefined(n) and not 91 <= n <= 99]
    assert defined == MODELS.tolist()
    for n in MODELS:
        loads = [table.getFuelLoadOneHour(n, lb_ft2), table.getFuelLoadTenHour(n, lb_ft2),
                 table.getFuelLoadHundredHour(n, lb_ft2), table.getFuelLoadLiveHerbaceous(n, lb_ft2),
                 table.getFuelLoadLiveWoody(n, lb_ft2)]
        savr = [table.getSavrOneHour(n, per_ft), 109.0, 30.0, table.getSavrLiveHerbaceous(n, per_ft),
                table.getSavrLiveWoody(n, per_ft)]
        ours_w = FUEL_TABLE["w_o"][:, n] / KG_M2_PER_LB_FT2
        np.testing.assert_allclose(ours_w, loads, rtol=1e-12, atol=0.0, err_msg=f"loads of model {n}")
        has = ours_w > 0.0   # Behave gives a SAVR to empty classes too; it never enters the model
        np.testing.assert_allclose((FUEL_TABLE["sigma"][:, n] * M_PER_FT)[has], np.array(savr)[has], rtol=1e-12,
                                   err_msg=f"SAVR of model {n}")
        assert FUEL_TABLE["delta"][n] / M_PER_FT == pytest.approx(table.getFuelbedDepth(n, units.LengthUnits.Feet),
                                                                  rel=1e-12)
        assert FUEL_TABLE["M_x_dead"][n] == pytest.approx(
            table.getMoistureOfExtinctionDead(n, units.FractionUnits.Fraction), rel=1e-12)
        btu_lb = FUEL_TABLE["h"][n] / J_KG_PER_BTU_LB
        for h in (table.getHeatOfCombustionDead(n, units.HeatOfCombustionUnits.BtusPerPound),
                  table.getHeatOfCombustionLive(n, units.HeatOfCombustionUnits.BtusPerPound)):
            assert btu_lb == pytest.approx(h, rel=1e-12)
        if ours_w[3] > 0.0:   # Behave flags herb-free Scott & Burgan models dynamic too, to no effect
            assert bool(FUEL_TABLE["dynamic"][n]) == table.getIsDynamic(n)
