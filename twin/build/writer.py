"""Writing a built twin: COG rasters on one grid, ``twin.yaml``, ``buildings.gpkg`` and the build report.

The folder is written whole or not at all: into a hidden staging folder beside it, renamed into
place when complete, and it replaces an existing folder only when that is empty or a twin this
project built (``twin/io/run_folders.py``: the same rules as run folders, with the marker's kind
``"twin"``; ``force`` as ``twin run --force``). The layout is the one :func:`twin.core.citytwin.load_twin`
reads: ``twin.yaml`` lists the rasters by field name, paths relative to it, and names
``buildings.gpkg`` under ``footprints:`` with its id column (:mod:`twin.core.footprints`), so that
a run keys its per-building outputs to the source footprints.
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr
import yaml

from twin.build.report import REPORT_JSON, REPORT_TEXT, BuildReport
from twin.io.outputs import write_cog
from twin.io.run_folders import staged_run_folder

#: The rasters of a built twin and their storage dtype. Float rasters have NaN nodata; in the
#: integer ones 0 means "no building" / "not given" and there is no nodata value.
RASTERS = {"elevation": "float32", "building_height": "float32", "building_id": "int32",
           "building_use": "int8", "landcover": "int8"}
#: The footprints of the twin, keyed by the twin's ``building_id`` and the source's id column.
FOOTPRINTS = "buildings.gpkg"
FOOTPRINTS_LAYER = "buildings"


def write_twin(out: str | Path, ds: xr.Dataset, footprints, id_column: str, report: BuildReport,
               inputs: list[Path], force: bool = False) -> Path:
    """Write the twin ``ds`` and its ``footprints`` (a GeoDataFrame) into the folder ``out``.

    Parameters
    ----------
    out : str or Path
        The twin's folder.
    ds : xarray.Dataset
        The twin (:func:`twin.core.citytwin.build_dataset`).
    footprints : geopandas.GeoDataFrame
        One row per source footprint read, with the source attributes and the twin's columns.
    id_column : str
        The column of ``footprints`` holding the source's building id.
    report : BuildReport
    inputs : list of Path
        The build's input files (the folder may not hold them).
    force : bool
        Replace a folder that is not a twin this project built.

    Returns
    -------
    Path
        The ``twin.yaml`` written.

    Raises
    ------
    InputError
        When the folder may not be written (before anything is).
    """
    with staged_run_folder(out, inputs, force, kind="twin") as staging:
        for name, dtype in RASTERS.items():
            write_cog(ds[name], staging / f"{name}.tif", dtype=dtype)
        manifest = {"name": report.name, "crs": report.grid["crs"], "rasters": {n: f"{n}.tif" for n in RASTERS},
                    "footprints": {"file": FOOTPRINTS, "layer": FOOTPRINTS_LAYER, "id": id_column}}
        (staging / "twin.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        footprints.to_file(staging / FOOTPRINTS, layer=FOOTPRINTS_LAYER, driver="GPKG", engine="pyogrio")
        (staging / REPORT_JSON).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        (staging / REPORT_TEXT).write_text(report.text(), encoding="utf-8")
    return Path(out) / "twin.yaml"
