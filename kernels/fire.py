"""Fire spread rates in SI: Rothermel surface fire, the fire ellipse, and Hamada's urban spread.

Surface fire (vegetation)
    Rothermel (1972, USDA INT-115) with the corrections of Albini (1976, USDA INT-30): the
    reaction-velocity exponent A = 133 sigma^-0.7913, the live moisture of extinction and the
    size-class weighting g_ij of net loads. The published correlations are in imperial units
    (sigma in ft^-1, wind in ft min^-1, heat in Btu); their constants are converted once, at
    import, below, and every function here takes and returns SI:

    ========================  =========  ==========================================================
    symbol                    units      meaning
    ========================  =========  ==========================================================
    sigma                     m^-1       surface-area-to-volume ratio
    w_o                       kg m^-2    oven-dry fuel load
    delta                     m          fuel bed depth
    beta, beta_op             1          packing ratio, optimum packing ratio
    I_R                       W m^-2     reaction intensity
    R, R_0                    m s^-1     rate of spread, without wind and slope
    U                         m s^-1     mid-flame wind speed
    phi_W, phi_S              1          wind and slope factors
    H w_a = I_R t_r           J m^-2     heat released per unit area of the flaming front
    ========================  =========  ==========================================================

Fire shape
    Length-to-breadth ratio of Anderson (1983, USDA INT-305), written for U in m/s; the ellipse
    with the ignition at its rear focus (Van Wagner 1969; Albini & Chase 1980).

Urban fire
    Hamada's (1951) building-to-building spread speeds, in the form given by the Japanese Fire
    Defense Agency (see :func:`hamada_spread_rates`).

Azimuths are radians clockwise from north. Every function broadcasts its array arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kernels.fuel_models import (FUEL_TABLE, J_KG_PER_BTU_LB, M_PER_FT, RHO_P, S_E, S_T,
                                  check_fuel_models)

# --- Rothermel (1972) / Albini (1976) constants, converted to SI once -----------------------
# sigma_ft = M_PER_FT * sigma (sigma in m^-1); U_ft_min = _FTMIN_PER_MS * U (U in m/s).
_FT = M_PER_FT
_FTMIN_PER_MS = 60.0 / _FT
_W_M2_PER_BTU_FT2_MIN = 1055.05585262 / (_FT**2 * 60.0)
_EPS_DEAD = 138.0 / _FT          # eq. 14, eps = exp(-138 / sigma_ft) = exp(-_EPS_DEAD / sigma)
_EPS_LIVE = 500.0 / _FT          # Albini (1976) live-fuel heating number, exp(-500 / sigma_ft)
_QIG_0 = 250.0 * J_KG_PER_BTU_LB     # eq. 12, Q_ig = 250 + 1116 M_f   (Btu/lb -> J/kg)
_QIG_M = 1116.0 * J_KG_PER_BTU_LB
_BETA_OP_K = 3.348 * _FT**-0.8189                    # eq. 37
_GAMMA_G1 = 60.0 * 495.0 / _FT**1.5                  # eq. 36, Gamma'_max in s^-1:
_GAMMA_G2 = 60.0 * 0.0594                            #   sigma^1.5 / (G1 + G2 sigma^1.5)
_A_K = 133.0 * _FT**-0.7913                          # Albini (1976) replacement of eq. 39
_RES_TIME_K = 60.0 * 384.0 / _FT                     # Anderson (1969): t_r = 384/sigma_ft min
_ETA_S = min(1.0, 0.174 * S_E**-0.19)                # eq. 30 (S_e = 0.010 for every model)
_MS_PER_MPH = 0.44704                                # m/s per mi/h (exact)
_LB_GROWTH = 0.1147 / _MS_PER_MPH                    # Anderson (1983), per m/s
_LB_DECAY = 0.0692 / _MS_PER_MPH
#: Albini (1976) size-class bounds for the g_ij weighting, ft^-1 converted to m^-1.
_SIZE_BOUNDS = np.array([1200.0, 192.0, 96.0, 48.0, 16.0]) / _FT

#: Effective-wind-speed limits (m/s) as functions of the reaction intensity I_R (W m^-2).
WIND_LIMITS = {
    # Rothermel (1972) eq. 86: U_max = 0.9 I_R (U in ft/min, I_R in Btu ft^-2 min^-1).
    "rothermel1972": lambda i_r: 0.9 * (i_r / _W_M2_PER_BTU_FT2_MIN) / _FTMIN_PER_MS,
    # Andrews, Cruz & Rothermel (2013, Int. J. Wildland Fire 22:959), revised limit:
    # U_max = 96.8 I_R^(1/3) in the same imperial units.
    "andrews2013": lambda i_r: 96.8 * np.cbrt(i_r / _W_M2_PER_BTU_FT2_MIN) / _FTMIN_PER_MS,
    "none": lambda i_r: np.full_like(i_r, np.inf),
}


class SurfaceFireBase(NamedTuple):
    """No-wind, no-slope Rothermel fire and the coefficients of its wind and slope factors.

    Every attribute is an array of the broadcast shape of the inputs, 0 on non-burnable cells.

    Attributes
    ----------
    spread_rate : ndarray
        R_0, rate of spread without wind or slope (m/s), Rothermel (1972) eq. 52.
    reaction_intensity : ndarray
        I_R (W m^-2), eq. 27 summed over the dead and live categories.
    heat_per_unit_area : ndarray
        H w_a = I_R t_r (J m^-2), with the residence time t_r of Anderson (1969).
    wind_c, wind_b : ndarray
        C and B of phi_W = C U_ft^B (beta/beta_op)^-E, eqs. 47-49 (U_ft in ft/min).
    wind_e_term : ndarray
        (beta/beta_op)^-E, eq. 47 with eq. 50.
    slope_k : ndarray
        5.275 beta^-0.3, so that phi_S = slope_k tan^2(phi), eq. 51.
    max_effective_wind : ndarray
        Effective-wind-speed limit U_max (m/s), per the chosen ``wind_limit``.
    """

    spread_rate: np.ndarray
    reaction_intensity: np.ndarray
    heat_per_unit_area: np.ndarray
    wind_c: np.ndarray
    wind_b: np.ndarray
    wind_e_term: np.ndarray
    slope_k: np.ndarray
    max_effective_wind: np.ndarray


def _safe_div(num, den):
    """num / den where den > 0, else 0."""
    ok = den > 0.0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _moisture_damping(m_f, m_x):
    """Rothermel (1972) eq. 29: eta_M = 1 - 2.59 r + 5.11 r^2 - 3.52 r^3, r = min(1, M_f/M_x)."""
    r = np.minimum(1.0, _safe_div(m_f, m_x))
    r = np.where(m_x > 0.0, r, 1.0)
    return np.where(r < 1.0, 1.0 - 2.59 * r + 5.11 * r**2 - 3.52 * r**3, 0.0)


def _size_class_weights(f_ij, sigma, category):
    """Albini (1976) g_ij: the f of all classes of the category that share j's size class."""
    size_class = np.sum(sigma[..., None] < _SIZE_BOUNDS, axis=-1)   # 0 (finest) .. 5
    g = np.zeros_like(f_ij)
    for j in category:
        for k in category:
            g[j] += np.where(size_class[k] == size_class[j], f_ij[k], 0.0)
    return g


