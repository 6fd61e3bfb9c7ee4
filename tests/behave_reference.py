"""Behave (BehavePlus's C++ core, through ``pyrothermel``) as the arbiter of the Rothermel rates.

The spread-rate tests (``tests/test_fire_behave.py``) and ``bench/fire_vs_behave.py`` draw the
same seeded cases with :func:`draw_cases`, run them through Behave with :func:`behave_fire` and
through :mod:`kernels.fire` with :func:`our_fire`, and compare the two with
:func:`relative_error`.

Behave is fed and read in its own base units (ft/min, degrees, Btu ft^-2 min^-1, Btu ft^-1 s^-1),
converted here with the exact factors of :mod:`kernels.fuel_models`: its output conversions to
metric are rounded (e.g. 0.189422 kW m^-2 per Btu ft^-2 min^-1 where the exact factor is
0.1892754), which would otherwise show up as a difference in the physics.

``pyrothermel`` builds Behave from source and is in the ``test`` extra; the tests skip where it
does not install (``pytest.importorskip``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from kernels import fire
from kernels.fuel_models import FUEL_TABLE, J_PER_BTU, M_PER_FT

#: Every burnable standard model of :data:`kernels.fuel_models.FUEL_TABLE` (13 + 40).
MODELS = np.flatnonzero(FUEL_TABLE["burnable"])
#: m/s per ft/min (exact).
MS_PER_FT_MIN = M_PER_FT / 60.0
#: W m^-2 per Btu ft^-2 min^-1 and W m^-1 per Btu ft^-1 s^-1 (exact).
W_M2_PER_BTU_FT2_MIN = J_PER_BTU / (M_PER_FT**2 * 60.0)
W_M_PER_BTU_FT_S = J_PER_BTU / M_PER_FT


class Cases(NamedTuple):
    """Inputs of n surface fires, one per entry of each (n,) array.

    Attributes
    ----------
    fuel_model : ndarray of int
        Standard fuel model number.
    moisture : ndarray (5, n)
        Dead 1-h, 10-h, 100-h, live herbaceous, live woody moisture (fraction, 1).
    wind : ndarray
        Mid-flame wind speed (m/s).
    wind_from : ndarray
        Direction the wind blows from (degrees clockwise from north), as Behave takes it.
    slope : ndarray
        Steepest slope, rise over run (1).
    aspect : ndarray
        Direction the slope faces, downslope (degrees clockwise from north).
    """

    fuel_model: np.ndarray
    moisture: np.ndarray
    wind: np.ndarray
    wind_from: np.ndarray
    slope: np.ndarray
    aspect: np.ndarray


class Fire(NamedTuple):
    """Surface fire outputs in SI, each an (n,) array.

    Attributes
    ----------
    rate : ndarray
        Head-fire rate of spread (m/s).
    direction : ndarray
        Direction of maximum spread (degrees clockwise from north).
    reaction_intensity : ndarray
        Reaction intensity I_R (W m^-2).
    fireline_intensity : ndarray
        Byram's fireline intensity of the head fire (W m^-1).
    backing_rate : ndarray
        Rate of spread opposite the head (m/s), fire ellipse from a point ignition.
    """

    rate: np.ndarray
    direction: np.ndarray
    reaction_intensity: np.ndarray
    fireline_intensity: np.ndarray
    backing_rate: np.ndarray


def draw_cases(n: int, seed: int, models=MODELS) -> Cases:
    """Seeded random surface fires over the given fuel models.

    Uniform draws: fuel model among ``models``; dead 1-h moisture 0.02-0.30, 10-h and 100-h each
    up to 0.05 wetter than the class before; live herbaceous 0.20-2.00 (so that about half of the
    draws of a dynamic model fall in its curing range 0.30-1.20); live woody 0.50-2.00; mid-flame
    wind 0-12 m/s from any direction; slope 0-1.2 (rise over run) facing any direction.
    """
    rng = np.random.default_rng(seed)
    m1 = rng.uniform(0.02, 0.30, n)
    m10 = m1 + rng.uniform(0.0, 0.05, n)
    m100 = m10 + rng.uniform(0.0, 0.05, n)
    moisture = np.stack([m1, m10, m100, rng.uniform(0.20, 2.00, n), rng.uniform(0.50, 2.00, n)])
    return Cases(fuel_model=rng.choice(np.asarray(models), n), moisture=moisture,
                 wind=rng.uniform(0.0, 12.0, n), wind_from=rng.uniform(0.0, 360.0, n),
                 slope=rng.uniform(0.0, 1.2, n), aspect=rng.uniform(0.0, 360.0, n))


def behave_fire(cases: Cases) -> Fire:
    """Run every case through Behave (``pyrothermel.behave_core``) with its standard fuel models."""
    from pyrothermel import behave_core, modes, units

    # BehaveRun keeps pointers to its fuel models and species table: hold them for the whole run
    fuel_models, species = behave_core.FuelModels(), behave_core.SpeciesMasterTable()
    surface = behave_core.BehaveRun(fuel_models, species).surface
    ft_min = units.SpeedUnits.FeetPerMinute
    out = np.zeros((5, cases.fuel_model.size))
    for k, number in enumerate(cases.fuel_model):
        surface.updateSurfaceInputs(
            int(number), *(float(m) for m in cases.moisture[:, k]), units.FractionUnits.Fraction,
            float(cases.wind[k]) / MS_PER_FT_MIN, ft_min, modes.WindHeightInputMode.DirectMidflame,
            float(cases.wind_from[k]), modes.WindAndSpreadOrientationMode.RelativeToNorth,
            math.degrees(math.atan(float(cases.slope[k]))), units.SlopeUnits.Degrees,
            float(cases.aspect[k]), 0.0, units.FractionUnits.Fraction, 0.0, units.LengthUnits.Feet,
            0.0, units.FractionUnits.Fraction)
        surface.doSurfaceRunInDirectionOfMaxSpread()
        rate = surface.getSpreadRate(ft_min) * MS_PER_FT_MIN
        direction = surface.getDirectionOfMaxSpread()
        i_r = surface.getReactionIntensity(units.HeatSourceAndReactionIntensityUnits.BtusPerSquareFootPerMinute)
        i_b = surface.getFirelineIntensity(units.FirelineIntensityUnits.BtusPerFootPerSecond)
        surface.doSurfaceRunInDirectionOfInterest(direction + 180.0, modes.SurfaceFireSpreadDirectionMode.FromIgnitionPoint)
        back = surface.getSpreadRateInDirectionOfInterest(ft_min) * MS_PER_FT_MIN
        out[:, k] = rate, direction, i_r * W_M2_PER_BTU_FT2_MIN, i_b * W_M_PER_BTU_FT_S, back
    return Fire(*out)


def _our_head_fire(cases: Cases):
    """(SurfaceFireBase, HeadFire) of every case from :mod:`kernels.fire`."""
    base = fire.surface_fire_base(cases.fuel_model, tuple(cases.moisture))
    return base, fire.head_fire(base, cases.wind, np.radians(cases.wind_from + 180.0), cases.slope,
                                np.radians(cases.aspect + 180.0))


def our_length_to_breadth(cases: Cases) -> np.ndarray:
    """Our length-to-breadth ratio (1) of every case, uncapped (Behave caps it at 8)."""
    return fire.length_to_breadth(_our_head_fire(cases)[1].effective_wind)


def our_fire(cases: Cases) -> Fire:
    """Run every case through :mod:`kernels.fire` (one vectorised call, the default wind limit)."""
    base, hf = _our_head_fire(cases)
    lb = fire.length_to_breadth(hf.effective_wind)
    return Fire(rate=hf.rate, direction=np.degrees(hf.azimuth), reaction_intensity=base.reaction_intensity,
                fireline_intensity=fire.fireline_intensity(base.heat_per_unit_area, hf.rate),
                backing_rate=fire.backing_rate(hf.rate, lb))


def relative_error(ours, reference) -> np.ndarray:
    """|ours - reference| / reference (1); 0 where both are 0, inf where only the reference is 0."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    diff = np.abs(ours - reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(diff == 0.0, 0.0, diff / np.abs(reference))
