"""Class codes of the twin's categorical rasters and the documented tables derived from them.

Land cover (``landcover``), building use (``building_use``) and fuel models (``fuel_model``) are
small integer codes; :data:`CLASS_RASTER_CODES` lists the codes their rasters may hold. Two
physical parameters are derived from land cover when a twin does not supply them:

* Manning's roughness ``n`` (s m^-1/3). Values are mid-range figures from Chow (1959,
  *Open-Channel Hydraulics*, Table 5-6) and the HEC-RAS 2D user's manual (land-cover table,
  USACE 2023): asphalt/concrete 0.013-0.016, short grass 0.030-0.035, dense forest 0.10-0.16,
  bare soil 0.023-0.030, natural channels 0.030-0.035.
* Fire-behaviour fuel model numbers: Scott & Burgan (2005, USDA RMRS-GTR-153) codes 91-99 for
  non-burnable cover, 101-204 for burnable models, or Anderson (1982) 1-13.

Every table can be overridden in a scenario (Manning) or by giving the raster directly.
"""

from __future__ import annotations

from types import MappingProxyType

from kernels.fuel_models import MODEL_NAMES

#: Land-cover class codes (0 = outside the domain / unknown).
LANDCOVER = MappingProxyType({
    "water": 1,
    "road": 2,
    "building": 3,
    "grass": 4,
    "forest": 5,
    "bare": 6,
    "urban_open": 7,   # plazas, parking, yards, paved open space
})

#: Building-use class codes (0 = no building).
BUILDING_USE = MappingProxyType({
    "residential": 1,
    "commercial": 2,
    "industrial": 3,
    "public": 4,
})

#: Manning's n (s m^-1/3) by land-cover name; see the module docstring for sources.
MANNING_BY_LANDCOVER = MappingProxyType({
    "water": 0.030,
    "road": 0.015,
    "building": 0.015,   # building cells are walls to the flood kernel; the value is never used
    "grass": 0.035,
    "forest": 0.100,
    "bare": 0.025,
    "urban_open": 0.018,
})

#: Fuel model number by land-cover name (Scott & Burgan 2005 numbering).
#: water -> NB8 (98, open water); road, building, urban_open -> NB1 (91, urban/developed: building
#: to building spread is modelled by Hamada's model, not by Rothermel); grass -> GR2 (102, low load
#: dry climate grass); forest -> TU5 (165, very high load dry climate timber-shrub, the closest
#: standard model to Korean pine-oak stands with shrub understory); bare -> NB9 (99, bare ground).
FUEL_MODEL_BY_LANDCOVER = MappingProxyType({
    "water": 98,
    "road": 91,
    "building": 91,
    "grass": 102,
    "forest": 165,
    "bare": 99,
    "urban_open": 91,
})

#: Share of fire-resistant construction by building use, the ``f`` of Hamada's urban spread model.
#: Assumed figures for a Korean city (reinforced-concrete apartments and offices dominate; low-rise
#: detached housing and workshops are mixed). Override with a ``fire_resistant`` raster.
FIRE_RESISTANT_SHARE_BY_USE = MappingProxyType({
    "residential": 0.6,
    "commercial": 0.8,
    "industrial": 0.4,
    "public": 0.9,
})


def _ranges(codes) -> str:
    """Integer codes as runs: ``1-13, 91-99, 101-109``."""
    runs: list[list[int]] = []
    for code in sorted(codes):
        if runs and code == runs[-1][-1] + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


#: Codes each class raster may hold, besides 0 ("not given"), and their description for messages:
#: land cover and building use from the tables above, fuel model numbers known to the fire kernels
#: (:data:`kernels.fuel_models.MODEL_NAMES`: Anderson 1-13, non-burnable 91-99, Scott & Burgan).
CLASS_RASTER_CODES = MappingProxyType({
    "landcover": (frozenset(LANDCOVER.values()), ", ".join(f"{v} {k}" for k, v in LANDCOVER.items())),
    "building_use": (frozenset(BUILDING_USE.values()), ", ".join(f"{v} {k}" for k, v in BUILDING_USE.items())),
    "fuel_model": (frozenset(MODEL_NAMES), f"fuel model numbers {_ranges(MODEL_NAMES)}"),
})


def code_table(names_to_values: dict, codes: dict = LANDCOVER, default: float = 0.0):
    """Turn a ``{class name: value}`` table into a lookup array indexed by class code.

    Parameters
    ----------
    names_to_values : mapping
        Values by class name, e.g. :data:`MANNING_BY_LANDCOVER`.
    codes : mapping
        Class codes by name (default :data:`LANDCOVER`).
    default : float
        Value for codes that the table does not name (code 0 included).

    Returns
    -------
    numpy.ndarray
        ``lut`` such that ``lut[code]`` is the value for that class.
    """
    import numpy as np

    lut = np.full(max(codes.values()) + 1, default, dtype=np.float64)
    for name, value in names_to_values.items():
        lut[codes[name]] = value
    return lut
