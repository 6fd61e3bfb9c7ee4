"""Declarations of the risk result fields (ensemble statistics per cell), registered in :mod:`twin.core.fields`.

The fixed fields are declared on import. Depth thresholds and arrival horizons are chosen per run,
so their fields are named from the value (:func:`exceedance_name`, :func:`within_name`) and declared
on first use by :func:`declare_thresholds`.
"""

from __future__ import annotations

import numpy as np

from twin.core.fields import RESULT_FIELDS, Field, register

#: Percentiles (%) of the per-member maximum depth that the flood risk maps hold.
DEPTH_PERCENTILES = (50, 90)
#: Percentiles (%) of the per-member arrival time that the risk maps hold (early ones first).
ARRIVAL_PERCENTILES = (10, 50, 90)
#: Names of the four flood hazard-rating classes, lowest first (Defra/EA FD2320/TR2, Table 13.1).
HAZARD_CLASSES = ("low", "danger_for_some", "danger_for_most", "danger_for_all")


def _number(value: float) -> str:
    """A number as it appears in a field name: ``0.1 -> "0p1"``, ``1.0 -> "1"``, ``3600 -> "3600"``."""
    return f"{float(value):g}".replace(".", "p").replace("-", "m")


def exceedance_name(threshold_m: float) -> str:
    """Field name of the probability that the maximum depth exceeds ``threshold_m`` (m)."""
    return f"p_depth_over_{_number(threshold_m)}m"


def within_name(time_s: float) -> str:
    """Field name of the probability that the hazard arrives within ``time_s`` (s)."""
    return f"p_arrival_within_{_number(time_s)}s"


def hazard_class_name(label: str) -> str:
    """Field name of the probability of a hazard-rating class (one of :data:`HAZARD_CLASSES`)."""
    return f"p_hazard_{label}"


def declare_thresholds(thresholds_m=(), arrival_within_s=()) -> None:
    """Declare the exceedance and arrival-horizon fields of the given values (once each).

    Parameters
    ----------
    thresholds_m : sequence of float
        Depth thresholds (m).
    arrival_within_s : sequence of float
        Arrival horizons (s).
    """
    new = [Field(exceedance_name(t), "1", "float64",
                 f"probability over members that the maximum water depth exceeds {t:g} m", fill=np.nan)
           for t in thresholds_m]
    new += [Field(within_name(t), "1", "float64",
                  f"probability over members that the hazard arrives within {t:g} s of the start", fill=np.nan)
            for t in arrival_within_s]
    register(*[f for f in new if f.name not in RESULT_FIELDS])


register(
    Field("max_depth_mean", "m", "float64", "expected (weighted mean over members) maximum water depth",
          fill=np.nan),
    *[Field(f"max_depth_p{p}", "m", "float64", f"{p}th percentile over members of the maximum water depth",
            fill=np.nan) for p in DEPTH_PERCENTILES],
    *[Field(f"arrival_time_p{p}", "s", "float64",
            f"{p}th percentile over members of the arrival time (NaN: fewer than {p} % of members reached "
            "the cell)", fill=np.nan) for p in ARRIVAL_PERCENTILES],
    *[Field(hazard_class_name(c), "1", "float64",
            f"probability over members of flood hazard rating class '{c.replace('_', ' ')}'", fill=np.nan)
      for c in HAZARD_CLASSES],
    Field("burn_probability", "1", "float64", "probability over members that the fire reached the cell",
          fill=np.nan),
)
declare_thresholds((0.1, 0.3, 0.5, 1.0), (3600, 10800))
