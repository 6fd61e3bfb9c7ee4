"""``build_twin``: a twin folder from a build file (DEM tiles, footprints, land cover, roads, water).

The stages, each in its own module: the build file (:mod:`twin.build.schema`); the sources
opened and their columns checked from metadata alone (:mod:`twin.build.vectors`,
:mod:`twin.build.dem`); the grid (:mod:`twin.build.extent`); the memory estimate
(:mod:`twin.build.memory`); the terrain (:mod:`twin.build.dem`); the footprints read, their
attributes (:mod:`twin.build.footprints`) and cells (:mod:`twin.build.rasterize`); land cover,
roads and water (:mod:`twin.build.landcover`); the twin Dataset assembled and checked by the
loader's own :func:`twin.core.citytwin.build_dataset`; the folder written (:mod:`twin.build.writer`).
Every bad input is an :class:`twin.core.errors.InputError` raised before the folder is touched.

Twin building ids are 1..N over the footprints that got at least one cell, in the layer's order;
``buildings.gpkg`` holds every footprint read (in the twin's CRS, repaired), its source
attributes, its OGR feature id (``source_fid``), the twin's ``building_id`` (0: not in the twin)
and the ``twin_*`` columns (:data:`TWIN_COLUMNS`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pyproj import CRS

from twin.build.dem import make_terrain, open_tiles
from twin.build.extent import target_grid
from twin.build.footprints import footprint_attributes
from twin.build.landcover import make_landcover, open_sources
from twin.build.memory import check_build_memory, estimate_build_bytes
from twin.build.rasterize import STATUS, rasterize_buildings
from twin.build.report import BuildReport
from twin.build.schema import BuildFile, read_build_file
from twin.core.vectors import POLYGONS, Layer, check_column, open_layer, read_layer, read_name
from twin.build.writer import write_twin
from twin.core.citytwin import build_dataset
from twin.core.classes import BUILDING_USE
from twin.core.footprints import FIRST_FLOOR_COLUMN, VALUE_COLUMN

#: Columns the build adds to the footprints in buildings.gpkg: twin building id, status on the
#: grid (:data:`twin.build.rasterize.STATUS`), cells, height (m) and where it came from, use
#: class, value (KRW, NaN when not given), first-floor height (m, NaN when not given), whether
#: make_valid repaired the geometry. A run reads the value and the first-floor height
#: (:mod:`twin.core.footprints`).
TWIN_COLUMNS = ("building_id", "twin_status", "twin_cells", "twin_height_m", "twin_height_from", "twin_use",
                VALUE_COLUMN, FIRST_FLOOR_COLUMN, "twin_repaired")
_USE_NAMES = np.array([""] + list(BUILDING_USE), dtype=object)


def _check_building_columns(bf: BuildFile, layer: Layer) -> None:
    """Every column the ``buildings:`` block names exists in the layer."""
    b = bf.config.buildings
    for field, column in ((("buildings", "id"), b.id), (("buildings", "height", "column"), b.height.column),
                          (("buildings", "height", "floors"), b.height.floors),
                          (("buildings", "use", "column"), b.use.column),
                          (("buildings", "value", "column"), b.value.column if b.value else None),
                          (("buildings", "first_floor_height", "column"),
                           b.first_floor_height.column if b.first_floor_height else None)):
        check_column(layer, field, column)


def _footprint_table(frame, attrs, cells, ids: np.ndarray):
    """The rows of buildings.gpkg: the source attributes and :data:`TWIN_COLUMNS`."""
    table = frame.copy()
    table.insert(0, "building_id", ids)
    table["twin_status"] = cells.status
    table["twin_cells"] = cells.cells
    table["twin_height_m"] = attrs.height_m
    table["twin_height_from"] = attrs.height_from
    table["twin_use"] = _USE_NAMES[attrs.use]
    table[VALUE_COLUMN] = attrs.value_krw
    table[FIRST_FLOOR_COLUMN] = attrs.first_floor_height_m
    return table


def build_twin(config: str | Path, out: str | Path, force: bool = False,
               available_memory: int | None = None) -> BuildReport:
    """Build a twin from a build file into the folder ``out``.

    Parameters
    ----------
    config : str or Path
        The build YAML file (``docs/build.md``).
    out : str or Path
        The twin's folder (written whole, replacing only an empty folder or a twin built here,
        unless ``force``).
    force : bool
        Replace a folder that is not a built twin (never one holding the build's inputs).
    available_memory : int, optional
        Bytes available for the memory check; default: the system's.

    Returns
    -------
    BuildReport
        What was built from what; also written as ``build_report.json`` and ``.txt``.

    Raises
    ------
    InputError
        Every bad input (the file, YAML path and line, layer, column or feature named).
    """
    clock = {"start": time.perf_counter()}

    def lap(stage: str) -> None:
        now = time.perf_counter()
        clock[stage] = now - clock.pop("last", clock["start"])
        clock["last"] = now

    bf = read_build_file(config)
    cfg = bf.config
    crs = CRS.from_user_input(cfg.crs)
    tiles = open_tiles(bf, bf.dem_files())
    layer = open_layer(bf.resolve(cfg.buildings.file, ("buildings", "file")), cfg.buildings.layer, ("buildings",),
                       bf.error)
    _check_building_columns(bf, layer)
    others = open_sources(bf)
    grid = target_grid(bf, tiles, layer, crs)
    need = estimate_build_bytes(grid, crs, tiles, layer.features + sum(o.features for o in others.values()))
    check_build_memory(bf, need, grid, available_memory)
    lap("sources")

    terrain = make_terrain(bf, tiles, grid, crs)
    lap("terrain")
    frame, counts = read_layer(layer, grid, POLYGONS)
    attrs = footprint_attributes(bf, layer, frame)
    cells = rasterize_buildings(np.asarray(frame.geometry.values, dtype=object), grid, ~terrain.outside,
                                cfg.buildings.small)
    in_twin = cells.cells > 0
    ids = np.where(in_twin, np.cumsum(in_twin), 0).astype(np.int32)
    lut = np.concatenate([[0], ids])
    lap("buildings")
    cover = make_landcover(bf, grid, others)
    burn = cfg.water.burn_depth_m if cfg.water else 0.0
    elevation = np.where(cover.water, terrain.elevation - burn, terrain.elevation)
    lap("landcover")

    ds = build_dataset(grid, {"elevation": elevation, "building_id": lut[cells.index],
                              "building_height": np.concatenate([[0.0], attrs.height_m])[cells.index],
                              "building_use": np.concatenate([[0], attrs.use]).astype(np.int8)[cells.index],
                              "landcover": cover.landcover},
                       name=cfg.name, outside=terrain.outside, files={"landcover": bf.path})
    pairs = cells.overlap_pairs
    report = BuildReport(
        name=cfg.name, config=str(bf.path), out=str(out),
        grid={"crs": cfg.crs, "cell_m": grid.cell_size, "shape": list(grid.shape), "bounds_m": list(grid.bounds()),
              "cells_in_domain": int((~terrain.outside).sum())},
        terrain=terrain.report,
        buildings={"file": str(layer.path), "layer": layer.name, "source_crs": layer.crs.to_string(),
                   "id_column": cfg.buildings.id or "source_fid", "features": vars(counts),
                   "in_twin": int(in_twin.sum()), "status": {s: int((cells.status == s).sum()) for s in STATUS},
                   "overlapping_pairs": len(pairs), "overlapping_footprints": int(np.unique(pairs).size),
                   "small": cfg.buildings.small, **attrs.report},
        landcover=cover.report, warnings=attrs.warnings + cover.warnings, memory_estimate_bytes=need)
    if not in_twin.any():
        report.warnings.append(f"buildings: no footprint of {layer.describe()} has a cell in the twin")
    lap("assemble")
    report.timings_s = {k: v for k, v in clock.items() if k not in ("start", "last")}
    inputs = [bf.path, *(t.path for t in tiles), layer.path, *(o.path for o in others.values())]
    id_column = read_name(cfg.buildings.id) if cfg.buildings.id else "source_fid"
    write_twin(out, ds, _footprint_table(frame, attrs, cells, ids), id_column, report, inputs, force)
    return report