def cured_fraction(m_herb):
    """Fraction of a dynamic model's live herbaceous load transferred to dead herbaceous (1).

    Scott & Burgan (2005, RMRS-GTR-153, p. 12) transfer the load linearly from none at a live
    herbaceous moisture of 120 % to all of it at 30 %, c = (1.20 - M_herb) / 0.90. BehavePlus,
    and Behave (Andrews 2018, RMRS-GTR-371) after it, evaluate that line with rounded
    coefficients, and this function follows them:

        c = 1                     for M_herb < 0.30
        c = 1.333 - 1.11 M_herb   for 0.30 <= M_herb <= 1.20  (0.001 at 1.20)
        c = 0                     for M_herb > 1.20

    The rounding matters: near the live moisture of extinction the spread rate of a grass model
    moves by several per cent per 0.001 of transferred load.

    Parameters
    ----------
    m_herb : array_like
        Live herbaceous moisture content (fraction of oven-dry mass, 1).
    """
    m_herb = np.asarray(m_herb, dtype=np.float64)
    return np.where(m_herb <= 1.20, np.clip(1.333 - 1.11 * m_herb, 0.0, 1.0), 0.0)


def surface_fire_base(fuel_model, moisture, wind_limit: str = "rothermel1972") -> SurfaceFireBase:
    """No-wind, no-slope Rothermel surface fire for standard fuel models.

    Parameters
    ----------
    fuel_model : array_like of int
        Standard fuel model numbers (Anderson 1-13, Scott & Burgan 101-204); 91-99 are
        non-burnable and give zeros.
    moisture : sequence of 5 array_like
        Fuel moisture content (fraction of oven-dry mass, 1) of dead 1-h, dead 10-h, dead 100-h,
        live herbaceous and live woody fuel; each broadcasts against ``fuel_model``.
    wind_limit : {"rothermel1972", "andrews2013", "none"}
        Effective-wind-speed limit stored in ``max_effective_wind`` (see :data:`WIND_LIMITS`).

    Returns
    -------
    SurfaceFireBase
        Rate of spread R_0 (m/s), reaction intensity (W m^-2), heat per unit area (J m^-2),
        wind- and slope-factor coefficients and the wind limit (m/s).

    Notes
    -----
    Dynamic Scott & Burgan models transfer the fraction c of the live herbaceous load to a
    dead herbaceous class (same sigma, moisture of the dead 1-h class), c from
    :func:`cured_fraction` (Scott & Burgan 2005, with BehavePlus's rounded coefficients). Rothermel (1972) heterogeneous-fuel equations (his
    eqs. 53-80, in the arrangement of Albini 1976): weights f_ij = a_ij / a_i with
    a_ij = sigma_ij w_ij / rho_p; characteristic sigma = sum f_i sum f_ij sigma_ij;
    beta = rho_b / rho_p with rho_b = sum w_o / delta; beta_op eq. 37; Gamma'_max eq. 36;
    Gamma' eq. 38 with A = 133 sigma_ft^-0.7913 (Albini 1976); eta_M eq. 29 per category with
    the live moisture of extinction M_x,live = max(M_x,dead, 2.9 W' (1 - M'_f,dead / M_x,dead)
    - 0.226) (eq. 88 as revised by Albini 1976); eta_S eq. 30; net loads w_n = w_o (1 - S_T)
    (eq. 24) weighted by Albini's g_ij; xi eq. 42; heat sink rho_b sum f_i f_ij eps_ij Q_ig,ij
    (eps eq. 14, Q_ig eq. 12); R_0 = I_R xi / heat sink (eq. 52 with phi_W = phi_S = 0).

    Raises
    ------
    ValueError
        Unknown fuel model numbers, a moisture sequence that does not have 5 entries, or
        negative or non-finite moisture.
    """
    if len(moisture) != 5:
        raise ValueError(f"moisture needs 5 classes (1-h, 10-h, 100-h, herb, woody), got {len(moisture)}")
    if wind_limit not in WIND_LIMITS:
        raise ValueError(f"wind_limit must be one of {sorted(WIND_LIMITS)}, got {wind_limit!r}")
    fm = check_fuel_models(fuel_model)
    mst = [np.asarray(m, dtype=np.float64) for m in moisture]
    shape = np.broadcast_shapes(fm.shape, *(m.shape for m in mst))
    for m in mst:
        if not np.all(np.isfinite(m)) or np.any(m < 0.0):
            raise ValueError("fuel moisture must be finite and >= 0 (fraction of dry mass)")
    if fm.size > 1 and all(m.size == 1 for m in mst):
        # uniform moisture: evaluate once per distinct fuel model and scatter back
        numbers, inverse = np.unique(fm, return_inverse=True)
        per_model = _base_per_cell(numbers, [m.reshape(()) for m in mst], numbers.shape, wind_limit)
        return SurfaceFireBase(*(np.broadcast_to(x[inverse.reshape(fm.shape)], shape) for x in per_model))
    return _base_per_cell(fm, mst, shape, wind_limit)


