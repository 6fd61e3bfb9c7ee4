"""The fire hazard's fields (the maps of ``hazard.nc`` and of each member, the ignition raster)
and its outputs."""

from __future__ import annotations

import numpy as np

from twin.core.fields import Field, FieldRegistry
from twin.hazards.fields import ARRIVAL_TIME
from twin.hazards.interface import Outputs

#: A raster of relative ignition probability (members draw ignition points from it).
IGNITION_PROBABILITY = Field("ignition_probability", "1", "float64",
                             "relative probability that a fire starts in the cell", fill=0.0)

FIRE_FIELDS = FieldRegistry([
    ARRIVAL_TIME,
    Field("burned", "1", "int8", "1 where the fire has reached the cell (snapshots)", kind="class",
          cell_methods="time: point"),
    Field("final_burned", "1", "int8", "1 where the fire reached the cell within the run", kind="class"),
    Field("rate_of_spread", "m s-1", "float64", "head fire rate of spread", fill=np.nan),
    IGNITION_PROBABILITY,
    Field("fireline_intensity", "W m-1", "float64", "Byram fireline intensity of the head fire", fill=np.nan),
])

#: GeoTIFFs of the control run, the animated snapshots, the default rendering layer and building colour.
OUTPUTS = Outputs(geotiff=("arrival_time",), snapshot="burned", render_layer="arrival_time",
                  building_value="burn_probability")
