"""Wall time and peak memory of ``twin build`` on a large generated city.

The full size is issue 16's: a 20 km x 20 km twin at 5 m (4000 x 4000 = 16 M cells) built from
16 DEM tiles of 5 km in another CRS (EPSG:5179, Korea unified, 5 m; the twin is in EPSG:5186),
200 000 rectangular footprints (8-40 m sides, any orientation, with id, height, use-code and value
columns), 40 000 land-use polygons (100 m blocks, six land-cover codes), a street grid every
200 m (lines with a width column) and a river line burned 1.5 m deep. ``--small`` builds 2 km x
2 km (160 000 cells) with 2 000 footprints.

The sources are generated once into ``bench/out/build-<size>/`` (ignored by git) and reused. The
build runs in a fresh subprocess (``twin.build.build_twin``); it reports its wall time and CPU
time (user + system, all threads: on a machine shared with other jobs the wall time is longer),
its stages (the report's ``timings_s``), the time to write the folder, the build's own memory
estimate and the peak resident memory of the subprocess (``ru_maxrss``, the kernel's high-water
mark, imports included).

Usage::

    python bench/build.py --small
    python bench/build.py            # full size (about 1.5 GB of sources written first)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Target CRS, DEM tiles' CRS and the south-west corner of the city (m, EPSG:5186, near Daejeon).
CRS, TILE_CRS = "EPSG:5186", "EPSG:5179"
ORIGIN = (220_000.0, 400_000.0)
SIZES = {"full": dict(size_m=20_000.0, buildings=200_000, tiles=4),
         "small": dict(size_m=2_000.0, buildings=2_000, tiles=2)}
CELL_M = 5.0
USE_CODES = ("01000", "02000", "03000", "04000", "10000", "14000")
LANDCOVER_CODES = (110, 130, 150, 410, 310, 610)


def _terrain(x, y):
    """Elevation (m) at EPSG:5186 coordinates: a valley falling south with hills east and west."""
    u, v = (x - ORIGIN[0]) / 1000.0, (y - ORIGIN[1]) / 1000.0
    return 40.0 + 1.0 * v + 3.0 * np.abs(u - 10.0) + 15.0 * np.sin(0.7 * u) * np.cos(0.5 * v)


def _write_tiles(folder: Path, size_m: float, n: int) -> None:
    """n x n DEM tiles in TILE_CRS covering the city and 200 m beyond, 5 m cells."""
    import rasterio
    from affine import Affine
    from pyproj import Transformer

    to_tile = Transformer.from_crs(CRS, TILE_CRS, always_xy=True)
    to_city = Transformer.from_crs(TILE_CRS, CRS, always_xy=True)
    x0, y0, x1, y1 = to_tile.transform_bounds(ORIGIN[0] - 200, ORIGIN[1] - 200, ORIGIN[0] + size_m + 200,
                                              ORIGIN[1] + size_m + 200, densify_pts=21)
    x0, y0 = np.floor(x0 / CELL_M) * CELL_M, np.floor(y0 / CELL_M) * CELL_M
    side = np.ceil(max(x1 - x0, y1 - y0) / n / CELL_M) * CELL_M
    cells = int(side / CELL_M)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        for j in range(n):
            transform = Affine(CELL_M, 0.0, x0 + i * side, 0.0, -CELL_M, y0 + (j + 1) * side)
            cols, rows = np.meshgrid(np.arange(cells) + 0.5, np.arange(cells) + 0.5)
            u, v = transform @ (cols, rows)
            z = _terrain(*to_city.transform(u, v)).astype(np.float32)
            with rasterio.open(folder / f"dem_{i}_{j}.tif", "w", driver="GTiff", width=cells, height=cells, count=1,
                               dtype="float32", crs=TILE_CRS, transform=transform, nodata=-9999.0, tiled=True,
                               compress="deflate") as dst:
                dst.write(z, 1)


def _rectangles(rng, centres, length, width, angle):
    """Rotated rectangles (shapely polygons) from their centres (n, 2), sides and angles (rad)."""
    import shapely

    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None, :, :] * np.stack([length, width], axis=1)[:, None, :]
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = centres[:, 0:1] + c * local[:, :, 0] - s * local[:, :, 1]
    y = centres[:, 1:2] + s * local[:, :, 0] + c * local[:, :, 1]
    return shapely.polygons(np.stack([x, y], axis=2))


def write_sources(folder: Path, size_m: float, buildings: int, tiles: int) -> Path:
    """The sources and build file of a generated city of side ``size_m`` (m) into ``folder``."""
    import geopandas as gpd
    import shapely
    import yaml

    rng = np.random.default_rng(20261207)
    folder.mkdir(parents=True, exist_ok=True)
    _write_tiles(folder / "dem", size_m, tiles)
    # footprints: one per cell of a jittered lattice, so that few overlap
    per_side = int(np.ceil(np.sqrt(buildings)))
    pitch = size_m / per_side
    k = np.arange(buildings)
    centres = np.column_stack([ORIGIN[0] + (k % per_side + 0.5) * pitch, ORIGIN[1] + (k // per_side + 0.5) * pitch])
    centres += rng.uniform(-0.1, 0.1, centres.shape) * pitch
    sides = rng.uniform(8.0, min(40.0, 0.7 * pitch), (buildings, 2))
    floors = rng.integers(1, 25, buildings)
    gpd.GeoDataFrame({
        "BD_MGT_SN": [f"30{i:012d}" for i in k], "HEIGHT": np.where(k % 9 == 0, np.nan, 3.1 * floors),
        "GRND_FLR": floors, "USABILITY": np.array(USE_CODES)[k % len(USE_CODES)],
        "VALUE_KRW": np.where(k % 4 == 0, 2e6 * floors * sides[:, 0] * sides[:, 1], np.nan)},
        geometry=_rectangles(rng, centres, sides[:, 0], sides[:, 1], rng.uniform(0, np.pi, buildings)),
        crs=CRS).to_file(folder / "buildings.gpkg", layer="buildings", engine="pyogrio")
    # land use: 100 m blocks
    nb = int(size_m / 100.0)
    bx, by = np.meshgrid(np.arange(nb), np.arange(nb))
    blocks = shapely.box(ORIGIN[0] + 100.0 * bx.ravel(), ORIGIN[1] + 100.0 * by.ravel(),
                         ORIGIN[0] + 100.0 * (bx.ravel() + 1), ORIGIN[1] + 100.0 * (by.ravel() + 1))
    gpd.GeoDataFrame({"L2_CODE": rng.choice(LANDCOVER_CODES, blocks.size)}, geometry=blocks, crs=CRS).to_file(
        folder / "landuse.gpkg", layer="landuse", engine="pyogrio")
    # streets every 200 m, both ways; a river across
    ticks = np.arange(0.0, size_m + 1.0, 200.0)
    lines = ([shapely.LineString([(ORIGIN[0] + t, ORIGIN[1]), (ORIGIN[0] + t, ORIGIN[1] + size_m)]) for t in ticks]
             + [shapely.LineString([(ORIGIN[0], ORIGIN[1] + t), (ORIGIN[0] + size_m, ORIGIN[1] + t)]) for t in ticks])
    gpd.GeoDataFrame({"RVWD": rng.choice([8.0, 12.0, 20.0], len(lines))}, geometry=lines, crs=CRS).to_file(
        folder / "roads.gpkg", layer="roads", engine="pyogrio")
    river = shapely.LineString([(ORIGIN[0] + 0.5 * size_m + 0.1 * size_m * np.sin(t), ORIGIN[1] + t * size_m / 6)
                                for t in np.linspace(0, 6, 60)])
    gpd.GeoDataFrame({"WIDTH": [30.0]}, geometry=[river], crs=CRS).to_file(folder / "rivers.gpkg", layer="rivers",
                                                                           engine="pyogrio")
    config = {"name": folder.name, "crs": CRS, "cell": CELL_M,
              "extent": [ORIGIN[0], ORIGIN[1], ORIGIN[0] + size_m, ORIGIN[1] + size_m], "dem": ["dem/*.tif"],
              "buildings": {"file": "buildings.gpkg", "id": "BD_MGT_SN", "height": {"column": "HEIGHT"},
                            "use": {"column": "USABILITY", "map": {"residential": ["01000", "02000"],
                                                                   "commercial": ["03000", "04000"],
                                                                   "public": ["10000", "14000"]}},
                            "value": {"column": "VALUE_KRW"}},
              "landcover": {"file": "landuse.gpkg", "class": {"column": "L2_CODE", "map": {
                  "urban_open": [110, 130], "road": [150], "grass": [410], "forest": [310], "bare": [610]}}},
              "roads": {"file": "roads.gpkg", "width": {"column": "RVWD", "default_m": 8}},
              "water": {"file": "rivers.gpkg", "width": {"column": "WIDTH", "default_m": 20}, "burn_depth_m": 1.5}}
    (folder / "build.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder / "build.yaml"


def measure(config: str, out: str) -> None:
    """In the subprocess: build, then print wall time, stages, estimate and peak RSS as JSON."""
    start = time.perf_counter()
    from twin.build import build_twin

    imported = time.perf_counter()
    cpu_before = time.process_time()
    report = build_twin(config, out, force=True)
    done = time.perf_counter()
    stages = report.timings_s
    print(json.dumps({"import_s": imported - start, "build_s": done - imported,
                      "build_cpu_s": time.process_time() - cpu_before, "stages_s": stages,
                      "write_s": done - imported - sum(stages.values()),
                      "memory_estimate_bytes": report.memory_estimate_bytes,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "cells": report.grid["shape"][0] * report.grid["shape"][1],
                      "in_twin": report.buildings["in_twin"], "status": report.buildings["status"],
                      "overlapping_pairs": report.buildings["overlapping_pairs"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2 km x 2 km, 2 000 footprints")
    parser.add_argument("--measure", nargs=2, metavar=("CONFIG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    size = "small" if args.small else "full"
    folder = ROOT / "bench" / "out" / f"build-{size}"
    config = folder / "build.yaml"
    if not config.exists():
        t = time.perf_counter()
        write_sources(folder, **SIZES[size])
        print(f"sources written in {time.perf_counter() - t:.1f} s: {folder}")
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    run = subprocess.run([sys.executable, __file__, "--measure", str(config), str(folder / "twin")],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
