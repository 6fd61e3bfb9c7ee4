"""The flood hazard's fields (the maps of ``hazard.nc`` and of each member) and its outputs."""

from __future__ import annotations

import numpy as np

from twin.core.fields import Field, FieldRegistry
from twin.hazards.fields import ARRIVAL_TIME
from twin.hazards.flood.risk import BUILDING_DEPTH_THRESHOLD_M, exceedance_name
from twin.hazards.interface import Outputs

#: CF standard name of the water depth above the ground: ``flood_water_thickness``, "the vertical
#: distance between the surface of the flood water and the surface of the solid ground" (CF
#: standard-name table); the model treats all water on the terrain as flood water.
WATER_DEPTH = "flood_water_thickness"

#: Water depth snapshots and initial depth rasters.
DEPTH = Field("depth", "m", "float64", "water depth", WATER_DEPTH, fill=np.nan, cell_methods="time: point")

# arrival_time has no standard name: fire declares the same field (time_when_flood_water_rises_above_threshold
# is flood's alone); wet_duration is the total time wet, not the table's flood_water_duration_above_threshold
# (first rise to last fall); the table has no unit discharge.
FLOOD_FIELDS = FieldRegistry([
    Field("max_depth", "m", "float64", "maximum water depth over the run", WATER_DEPTH, fill=np.nan,
          cell_methods="time: maximum"),
    Field("max_speed", "m s-1", "float64", "maximum depth-averaged flow speed over the run", "flood_water_speed",
          fill=np.nan, cell_methods="time: maximum"),
    Field("max_unit_discharge", "m2 s-1", "float64",
          "maximum unit discharge (depth times speed) over the run", fill=np.nan, cell_methods="time: maximum"),
    ARRIVAL_TIME,
    Field("wet_duration", "s", "float64", "time the depth stayed above the wet threshold", fill=np.nan),
    Field("final_depth", "m", "float64", "water depth at the end of the run", WATER_DEPTH, fill=np.nan,
          cell_methods="time: point"),
    DEPTH,
])

#: GeoTIFFs of the control run, the animated snapshots, the default rendering layer and building colour;
#: ``flood_probability`` renders the probability of a maximum depth above the buildings' alert depth.
OUTPUTS = Outputs(geotiff=("max_depth", "arrival_time"), snapshot="depth", render_layer="max_depth",
                  building_value="expected_damage_fraction",
                  layer_aliases=(("flood_probability", exceedance_name(BUILDING_DEPTH_THRESHOLD_M)),))