def _base_per_cell(fm, mst, shape, wind_limit) -> SurfaceFireBase:
    """The Rothermel no-wind, no-slope computation of :func:`surface_fire_base`, cell by cell."""
    fm = np.broadcast_to(fm, shape)
    m1, m10, m100, m_herb, m_wood = (np.broadcast_to(m, shape) for m in mst)
    t = FUEL_TABLE
    w5, s5 = t["w_o"][:, fm], t["sigma"][:, fm]
    cured = np.where(t["dynamic"][fm], cured_fraction(m_herb), 0.0)
    # six classes: dead 1-h, 10-h, 100-h, dead herbaceous, live herbaceous, live woody
    w = np.stack([w5[0], w5[1], w5[2], w5[3] * cured, w5[3] * (1.0 - cured), w5[4]])
    sigma = np.stack([s5[0], s5[1], s5[2], s5[3], s5[3], s5[4]])
    mf = np.stack([m1, m10, m100, m1, m_herb, m_wood])
    dead, live = (0, 1, 2, 3), (4, 5)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = sigma * w / RHO_P                                           # surface area per class
        a_cat = np.stack([a[list(dead)].sum(0), a[list(live)].sum(0)])
        f_ij = np.concatenate([_safe_div(a[list(dead)], a_cat[0]), _safe_div(a[list(live)], a_cat[1])])
        f_i = _safe_div(a_cat, a_cat.sum(0))                            # category weights
        sig_cat = np.stack([(f_ij * sigma)[list(dead)].sum(0), (f_ij * sigma)[list(live)].sum(0)])
        sig = (f_i * sig_cat).sum(0)                                    # characteristic sigma
        delta = t["delta"][fm]
        rho_b = _safe_div(w.sum(0), delta)                              # bulk density
        beta = rho_b / RHO_P                                            # packing ratio
        beta_op = np.where(sig > 0.0, _BETA_OP_K * sig**-0.8189, 1.0)   # eq. 37
        ratio = beta / beta_op

        # moisture of extinction: dead from the table, live from eq. 88 (Albini 1976)
        m_x_dead = t["M_x_dead"][fm]
        eps_d = np.where(sigma > 0.0, np.exp(-_EPS_DEAD / np.where(sigma > 0.0, sigma, 1.0)), 0.0)
        eps_l = np.where(sigma > 0.0, np.exp(-_EPS_LIVE / np.where(sigma > 0.0, sigma, 1.0)), 0.0)
        dead_fine = (w * eps_d)[list(dead)].sum(0)
        live_fine = (w * eps_l)[list(live)].sum(0)
        m_fine_dead = _safe_div((w * eps_d * mf)[list(dead)].sum(0), dead_fine)
        m_x_live = np.maximum(m_x_dead, 2.9 * _safe_div(dead_fine, live_fine)
                              * (1.0 - _safe_div(m_fine_dead, m_x_dead)) - 0.226)
        m_x_live = np.where(live_fine > 0.0, m_x_live, m_x_dead)

        m_cat = np.stack([(f_ij * mf)[list(dead)].sum(0), (f_ij * mf)[list(live)].sum(0)])
        eta_m = _moisture_damping(m_cat, np.stack([m_x_dead, m_x_live]))   # eq. 29
        g_ij = _size_class_weights(f_ij, sigma, dead) + _size_class_weights(f_ij, sigma, live)
        w_n = g_ij * w * (1.0 - S_T)                                    # eq. 24, Albini g_ij
        w_n_cat = np.stack([w_n[list(dead)].sum(0), w_n[list(live)].sum(0)])
        h = t["h"][fm]                                                  # same h for every class
        has_cat = a_cat > 0.0
        sum_heat = (np.where(has_cat, w_n_cat * h * eta_m * _ETA_S, 0.0)).sum(0)

        sig15 = sig**1.5
        gamma_max = _safe_div(sig15, _GAMMA_G1 + _GAMMA_G2 * sig15)     # eq. 36, s^-1
        big_a = np.where(sig > 0.0, _A_K * sig**-0.7913, 0.0)           # Albini (1976)
        gamma = gamma_max * ratio**big_a * np.exp(big_a * (1.0 - ratio))  # eq. 38
        i_r = gamma * sum_heat                                          # eq. 27, W m^-2

        sig_ft = _FT * sig
        xi = np.exp((0.792 + 0.681 * np.sqrt(sig_ft)) * (beta + 0.1)) / (192.0 + 0.2595 * sig_ft)  # eq. 42
        q_ig = _QIG_0 + _QIG_M * mf                                     # eq. 12, J kg^-1
        eps = np.concatenate([eps_d[list(dead)], eps_d[list(live)]])    # eq. 14 for every class
        sink_cat = np.stack([(f_ij * eps * q_ig)[list(dead)].sum(0), (f_ij * eps * q_ig)[list(live)].sum(0)])
        heat_sink = rho_b * (f_i * sink_cat).sum(0)                     # J m^-3
        r0 = _safe_div(i_r * xi, heat_sink)                             # eq. 52, no wind/slope

        t_r = _safe_div(_RES_TIME_K, sig)                               # s
        wind_c = 7.47 * np.exp(-0.133 * sig_ft**0.55)                   # eq. 48
        wind_b = 0.02526 * sig_ft**0.54                                 # eq. 49
        wind_e = 0.715 * np.exp(-3.59e-4 * sig_ft)                      # eq. 50
        e_term = np.where(ratio > 0.0, ratio**-wind_e, 0.0)
        slope_k = np.where(beta > 0.0, 5.275 * beta**-0.3, 0.0)          # eq. 51

    burn = t["burnable"][fm] & (r0 > 0.0)
    z = np.zeros(shape)
    return SurfaceFireBase(
        spread_rate=np.where(burn, r0, z),
        reaction_intensity=np.where(burn, i_r, z),
        heat_per_unit_area=np.where(burn, i_r * t_r, z),
        wind_c=np.where(burn, wind_c, z),
        wind_b=np.where(burn, wind_b, z),
        wind_e_term=np.where(burn, e_term, z),
        slope_k=np.where(burn, slope_k, z),
        max_effective_wind=np.where(burn, WIND_LIMITS[wind_limit](i_r), z),
    )


