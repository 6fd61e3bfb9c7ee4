"""The flood hazard rating to people (Defra/Environment Agency FD2320/TR2) and its classes.

HR = d (v + 0.5) + DF (HR Wallingford et al. 2006, section 13; Defra/EA 2008, section 2), with the
debris factor DF of Defra/EA (2008) Table 2 and the four classes of Table 13.1.
"""

from __future__ import annotations

import numpy as np

from twin.core.classes import LANDCOVER

#: Lower class boundaries of the hazard rating (dimensionless): low < 0.75 <= some < 1.25 <= most <= 2.0 < all.
HAZARD_RATING_BOUNDS = (0.75, 1.25, 2.0)
#: Names of the four flood hazard-rating classes, lowest first (Defra/EA FD2320/TR2, Table 13.1).
HAZARD_CLASSES = ("low", "danger_for_some", "danger_for_most", "danger_for_all")
#: Depth (m) above which the debris factor of the simple rule is 1 (Defra/EA 2008, Table 2, urban column).
DEBRIS_DEPTH_M = 0.25
#: Debris factor by dominant land use and (depth, speed) band, Defra/EA (2008) Table 2:
#: columns d <= 0.25 m | 0.25 < d <= 0.75 m | d > 0.75 m or v > 2 m/s.
DEBRIS_BY_LAND_USE = {"pasture_arable": (0.0, 0.0, 0.5), "woodland": (0.0, 0.5, 1.0), "urban": (0.0, 1.0, 1.0)}
#: Land use of each land-cover class for the debris table (open water and bare ground as pasture/arable).
LAND_USE_OF_LANDCOVER = {"water": "pasture_arable", "road": "urban", "building": "urban", "grass": "pasture_arable",
                         "forest": "woodland", "bare": "pasture_arable", "urban_open": "urban"}


def debris_factor(depth: np.ndarray, speed: np.ndarray, landcover: np.ndarray | None = None) -> np.ndarray:
    """Debris factor DF of the flood hazard rating (dimensionless).

    Parameters
    ----------
    depth : numpy.ndarray
        Water depth d (m).
    speed : numpy.ndarray
        Flow speed v (m/s).
    landcover : numpy.ndarray of int, optional
        Land-cover codes (:data:`twin.core.classes.LANDCOVER`). None: the simple rule DF = 0 for
        d <= 0.25 m, else 1 (the urban column of Defra/EA 2008, Table 2). Given: Defra/EA (2008)
        Table 2 by land use (:data:`DEBRIS_BY_LAND_USE`, :data:`LAND_USE_OF_LANDCOVER`), bands
        d <= 0.25 m, 0.25 < d <= 0.75 m, d > 0.75 m or v > 2 m/s; DF = 0 where d = 0.

    Returns
    -------
    numpy.ndarray of float64
        DF, 0, 0.5 or 1.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if landcover is None:
        return np.where(depth > DEBRIS_DEPTH_M, 1.0, 0.0)
    table = np.tile(np.array(DEBRIS_BY_LAND_USE["urban"]), (max(LANDCOVER.values()) + 1, 1))
    for name, use in LAND_USE_OF_LANDCOVER.items():
        table[LANDCOVER[name]] = DEBRIS_BY_LAND_USE[use]
    band = np.where((depth > 0.75) | (np.asarray(speed) > 2.0), 2, np.where(depth > DEBRIS_DEPTH_M, 1, 0))
    return np.where(depth > 0, table[np.asarray(landcover), band], 0.0)


def hazard_rating(depth: np.ndarray, speed: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Flood hazard rating to people, HR = d (v + 0.5) + DF (dimensionless).

    Defra/Environment Agency R&D FD2320/TR2 (HR Wallingford et al. 2006), section 13, and the
    Supplementary Note on flood hazard ratings (Defra/EA 2008), section 2.

    Parameters
    ----------
    depth : numpy.ndarray
        Water depth d (m).
    speed : numpy.ndarray
        Flow speed v (m/s).
    df : numpy.ndarray
        Debris factor (:func:`debris_factor`).

    Returns
    -------
    numpy.ndarray of float64
        HR. With per-member *maxima* of depth and speed this is an upper bound of the member's peak
        HR: the two maxima need not occur at the same time.
    """
    return np.asarray(depth, dtype=np.float64) * (np.asarray(speed, dtype=np.float64) + 0.5) + df


def hazard_class(hr: np.ndarray) -> np.ndarray:
    """Hazard-to-people class of a hazard rating (FD2320/TR2 Table 13.1; Defra/EA 2008 Table 1).

    Parameters
    ----------
    hr : numpy.ndarray
        Hazard rating (dimensionless).

    Returns
    -------
    numpy.ndarray of int8
        0 low (HR < 0.75), 1 danger for some (0.75 <= HR < 1.25), 2 danger for most
        (1.25 <= HR <= 2.0), 3 danger for all (HR > 2.0). The published table gives "< 0.75" and
        "> 2.0"; the inner boundaries 0.75 and 1.25 belong to the higher class, 2.0 to the lower.
    """
    b_some, b_most, b_all = HAZARD_RATING_BOUNDS
    return ((hr >= b_some).astype(np.int8) + (hr >= b_most) + (hr > b_all)).astype(np.int8)
