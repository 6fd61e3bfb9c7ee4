"""Field declarations that more than one hazard uses (declared identically by each)."""

from __future__ import annotations

import numpy as np

from twin.core.fields import Field

#: When the hazard first reached a cell: flood (depth above the wet threshold) and fire alike.
ARRIVAL_TIME = Field("arrival_time", "s", "float64",
                     "time since scenario start at which the hazard first reached the cell (NaN: never)", fill=np.nan)