def wind_factor(base: SurfaceFireBase, midflame_wind) -> np.ndarray:
    """Rothermel (1972) eq. 47 wind factor phi_W = C U^B (beta/beta_op)^-E (1).

    Parameters
    ----------
    base : SurfaceFireBase
        From :func:`surface_fire_base`.
    midflame_wind : array_like
        Mid-flame wind speed U (m/s), >= 0.
    """
    u_ft = _FTMIN_PER_MS * np.asarray(midflame_wind, dtype=np.float64)
    return base.wind_c * u_ft**base.wind_b * base.wind_e_term


def slope_factor(base: SurfaceFireBase, slope) -> np.ndarray:
    """Rothermel (1972) eq. 51 slope factor phi_S = 5.275 beta^-0.3 tan^2(phi) (1).

    Parameters
    ----------
    base : SurfaceFireBase
        From :func:`surface_fire_base`.
    slope : array_like
        tan(phi), rise over run (1) along the direction of spread.
    """
    return base.slope_k * np.asarray(slope, dtype=np.float64) ** 2


def effective_wind_speed(base: SurfaceFireBase, phi_e) -> np.ndarray:
    """Wind speed (m/s) whose eq. 47 factor equals phi_E (Rothermel 1972 eq. 87, inverted eq. 47).

    Parameters
    ----------
    base : SurfaceFireBase
        From :func:`surface_fire_base`.
    phi_e : array_like
        Combined wind and slope factor (1).
    """
    ok = (base.wind_c > 0.0) & (base.wind_e_term > 0.0) & (base.wind_b > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_ft = (np.asarray(phi_e) / (base.wind_c * base.wind_e_term)) ** (1.0 / base.wind_b)
    return np.where(ok, u_ft, 0.0) / _FTMIN_PER_MS


def _limit(base: SurfaceFireBase, phi_e):
    """Apply the effective wind limit: (limited phi_E, effective wind speed U_E in m/s)."""
    u_e = effective_wind_speed(base, phi_e)
    over = u_e > base.max_effective_wind
    phi_max = wind_factor(base, np.where(over, base.max_effective_wind, 0.0))
    return np.where(over, phi_max, phi_e), np.where(over, base.max_effective_wind, u_e)


def surface_spread_rate(fuel_model, moisture, midflame_wind, slope,
                        wind_limit: str = "rothermel1972") -> np.ndarray:
    """Head-fire rate of spread (m/s) of a Rothermel surface fire, wind blowing upslope.

    R = R_0 (1 + phi_W + phi_S)   (Rothermel 1972 eq. 52)

    The effective wind limit is applied: when the wind speed U_E equivalent to
    phi_E = phi_W + phi_S (eq. 87) exceeds U_max, phi_E is replaced by phi_W(U_max). The default
    form is Rothermel (1972) eq. 86, U_max = 0.9 I_R (ft/min with I_R in Btu ft^-2 min^-1), as
    in BehavePlus and pyretechnics; ``wind_limit="andrews2013"`` uses the revised
    U_max = 96.8 I_R^(1/3) of Andrews et al. (2013), and ``"none"`` disables the limit.

    Parameters
    ----------
    fuel_model : array_like of int
        Standard fuel model numbers (1-13, 101-204; 91-99 non-burnable -> 0).
    moisture : sequence of 5 array_like
        Moisture (fraction, 1) of dead 1-h, 10-h, 100-h, live herbaceous, live woody fuel.
    midflame_wind : array_like
        Mid-flame wind speed (m/s), blowing upslope.
    slope : array_like
        Slope as rise over run (1).
    wind_limit : {"rothermel1972", "andrews2013", "none"}
        Effective-wind-speed limit.

    Returns
    -------
    numpy.ndarray
        Head-fire rate of spread (m/s), measured along the slope surface.
    """
    base = surface_fire_base(fuel_model, moisture, wind_limit)
    phi_e, _ = _limit(base, wind_factor(base, midflame_wind) + slope_factor(base, slope))
    return base.spread_rate * (1.0 + phi_e)


class HeadFire(NamedTuple):
    """Head fire of a Rothermel surface fire under wind and slope vectors.

    Attributes
    ----------
    rate : ndarray
        Head-fire rate of spread (m/s).
    azimuth : ndarray
        Direction of maximum spread (radians clockwise from north).
    effective_wind : ndarray
        Limited effective wind speed U_E (m/s), for :func:`length_to_breadth`.
    """

    rate: np.ndarray
    azimuth: np.ndarray
    effective_wind: np.ndarray


def head_fire(base: SurfaceFireBase, midflame_wind, downwind_azimuth, slope, upslope_azimuth) -> HeadFire:
    """Head fire from wind and slope that need not be aligned.

    The wind factor (eq. 47) and slope factor (eq. 51) are added as vectors along the downwind
    and upslope directions (the vector method of Rothermel 1983, USDA INT-143, used in FARSITE,
    Finney 1998); the head fire spreads along their sum phi_E at R = R_0 (1 + |phi_E|), with the
    effective-wind limit of ``base`` applied to |phi_E| (see :func:`surface_spread_rate`).

    Parameters
    ----------
    base : SurfaceFireBase
        From :func:`surface_fire_base`.
    midflame_wind : array_like
        Mid-flame wind speed (m/s).
    downwind_azimuth : array_like
        Direction the wind blows towards (radians clockwise from north).
    slope : array_like
        Steepest slope, rise over run (1).
    upslope_azimuth : array_like
        Upslope direction (radians clockwise from north).

    Returns
    -------
    HeadFire
        Rate (m/s), azimuth of maximum spread (rad) and effective wind speed (m/s).
    """
    phi_w = wind_factor(base, midflame_wind)
    phi_s = slope_factor(base, slope)
    east = phi_w * np.sin(downwind_azimuth) + phi_s * np.sin(upslope_azimuth)
    north = phi_w * np.cos(downwind_azimuth) + phi_s * np.cos(upslope_azimuth)
    phi_e, u_e = _limit(base, np.hypot(east, north))
    azimuth = np.mod(np.arctan2(east, north), 2.0 * np.pi)
    return HeadFire(base.spread_rate * (1.0 + phi_e), azimuth, u_e)


def fireline_intensity(heat_per_unit_area, rate_of_spread) -> np.ndarray:
    """Byram's (1959) fireline intensity I = H w_a R (W/m).

    Parameters
    ----------
    heat_per_unit_area : array_like
        H w_a, heat released per unit area of the flaming front (J m^-2); for a Rothermel fire
        I_R t_r (Albini 1976), ``SurfaceFireBase.heat_per_unit_area``.
    rate_of_spread : array_like
        Rate of spread of the front (m/s).

    Returns
    -------
    numpy.ndarray
        Fireline intensity (W/m).
    """
    return np.asarray(heat_per_unit_area, dtype=np.float64) * np.asarray(rate_of_spread, dtype=np.float64)


def length_to_breadth(effective_wind) -> np.ndarray:
    """Length-to-breadth ratio of a wind-driven fire (1), Anderson (1983) with U in m/s.

    LB = 0.936 exp(0.1147 U_mph) + 0.461 exp(-0.0692 U_mph) - 0.397,   U_mph = U / 0.44704

    Anderson's fit is for U in mi/h; its coefficients are converted here with the exact
    0.44704 m/s per mi/h (0.1147 / 0.44704 = 0.25658 and 0.0692 / 0.44704 = 0.15480 per m/s; the
    mph coefficients used with m/s are a known error in published code). No upper cap is
    applied; the effective wind limit bounds U. BehavePlus and Behave cap LB at 8, which this
    function does not (see docs/fire_validation.md).

    Parameters
    ----------
    effective_wind : array_like
        Effective mid-flame wind speed U (m/s), >= 0.
    """
    u = np.asarray(effective_wind, dtype=np.float64)
    return 0.936 * np.exp(_LB_GROWTH * u) + 0.461 * np.exp(-_LB_DECAY * u) - 0.397


def eccentricity(lb) -> np.ndarray:
    """Eccentricity e = sqrt(LB^2 - 1) / LB of the fire ellipse (1) (Albini & Chase 1980 eq. 8)."""
    lb = np.maximum(np.asarray(lb, dtype=np.float64), 1.0)
    return np.sqrt(lb**2 - 1.0) / lb


def backing_rate(head_rate, lb) -> np.ndarray:
    """Backing rate of spread (m/s): head (1 - e) / (1 + e), ignition at the rear focus.

    Parameters
    ----------
    head_rate : array_like
        Head-fire rate (m/s).
    lb : array_like
        Length-to-breadth ratio (1).
    """
    e = eccentricity(lb)
    return np.asarray(head_rate) * (1.0 - e) / (1.0 + e)


def ellipse_rate(head_rate, lb, theta) -> np.ndarray:
    """Rate of spread (m/s) in direction theta of an elliptical fire from a point ignition.

    The ignition is at the rear focus, so the distance reached in direction theta is the polar
    form of the ellipse about its focus (Van Wagner 1969; Anderson 1983):

        R(theta) = head (1 - e) / (1 - e cos theta)

    This is the speed of the ray from the ignition point, not the normal speed of the front.
    theta = 0 gives the head rate, theta = pi the backing rate, theta = pi/2 head (1 - e).

    Parameters
    ----------
    head_rate : array_like
        Head-fire rate (m/s).
    lb : array_like
        Length-to-breadth ratio (1).
    theta : array_like
        Angle from the head direction (radians).
    """
    e = eccentricity(lb)
    return np.asarray(head_rate) * (1.0 - e) / (1.0 - e * np.cos(theta))


def hamada_spread_rates(a, d, f, wind, c: float = 1.5):
    """Hamada's building-to-building fire spread speeds (m/s) downwind, sideways and upwind.

    Times (minutes) for the fire to advance one block (a + d), Hamada's (1951) empirical model in
    the form commonly used in Japanese urban fire-spread assessments:

        T_d = [(1-f)(3 + 3a/8 + 8d/(25+2.5V)) + f(5 + 5a/8 + 16d/(25+2.5V))] / [c (1 + 0.1V + 0.007V^2)]
        T_s = [(1-f)(3 + 3a/8 + 8d/(5+0.25V)) + f(5 + 5a/8 + 16d/(5+0.25V))] / [c (1 + 0.005V^2)]
        T_u = [(1-f)(3 + 3a/8 + 8d/(5+0.2V))  + f(5 + 5a/8 + 16d/(5+0.2V))]  / [c (1 + 0.002V^2)]

    and each speed is (a + d) / (60 T). For directions in between, the arrival-time solver uses
    the ellipse through the three speeds (see :mod:`kernels.arrival`).

    Parameters
    ----------
    a : array_like
        Mean plan size of buildings (m), > 0.
    d : array_like
        Mean separation between buildings (m), >= 0.
    f : array_like
        Share of fire-resistant buildings (1), in [0, 1].
    wind : array_like
        Wind speed V (m/s), >= 0.
    c : float
        Hamada's coefficient (1), 1.5 by default.

    Returns
    -------
    tuple of numpy.ndarray
        (downwind, side, upwind) speeds in m/s.

    Raises
    ------
    ValueError
        Non-positive a, negative d or wind, or f outside [0, 1].
    """
    a, d, f, v = (np.asarray(x, dtype=np.float64) for x in (a, d, f, wind))
    if np.any(~(a > 0.0)) or np.any(~(d >= 0.0)) or np.any(~(v >= 0.0)) or np.any(~((f >= 0.0) & (f <= 1.0))):
        raise ValueError("Hamada model needs a > 0 m, d >= 0 m, wind >= 0 m/s and 0 <= f <= 1")

    def minutes(gap_denominator, wind_term):
        return (((1.0 - f) * (3.0 + 3.0 * a / 8.0 + 8.0 * d / gap_denominator)
                 + f * (5.0 + 5.0 * a / 8.0 + 16.0 * d / gap_denominator)) / (c * wind_term))

    t_d = minutes(25.0 + 2.5 * v, 1.0 + 0.1 * v + 0.007 * v**2)
    t_s = minutes(5.0 + 0.25 * v, 1.0 + 0.005 * v**2)
    t_u = minutes(5.0 + 0.2 * v, 1.0 + 0.002 * v**2)
    block = a + d
    return block / (60.0 * t_d), block / (60.0 * t_s), block / (60.0 * t_u)
