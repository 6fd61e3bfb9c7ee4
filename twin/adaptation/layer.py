"""The measures of a strategy as a vector layer: what was built where, for a planner's GIS."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from twin.adaptation.measures import Plan
from twin.core.atomic import atomic_path

#: The layer of a comparison's ``measures_<strategy>.gpkg``.
MEASURES_LAYER = "measures"


def write_measures(path: Path, plan: Plan, crs) -> Path:
    """Write one feature per geometry of each measure (its wall or break line or strip, area, pump
    point, the footprints of the buildings it changes), with its name, type, cost (KRW, on the
    measure's first feature, 0 on the others, so that the column sums to the strategy's cost) and
    size (JSON), in the twin's CRS, as a GeoPackage layer ``measures``, atomically."""
    import geopandas as gpd

    rows = [{"name": e.name, "type": e.type, "cost_krw": e.cost_krw if k == 0 else 0.0,
             "size": json.dumps(e.size), "geometry": g}
            for e in plan.effects for k, g in enumerate(e.geometry)]
    frame = gpd.GeoDataFrame(rows, columns=["name", "type", "cost_krw", "size", "geometry"], geometry="geometry",
                             crs=crs.to_wkt())
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The filename extension should be", category=RuntimeWarning)
        frame.to_file(tmp, layer=MEASURES_LAYER, driver="GPKG", engine="pyogrio")
    return Path(path)
