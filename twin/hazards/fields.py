"""Declarations of the hazard result fields (per member), registered in :mod:`twin.core.fields`."""

from __future__ import annotations

import numpy as np

from twin.core.fields import Field, register

register(
    Field("max_depth", "m", "float64", "maximum water depth over the run", "water_depth", fill=np.nan),
    Field("max_speed", "m s-1", "float64", "maximum depth-averaged flow speed over the run", fill=np.nan),
    Field("max_unit_discharge", "m2 s-1", "float64",
          "maximum unit discharge (depth times speed) over the run", fill=np.nan),
    Field("arrival_time", "s", "float64",
          "time since scenario start at which the hazard first reached the cell (NaN: never)", fill=np.nan),
    Field("wet_duration", "s", "float64", "time the depth stayed above the wet threshold", fill=np.nan),
    Field("final_depth", "m", "float64", "water depth at the end of the run", "water_depth", fill=np.nan),
    Field("depth", "m", "float64", "water depth", "water_depth", fill=np.nan),
    Field("burned", "1", "int8", "1 where the fire has reached the cell (snapshots)", kind="class"),
    Field("final_burned", "1", "int8", "1 where the fire reached the cell within the run", kind="class"),
    Field("rate_of_spread", "m s-1", "float64", "head fire rate of spread", fill=np.nan),
    Field("ignition_probability", "1", "float64", "relative probability that a fire starts in the cell",
          fill=0.0),
    Field("fireline_intensity", "W m-1", "float64", "Byram fireline intensity of the head fire", fill=np.nan),
)
