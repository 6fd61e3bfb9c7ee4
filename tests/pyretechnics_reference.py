"""Reference values of the Rothermel/Albini spread model from pyretechnics, the independent
implementation the spread-rate tests compare against.

pyretechnics pins numpy ~= 1.26 and scipy ~= 1.12 and builds from source, so it is not a test
dependency: its outputs for the test cases are stored in ``tests/data/pyretechnics_reference.csv``
and the tests read them. Regenerate the file (with the ``bench`` extra installed) by running::

    python tests/pyretechnics_reference.py

When pyretechnics is importable the tests also compare against it live.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from kernels.fuel_models import FUEL_TABLE, J_KG_PER_BTU_LB, KG_M2_PER_LB_FT2, M_PER_FT

MODELS = [1, 2, 4, 5, 8, 10, 13, 101, 102, 104, 122, 124, 141, 145, 149, 161, 163, 165, 183, 189, 202]
MOISTURES = [(0.03, 0.04, 0.05, 0.30, 0.60), (0.06, 0.07, 0.08, 0.60, 0.90),
             (0.10, 0.11, 0.12, 1.20, 1.40), (0.08, 0.09, 0.10, 0.45, 0.75)]
WIND_SLOPE = [(0.0, 0.0), (1.5, 0.0), (0.0, 0.35), (4.0, 0.2), (9.0, 0.0)]
#: The stored reference values.
REFERENCE_CSV = Path(__file__).with_name("data") / "pyretechnics_reference.csv"
COLUMNS = ("fuel_model", "moisture_case", "wind_m_s", "slope", "no_wind_rate_m_s", "head_rate_m_s",
           "fireline_intensity_w_m", "length_to_breadth")


def pyretechnics_model(number):
    """A pyretechnics FuelModel built from *our* SI table, converted back to its imperial units.

    pyretechnics' own table rounds Scott & Burgan loads to 4 decimals in lb/ft^2 and puts the
    live load of Anderson's models 4, 5, 7, 10 in the herbaceous class; feeding it our table
    compares the physics like with like.
    """
    import pyretechnics.fuel_models as fm
    base = dict(fm.get_fuel_model(number))
    w = FUEL_TABLE["w_o"][:, number] / KG_M2_PER_LB_FT2
    s = FUEL_TABLE["sigma"][:, number] * M_PER_FT
    dynamic = bool(FUEL_TABLE["dynamic"][number])
    m_x = FUEL_TABLE["M_x_dead"][number]
    sigma = (s[0], s[1], s[2], s[3] if dynamic else 0.0, s[3], s[4])
    base.update(
        delta=FUEL_TABLE["delta"][number] / M_PER_FT,
        w_o=(w[0], w[1], w[2], 0.0, w[3], w[4]),
        sigma=sigma,
        M_x=(m_x, m_x, m_x, m_x if dynamic else 0.0, 0.0, 0.0),
        h=(FUEL_TABLE["h"][number] / J_KG_PER_BTU_LB,) * 6,
        dynamic=dynamic,
        exp_A_sigma=tuple(math.exp(-(138.0 if i < 4 else 500.0) / x) if x > 0 else 0.0
                          for i, x in enumerate(sigma)),
        firemod_size_classes=tuple(1.0 if x >= 1200 else 2.0 if x >= 192 else 3.0 if x >= 96
                                   else 4.0 if x >= 48 else 5.0 if x >= 16 else 6.0 for x in sigma),
    )
    return base


def pyretechnics_head_fire(number, moisture, wind, slope):
    """No-wind rate and head rate (m/s), fireline intensity (W/m), LB from pyretechnics, wind upslope."""
    import pyretechnics.fuel_models as fm
    import pyretechnics.surface_fire as sf
    m1, m10, m100, mh, mw = moisture
    wet = fm.moisturize(pyretechnics_model(number), (m1, m10, m100, 0.0, mh, mw))
    fmin = sf.calc_surface_fire_behavior_no_wind_no_slope(wet)
    # pyretechnics lifts the horizontal wind vector onto the slope plane (|w| sqrt(1 + s^2));
    # give it the horizontal speed whose slope-plane magnitude is our mid-flame wind.
    wind_h_m_min = 60.0 * wind / math.sqrt(1.0 + slope**2)
    # aspect 180 (facing south, upslope north), wind from the south (blowing upslope)
    fmax = sf.calc_surface_fire_behavior_max(fmin, wind_h_m_min, 180.0, slope, 180.0, True, "behave")
    return (fmin["base_spread_rate"] / 60.0, fmax["max_spread_rate"] / 60.0,
            fmax["max_fireline_intensity"] * 1000.0, fmax["length_to_width_ratio"])


def read_reference() -> list[dict]:
    """The stored reference rows (numbers as floats, fuel model and moisture case as ints)."""
    with open(REFERENCE_CSV, newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return [{k: (int(v) if k in ("fuel_model", "moisture_case") else float(v)) for k, v in r.items()} for r in rows]


def main() -> None:
    """Write the reference CSV from pyretechnics."""
    import importlib.metadata

    REFERENCE_CSV.parent.mkdir(exist_ok=True)
    with open(REFERENCE_CSV, "w", newline="") as f:
        f.write(f"# pyretechnics {importlib.metadata.version('pyretechnics')}, made by tests/pyretechnics_reference.py\n")
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for number in MODELS:
            for k, moisture in enumerate(MOISTURES):
                for wind, slope in WIND_SLOPE:
                    values = pyretechnics_head_fire(number, moisture, wind, slope)
                    writer.writerow([number, k, wind, slope, *(repr(float(v)) for v in values)])


if __name__ == "__main__":
    main()
