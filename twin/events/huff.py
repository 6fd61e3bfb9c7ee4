"""Huff's time distributions of heavy storm rainfall: the median curves of quartiles 1-4.

Huff (1967, Water Resources Research 3(4), 1007-1019) grouped heavy storms by the quarter of
their duration in which most rain fell and gave, per group, curves of cumulative storm rainfall
against cumulative storm time (both in % of the storm's). The median (50 % probability) curves
for point rainfall used here, at 5 % steps of storm time, are those tabulated in Huff & Angel
(1992), Rainfall Frequency Atlas of the Midwest, Illinois State Water Survey Bulletin 71, with
the time-distribution study of Huff (1990), Time Distributions of Heavy Rainstorms in Illinois,
ISWS Circular 173 (which gives the 10-90 % curves). Korean practice (MOLIT, 설계홍수량 산정요령,
design flood estimation guideline, 2012/2019) uses the 3rd quartile, with curves fitted per
region and station in place of Illinois's: give those as an own table where they matter.

A storm of depth P and duration D falls in 20 blocks of D/20: block k holds
``P * (F[k + 1] - F[k])``, F the cumulative fraction, so the depth is exactly P (F ends at 1).
"""

from __future__ import annotations

import numpy as np

from twin.events.hyetograph import Hyetograph

#: Cumulative storm time (fraction of the duration) of the tabulated points: 0, 0.05, ..., 1.
HUFF_TIME = np.linspace(0.0, 1.0, 21)
#: Cumulative storm rainfall (%) at :data:`HUFF_TIME`, median curves for point rainfall, by quartile
#: (Huff & Angel 1992, ISWS Bulletin 71).
HUFF_MEDIAN_PERCENT = {
    1: (0, 16, 33, 43, 52, 60, 66, 71, 75, 79, 82, 84, 86, 88, 90, 92, 94, 96, 97, 98, 100),
    2: (0, 3, 8, 12, 16, 22, 29, 39, 51, 62, 70, 76, 81, 85, 88, 91, 93, 95, 97, 98, 100),
    3: (0, 3, 6, 9, 12, 15, 19, 23, 27, 32, 38, 45, 57, 70, 79, 85, 89, 92, 95, 97, 100),
    4: (0, 2, 5, 8, 10, 13, 16, 19, 22, 25, 28, 32, 35, 39, 45, 51, 59, 72, 84, 92, 100),
}


def huff_curve(quartile: int) -> np.ndarray:
    """Cumulative storm rainfall (fraction, 0 to 1) at :data:`HUFF_TIME` for Huff quartile 1-4."""
    if quartile not in HUFF_MEDIAN_PERCENT:
        raise ValueError(f"Huff quartile must be one of 1, 2, 3, 4; found {quartile!r}")
    return np.asarray(HUFF_MEDIAN_PERCENT[quartile], dtype=np.float64) / 100.0


def huff_hyetograph(depth_m: float, duration_s: float, quartile: int) -> Hyetograph:
    """A storm of ``depth_m`` (m) over ``duration_s`` (s) distributed by Huff's median curve.

    Parameters
    ----------
    depth_m : float
        Storm depth P (m), >= 0: the IDF intensity at the storm duration times the duration.
    duration_s : float
        Storm duration D (s), > 0.
    quartile : int
        Huff quartile, 1-4 (Korean practice: 3).

    Returns
    -------
    Hyetograph
        20 blocks of D/20 with intensities P (F[k + 1] - F[k]) / (D/20) (m/s).
    """
    if not duration_s > 0 or not depth_m >= 0:
        raise ValueError(f"need a duration > 0 s and a depth >= 0 m; found {duration_s!r} s, {depth_m!r} m")
    fraction = huff_curve(quartile)
    edges = HUFF_TIME * duration_s
    return Hyetograph(edges, depth_m * np.diff(fraction) / np.diff(edges))
