"""Physical plausibility bounds of scenario values (SI units unless the name says otherwise).

A value outside these bounds is not a storm or a fire the models were built for but a typo (a
unit mistaken, a digit too many) or a hostile file: the schema refuses it with the file, the YAML
path and the line, before anything runs. Each bound sits above the largest value on record, so no
real event is refused. The table is documented in ``docs/scenarios.md``.
"""

from __future__ import annotations

#: Longest scenario, and latest time in any series (s): a year (366 days). The flood and fire
#: models are event models; continuous simulation over years is out of their scope.
MAX_DURATION_S = 366 * 86400.0

#: Highest rain intensity (mm/h). Above the world-record 1-minute rainfall of the WMO Archive of
#: Weather and Climate Extremes, 31.2 mm at Unionville, Maryland, 1956 (1872 mm/h), so that a
#: hyetograph written at any step is accepted; a mm/m or per-minute/per-hour mix-up is not.
#: Forecasts over longer intervals have tighter bounds (:func:`twin.io.rainfall.max_mean_intensity_mm_h`).
MAX_RAIN_MM_H = 2500.0

#: Highest infiltration or drainage capacity (mm/h): the saturated hydraulic conductivity of
#: coarse sand is about 200-800 mm/h (Rawls et al. 1982, Table 4); storm drains are designed for
#: tens of mm/h.
MAX_LOSS_MM_H = 1000.0

#: Largest inflow discharge (m^3/s): above the largest river discharge on record, about
#: 3.4e5 m^3/s (Amazon at Obidos, 1953; WMO).
MAX_DISCHARGE_M3_S = 4.0e5

#: Largest Manning roughness (s m^-1/3): dense vegetation in shallow sheet flow reaches 0.4-0.8
#: (Engman 1986, Table 3); channels and floodplains stay below 0.2 (Chow 1959, Table 5-6).
MAX_MANNING_N = 1.0

#: Largest multiplier of the roughness (``manning_scale``, also after ensemble draws).
MAX_MANNING_SCALE = 10.0

#: Largest multiplier of gridded rainfall (``rainfall.scale``, also after ensemble draws).
MAX_RAIN_SCALE = 100.0

#: Range of water levels and elevations (m above datum): below the Dead Sea shore (-430 m) to
#: above Everest (8849 m).
MIN_LEVEL_M, MAX_LEVEL_M = -500.0, 9000.0

#: Largest initial water depth (m): deeper than any urban flood; a lake is terrain, not a depth.
MAX_DEPTH_M = 100.0

#: Largest time step of the flood scheme (s); stability limits it far below this in practice.
MAX_TIME_STEP_S = 3600.0

#: Highest 10-m wind speed (m/s): above the highest gust on record, 113 m/s (Barrow Island,
#: Australia, 1996; WMO).
MAX_WIND_M_S = 120.0

#: Longest spotting distance (m): recorded spot fires reach about 30 km (Cruz et al. 2012,
#: Black Saturday); the lognormal median is far below.
MAX_SPOT_DISTANCE_M = 30000.0

#: Largest seed: an unsigned 64-bit integer (numpy's ``SeedSequence`` takes non-negative
#: integers; the members' noise seeds are drawn as 64-bit words).
MAX_SEED = 2**64 - 1
