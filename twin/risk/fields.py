"""Names and declarations of risk fields generated from values (thresholds, horizons).

A threshold or a horizon is chosen per hazard, so its probability field is named from the value
(:func:`number_label`), never typed by hand: ``0.5`` m gives ``p_depth_over_0p5m`` (the flood
hazard's name), ``3600`` s gives ``p_arrival_within_3600s``.
"""

from __future__ import annotations

import numpy as np

from twin.core.fields import Field


def number_label(value: float) -> str:
    """A number as it appears in a field name: ``0.1 -> "0p1"``, ``1.0 -> "1"``, ``3600 -> "3600"``."""
    return f"{float(value):g}".replace(".", "p").replace("-", "m")


def within_name(time_s: float) -> str:
    """Field name of the probability that the hazard arrives within ``time_s`` (s)."""
    return f"p_arrival_within_{number_label(time_s)}s"


#: CF ``cell_methods`` of a (weighted) mean over the ensemble members: a probability over members
#: is the mean of the event's indicator, an expected value the mean of the map.
MEMBER_MEAN = "realization: mean"
#: CF ``cell_methods`` of the median over the members.
MEMBER_MEDIAN = "realization: median"


def probability_field(name: str, long_name: str) -> Field:
    """The declaration of a probability map over members (dimensionless, NaN outside the domain)."""
    return Field(name, "1", "float64", long_name, fill=np.nan, cell_methods=MEMBER_MEAN)
