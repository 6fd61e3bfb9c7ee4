"""Standard surface fuel models, kept as published (imperial) and converted once, at import, to SI.

Two published sets are held:

* Anderson's 13 models (numbers 1-13) with the loads in lb ft^-2 as tabulated by Albini (1976,
  USDA INT-30); the live load of model 2 is herbaceous, that of models 4, 5, 7 and 10 is woody,
  as Scott & Burgan (2005) list the original 13 models and BehavePlus uses them (pyretechnics
  puts all of it in the herbaceous class; the two differ only in which live moisture applies).
  The live woody surface-area-to-volume ratio of model 7 is 1500 ft^-1, BehavePlus's value
  (Behave's ``fuelModels.cpp``); the Albini (1976) table printed 1550, which moved model 7's
  rates by up to 1.6 % from Behave's in the draws of ``bench/fire_vs_behave.py``.
* Scott & Burgan's 40 models (numbers 101-204) with the loads in tons acre^-1 as tabulated in
  Scott & Burgan (2005, USDA RMRS-GTR-153, fuel model parameter table). Models with a live
  herbaceous load are *dynamic*: part of that load is transferred to a dead herbaceous class by
  Scott & Burgan's curing rule (see :func:`kernels.fire.surface_fire_base`).

Numbers 91-99 are non-burnable (Scott & Burgan 2005, NB1-NB9) and have no entry.

Every model shares the Rothermel (1972) particle constants: oven-dry particle density
rho_p = 32 lb ft^-3, total mineral content S_T = 0.0555, effective (silica-free) mineral content
S_e = 0.010. Dead 10-h and 100-h surface-area-to-volume ratios are 109 and 30 ft^-1.

After import, :data:`FUEL_TABLE` holds lookup arrays in SI indexed by fuel model number
(0..204), with ``burnable[number]`` False for every number that is not a burnable model:

=============  ==========  ===========================================================
key            units       meaning
=============  ==========  ===========================================================
``w_o``        kg m^-2     oven-dry load per class, shape (5, 205): dead 1-h, 10-h, 100-h,
                           live herbaceous, live woody
``sigma``      m^-1        surface-area-to-volume ratio per class, shape (5, 205)
``delta``      m           fuel bed depth
``M_x_dead``   1           dead fuel moisture of extinction (fraction)
``h``          J kg^-1     low heat content
``dynamic``    bool        Scott & Burgan dynamic model (herbaceous load cures with moisture)
``burnable``   bool        a burnable model exists under this number
=============  ==========  ===========================================================
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

# --- unit conversion factors (exact definitions) --------------------------------------------
M_PER_FT = 0.3048                                   #: m per international foot
KG_PER_LB = 0.45359237                              #: kg per avoirdupois pound
J_PER_BTU = 1055.05585262                           #: J per International Table Btu
KG_M2_PER_LB_FT2 = KG_PER_LB / M_PER_FT**2          #: (kg m^-2) per (lb ft^-2)
LB_FT2_PER_TON_ACRE = 2000.0 / 43560.0              #: (lb ft^-2) per (short ton acre^-1)
KG_M3_PER_LB_FT3 = KG_PER_LB / M_PER_FT**3          #: (kg m^-3) per (lb ft^-3)
J_KG_PER_BTU_LB = J_PER_BTU / KG_PER_LB             #: (J kg^-1) per (Btu lb^-1)

#: Rothermel (1972) particle constants shared by every standard model.
RHO_P_LB_FT3 = 32.0
S_T = 0.0555
S_E = 0.010
#: Oven-dry particle density in SI (kg m^-3).
RHO_P = RHO_P_LB_FT3 * KG_M3_PER_LB_FT3

# Anderson (1982) 13 models, Albini (1976) values (model 7's live woody SAVR as in BehavePlus).
# number: (name, 1-h, 10-h, 100-h, live herb, live woody [lb ft^-2],
#          sigma 1-h, sigma live herb, sigma live woody [ft^-1], depth [ft], M_x dead [%])
_ANDERSON_13 = {
    1: ("short grass", 0.034, 0.0, 0.0, 0.0, 0.0, 3500, 0, 0, 1.0, 12),
    2: ("timber grass and understory", 0.092, 0.046, 0.023, 0.023, 0.0, 3000, 1500, 0, 1.0, 15),
    3: ("tall grass", 0.138, 0.0, 0.0, 0.0, 0.0, 1500, 0, 0, 2.5, 25),
    4: ("chaparral", 0.230, 0.184, 0.092, 0.0, 0.230, 2000, 0, 1500, 6.0, 20),
    5: ("brush", 0.046, 0.023, 0.0, 0.0, 0.092, 2000, 0, 1500, 2.0, 20),
    6: ("dormant brush, hardwood slash", 0.069, 0.115, 0.092, 0.0, 0.0, 1750, 0, 0, 2.5, 25),
    7: ("southern rough", 0.052, 0.086, 0.069, 0.0, 0.017, 1750, 0, 1500, 2.5, 40),
    8: ("closed timber litter", 0.069, 0.046, 0.115, 0.0, 0.0, 2000, 0, 0, 0.2, 30),
    9: ("hardwood litter", 0.134, 0.019, 0.007, 0.0, 0.0, 2500, 0, 0, 0.2, 25),
    10: ("timber litter and understory", 0.138, 0.092, 0.230, 0.0, 0.092, 2000, 0, 1500, 1.0, 25),
    11: ("light logging slash", 0.069, 0.207, 0.253, 0.0, 0.0, 1500, 0, 0, 1.0, 15),
    12: ("medium logging slash", 0.184, 0.644, 0.759, 0.0, 0.0, 1500, 0, 0, 2.3, 20),
    13: ("heavy logging slash", 0.322, 1.058, 1.288, 0.0, 0.0, 1500, 0, 0, 3.0, 25),
}

# Scott & Burgan (2005), fuel model parameter table.
# number: (code, 1-h, 10-h, 100-h, live herb, live woody [t ac^-1],
#          sigma 1-h, sigma live herb, sigma live woody [ft^-1], depth [ft], M_x dead [%],
#          heat content [Btu lb^-1])
_SCOTT_BURGAN_40 = {
    101: ("GR1", 0.10, 0.00, 0.00, 0.30, 0.00, 2200, 2000, 0, 0.4, 15, 8000),
    102: ("GR2", 0.10, 0.00, 0.00, 1.00, 0.00, 2000, 1800, 0, 1.0, 15, 8000),
    103: ("GR3", 0.10, 0.40, 0.00, 1.50, 0.00, 1500, 1300, 0, 2.0, 30, 8000),
    104: ("GR4", 0.25, 0.00, 0.00, 1.90, 0.00, 2000, 1800, 0, 2.0, 15, 8000),
    105: ("GR5", 0.40, 0.00, 0.00, 2.50, 0.00, 1800, 1600, 0, 1.5, 40, 8000),
    106: ("GR6", 0.10, 0.00, 0.00, 3.40, 0.00, 2200, 2000, 0, 1.5, 40, 9000),
    107: ("GR7", 1.00, 0.00, 0.00, 5.40, 0.00, 2000, 1800, 0, 3.0, 15, 8000),
    108: ("GR8", 0.50, 1.00, 0.00, 7.30, 0.00, 1500, 1300, 0, 4.0, 30, 8000),
    109: ("GR9", 1.00, 1.00, 0.00, 9.00, 0.00, 1800, 1600, 0, 5.0, 40, 8000),
    121: ("GS1", 0.20, 0.00, 0.00, 0.50, 0.65, 2000, 1800, 1800, 0.9, 15, 8000),
    122: ("GS2", 0.50, 0.50, 0.00, 0.60, 1.00, 2000, 1800, 1800, 1.5, 15, 8000),
    123: ("GS3", 0.30, 0.25, 0.00, 1.45, 1.25, 1800, 1600, 1600, 1.8, 40, 8000),
    124: ("GS4", 1.90, 0.30, 0.10, 3.40, 7.10, 1800, 1600, 1600, 2.1, 40, 8000),
    141: ("SH1", 0.25, 0.25, 0.00, 0.15, 1.30, 2000, 1800, 1600, 1.0, 15, 8000),
    142: ("SH2", 1.35, 2.40, 0.75, 0.00, 3.85, 2000, 0, 1600, 1.0, 15, 8000),
    143: ("SH3", 0.45, 3.00, 0.00, 0.00, 6.20, 1600, 0, 1400, 2.4, 40, 8000),
    144: ("SH4", 0.85, 1.15, 0.20, 0.00, 2.55, 2000, 1800, 1600, 3.0, 30, 8000),
    145: ("SH5", 3.60, 2.10, 0.00, 0.00, 2.90, 750, 0, 1600, 6.0, 15, 8000),
    146: ("SH6", 2.90, 1.45, 0.00, 0.00, 1.40, 750, 0, 1600, 2.0, 30, 8000),
    147: ("SH7", 3.50, 5.30, 2.20, 0.00, 3.40, 750, 0, 1600, 6.0, 15, 8000),
    148: ("SH8", 2.05, 3.40, 0.85, 0.00, 4.35, 750, 0, 1600, 3.0, 40, 8000),
    149: ("SH9", 4.50, 2.45, 0.00, 1.55, 7.00, 750, 1800, 1500, 4.4, 40, 8000),
    161: ("TU1", 0.20, 0.90, 1.50, 0.20, 0.90, 2000, 1800, 1600, 0.6, 20, 8000),
    162: ("TU2", 0.95, 1.80, 1.25, 0.00, 0.20, 2000, 0, 1600, 1.0, 30, 8000),
    163: ("TU3", 1.10, 0.15, 0.25, 0.65, 1.10, 1800, 1600, 1400, 1.3, 30, 8000),
    164: ("TU4", 4.50, 0.00, 0.00, 0.00, 2.00, 2300, 0, 2000, 0.5, 12, 8000),
    165: ("TU5", 4.00, 4.00, 3.00, 0.00, 3.00, 1500, 0, 750, 1.0, 25, 8000),
    181: ("TL1", 1.00, 2.20, 3.60, 0.00, 0.00, 2000, 0, 0, 0.2, 30, 8000),
    182: ("TL2", 1.40, 2.30, 2.20, 0.00, 0.00, 2000, 0, 0, 0.2, 25, 8000),
    183: ("TL3", 0.50, 2.20, 2.80, 0.00, 0.00, 2000, 0, 0, 0.3, 20, 8000),
    184: ("TL4", 0.50, 1.50, 4.20, 0.00, 0.00, 2000, 0, 0, 0.4, 25, 8000),
    185: ("TL5", 1.15, 2.50, 4.40, 0.00, 0.00, 2000, 0, 1600, 0.6, 25, 8000),
    186: ("TL6", 2.40, 1.20, 1.20, 0.00, 0.00, 2000, 0, 0, 0.3, 25, 8000),
    187: ("TL7", 0.30, 1.40, 8.10, 0.00, 0.00, 2000, 0, 0, 0.4, 25, 8000),
    188: ("TL8", 5.80, 1.40, 1.10, 0.00, 0.00, 1800, 0, 0, 0.3, 35, 8000),
    189: ("TL9", 6.65, 3.30, 4.15, 0.00, 0.00, 1800, 0, 1600, 0.6, 35, 8000),
    201: ("SB1", 1.50, 3.00, 11.00, 0.00, 0.00, 2000, 0, 0, 1.0, 25, 8000),
    202: ("SB2", 4.50, 4.25, 4.00, 0.00, 0.00, 2000, 0, 0, 1.0, 25, 8000),
    203: ("SB3", 5.50, 2.75, 3.00, 0.00, 0.00, 2000, 0, 0, 1.2, 25, 8000),
    204: ("SB4", 5.25, 3.50, 5.25, 0.00, 0.00, 2000, 0, 0, 2.7, 25, 8000),
}

#: Dead 10-h and 100-h surface-area-to-volume ratios of every standard model (ft^-1).
_SIGMA_10H_FT, _SIGMA_100H_FT = 109.0, 30.0
#: Non-burnable model numbers (Scott & Burgan 2005, NB1-NB9).
NON_BURNABLE = range(91, 100)
#: Largest model number held.
MAX_NUMBER = 204

#: Model names by number (Anderson descriptions, Scott & Burgan codes, NB codes).
MODEL_NAMES = MappingProxyType({
    **{k: v[0] for k, v in _ANDERSON_13.items()},
    **{k: f"NB{k - 90}" for k in NON_BURNABLE},
    **{k: v[0] for k, v in _SCOTT_BURGAN_40.items()},
})


def _build_si_table() -> MappingProxyType:
    """Convert both published tables to SI lookup arrays indexed by model number (run once)."""
    n = MAX_NUMBER + 1
    w_o = np.zeros((5, n))
    sigma = np.zeros((5, n))
    delta = np.zeros(n)
    m_x = np.zeros(n)
    heat = np.zeros(n)
    dynamic = np.zeros(n, dtype=bool)
    burnable = np.zeros(n, dtype=bool)
    rows = [(k, v[1:6], v[6:9], v[9], v[10], 8000.0, 1.0, False) for k, v in _ANDERSON_13.items()]
    rows += [(k, v[1:6], v[6:9], v[9], v[10], v[11], LB_FT2_PER_TON_ACRE, v[4] > 0.0)
             for k, v in _SCOTT_BURGAN_40.items()]
    for k, loads, (s1, s_herb, s_woody), depth_ft, m_x_pct, h_btu_lb, to_lb_ft2, dyn in rows:
        w_o[:, k] = np.asarray(loads, dtype=float) * to_lb_ft2 * KG_M2_PER_LB_FT2
        sigma[:, k] = np.array([s1, _SIGMA_10H_FT, _SIGMA_100H_FT, s_herb, s_woody]) / M_PER_FT
        delta[k] = depth_ft * M_PER_FT
        m_x[k] = m_x_pct / 100.0
        heat[k] = h_btu_lb * J_KG_PER_BTU_LB
        dynamic[k] = dyn
        burnable[k] = True
    for arr in (w_o, sigma, delta, m_x, heat, dynamic, burnable):
        arr.setflags(write=False)
    return MappingProxyType({"w_o": w_o, "sigma": sigma, "delta": delta, "M_x_dead": m_x,
                             "h": heat, "dynamic": dynamic, "burnable": burnable})


#: SI lookup arrays indexed by fuel model number; see the module docstring.
FUEL_TABLE = _build_si_table()


def check_fuel_models(fuel_model: np.ndarray) -> np.ndarray:
    """Check that every number is a standard model (1-13, 91-99, 101-204) and return it as int.

    Parameters
    ----------
    fuel_model : array_like of int
        Fuel model numbers.

    Returns
    -------
    numpy.ndarray of int64
        The same numbers.

    Raises
    ------
    ValueError
        If a number is neither a burnable standard model nor non-burnable (91-99); the message
        lists the unknown numbers.
    """
    fm = np.asarray(fuel_model).astype(np.int64)
    known = np.zeros(MAX_NUMBER + 1, dtype=bool)
    known[FUEL_TABLE["burnable"]] = True
    known[91:100] = True
    inside = (fm >= 0) & (fm <= MAX_NUMBER)
    ok = inside & known[np.where(inside, fm, 0)]
    if not ok.all():
        bad = np.unique(fm[~ok])[:10]
        raise ValueError(f"unknown fuel model number(s) {bad.tolist()}: expected Anderson 1-13, "
                         "non-burnable 91-99 or Scott & Burgan 101-204")
    return fm
