"""The flood hazard's fields (the maps of ``hazard.nc`` and of each member) and its outputs."""

from __future__ import annotations

import numpy as np

from twin.core.fields import Field, FieldRegistry
from twin.hazards.fields import ARRIVAL_TIME
from twin.hazards.flood.risk import BUILDING_DEPTH_THRESHOLD_M, exceedance_name
from twin.hazards.interface import Outputs

#: Water depth snapshots and initial depth rasters.
DEPTH = Field("depth", "m", "float64", "water depth", "water_depth", fill=np.nan)

FLOOD_FIELDS = FieldRegistry([
    Field("max_depth", "m", "float64", "maximum water depth over the run", "water_depth", fill=np.nan),
    Field("max_speed", "m s-1", "float64", "maximum depth-averaged flow speed over the run", fill=np.nan),
    Field("max_unit_discharge", "m2 s-1", "float64",
          "maximum unit discharge (depth times speed) over the run", fill=np.nan),
    ARRIVAL_TIME,
    Field("wet_duration", "s", "float64", "time the depth stayed above the wet threshold", fill=np.nan),
    Field("final_depth", "m", "float64", "water depth at the end of the run", "water_depth", fill=np.nan),
    DEPTH,
])

#: GeoTIFFs of the control run, the animated snapshots, the default rendering layer and building colour;
#: ``flood_probability`` renders the probability of a maximum depth above the buildings' alert depth.
OUTPUTS = Outputs(geotiff=("max_depth", "arrival_time"), snapshot="depth", render_layer="max_depth",
                  building_value="expected_damage_fraction",
                  layer_aliases=(("flood_probability", exceedance_name(BUILDING_DEPTH_THRESHOLD_M)),))
