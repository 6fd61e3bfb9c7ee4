"""Write the sources of the worked example of ``twin build`` (README, "A twin of your own city").

Usage::

    python docs/build_example/make_sources.py runs/bubenec     # then: twin build runs/bubenec/build.yaml ...

What it writes into the folder (and copies ``build.yaml`` and ``flood.yaml`` of this folder beside
them):

* ``buildings.gpkg``: the **real** building footprints of Bubeneč, Prague, that momepy ships
  (``momepy/datasets/bubenec.gpkg``, layer ``buildings``, 144 polygons in EPSG:3857), with
  attribute columns as a building register has them, generated from each footprint's ``uID``:
  ``BD_MGT_SN`` (id), ``HEIGHT`` (m, missing for every seventh), ``GRND_FLR`` (floors), ``USABILITY``
  (use codes of the Korean building register: ``01000`` detached house, ``02000`` apartment,
  ``03000``/``04000`` neighbourhood shops, ``10000`` education, ``14000`` offices) and ``VALUE_KRW``
  (for every third). Three footprints are added the way real data has them: a 2 m x 2 m shed
  (smaller than a cell), a self-intersecting "bow-tie" polygon (repaired by the build) and an
  annex overlapping a building.
* ``landuse.gpkg``: momepy's tessellation cells of the same neighbourhood (polygons) with a land
  cover code of the Korean Ministry of Environment's land-cover map (level 2, ``L2_CODE``).
* ``roads.gpkg``: momepy's street centre lines with a width column ``RVWD`` (m; missing for some).
* ``rivers.gpkg``: one stream line across the area (12 m wide), burned into the DEM.
* ``dem/dem_IJ.tif``: four 4 m DEM tiles in **another CRS** (EPSG:32634, UTM zone 34N, while the
  twin is built in zone 33N), holding the analytic surface :func:`surface` of their own
  coordinates: a 1 % / 0.5 % plane plus a paraboloid of curvature :data:`CURVATURE_PER_M`, so that
  bilinear interpolation has a known error (tests/test_build.py).

Nothing here but the footprints, the tessellation and the streets is survey data.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
#: The DEM tiles' CRS, cell size (m) and their margin around the footprints (m).
TILE_CRS = "EPSG:32634"
TILE_RES_M = 4.0
TILE_MARGIN_M = 300.0
#: Curvature (1/m) of the paraboloid in the DEM: z_uu = z_vv = CURVATURE_PER_M.
CURVATURE_PER_M = 2e-4
#: Use codes (Korean building register) cycled over the footprints by uID.
USE_CODES = ("01000", "02000", "03000", "04000", "10000", "14000")
#: Land-cover codes (Ministry of Environment, level 2) cycled over the tessellation cells.
LANDCOVER_CODES = (110, 130, 150, 410, 310, 610, 160)


def momepy_layer(name: str):
    """A layer of momepy's bubenec.gpkg as a GeoDataFrame (EPSG:3857)."""
    import geopandas as gpd
    import momepy

    return gpd.read_file(Path(momepy.__file__).parent / "datasets" / "bubenec.gpkg", layer=name)


def surface(u, v, centre):
    """The DEM's elevation (m) at tile coordinates ``(u, v)`` (m, :data:`TILE_CRS`)."""
    du, dv = u - centre[0], v - centre[1]
    return 200.0 + 0.01 * du + 0.005 * dv + 0.5 * CURVATURE_PER_M * (du ** 2 + dv ** 2)


def _buildings():
    """The bubenec footprints with register-like attributes and three awkward extra footprints."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    b = momepy_layer("buildings")
    first = b.geometry.iloc[0]
    x, y = first.centroid.x, first.centroid.y
    scale = 1.0 / np.cos(np.radians(50.1))            # EPSG:3857 metres are stretched at Prague's latitude
    extra = gpd.GeoDataFrame({"uID": [1001, 1002, 1003]}, crs=b.crs, geometry=[
        shapely.box(x - 60 * scale, y - 60 * scale, x - 58 * scale, y - 58 * scale),      # a 2 m shed
        shapely.Polygon([(x + 40 * scale, y), (x + 60 * scale, y + 20 * scale), (x + 60 * scale, y),
                         (x + 40 * scale, y + 20 * scale)]),                              # a bow-tie
        shapely.box(first.bounds[0], first.bounds[1], first.bounds[0] + 8 * scale, first.bounds[1] + 8 * scale),
    ])
    b = gpd.GeoDataFrame(pd.concat([b, extra], ignore_index=True), crs=b.crs)
    uid = b["uID"].to_numpy()
    floors = 1 + uid % 6
    b["BD_MGT_SN"] = [f"1130010100{u:06d}" for u in uid]
    b["GRND_FLR"] = floors
    b["HEIGHT"] = np.where(uid % 7 == 0, np.nan, 3.2 * floors)
    b["USABILITY"] = [USE_CODES[u % len(USE_CODES)] for u in uid]
    b["VALUE_KRW"] = np.where(uid % 3 == 0, 1.5e6 * floors * 100, np.nan)
    return b


def _dem_tiles(folder: Path, buildings) -> None:
    """Four DEM tiles of :func:`surface` in :data:`TILE_CRS` around the footprints."""
    import rasterio
    from affine import Affine

    x0, y0, x1, y1 = buildings.to_crs(TILE_CRS).total_bounds
    x0, y0 = (np.floor((v - TILE_MARGIN_M) / TILE_RES_M) * TILE_RES_M for v in (x0, y0))
    x1, y1 = (np.ceil((v + TILE_MARGIN_M) / TILE_RES_M) * TILE_RES_M for v in (x1, y1))
    centre = (0.5 * (x0 + x1), 0.5 * (y0 + y1))
    xm = x0 + np.floor((x1 - x0) / 2 / TILE_RES_M) * TILE_RES_M
    ym = y0 + np.floor((y1 - y0) / 2 / TILE_RES_M) * TILE_RES_M
    folder.mkdir(parents=True, exist_ok=True)
    for i, (a0, a1) in enumerate([(x0, xm), (xm, x1)]):
        for j, (b0, b1) in enumerate([(y0, ym), (ym, y1)]):
            nx, ny = int(round((a1 - a0) / TILE_RES_M)), int(round((b1 - b0) / TILE_RES_M))
            transform = Affine(TILE_RES_M, 0.0, a0, 0.0, -TILE_RES_M, b1)
            cols, rows = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5)
            u, v = transform @ (cols, rows)
            with rasterio.open(folder / f"dem_{i}{j}.tif", "w", driver="GTiff", width=nx, height=ny, count=1,
                               dtype="float64", crs=TILE_CRS, transform=transform, nodata=-9999.0) as dst:
                dst.write(surface(u, v, centre), 1)


def dem_centre(folder: Path) -> tuple[float, float]:
    """The paraboloid's centre (m, :data:`TILE_CRS`): the centre of the tiles' union."""
    import rasterio

    bounds = []
    for path in sorted((folder / "dem").glob("dem_*.tif")):
        with rasterio.open(path) as src:
            bounds.append(src.bounds)
    return (0.5 * (min(b.left for b in bounds) + max(b.right for b in bounds)),
            0.5 * (min(b.bottom for b in bounds) + max(b.top for b in bounds)))


def write_sources(folder: str | Path) -> Path:
    """Write the example's sources into ``folder`` and copy ``build.yaml`` and ``flood.yaml`` there."""
    import geopandas as gpd
    import shapely

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    buildings = _buildings()
    buildings.to_file(folder / "buildings.gpkg", layer="buildings", driver="GPKG")
    cells = momepy_layer("tessellation")
    cells["L2_CODE"] = [LANDCOVER_CODES[int(u) % len(LANDCOVER_CODES)] for u in cells["uID"]]
    cells.to_file(folder / "landuse.gpkg", layer="landuse", driver="GPKG")
    streets = momepy_layer("streets")
    streets["RVWD"] = [np.nan if k % 5 == 0 else 6.0 + 2 * (k % 4) for k in range(len(streets))]
    streets.to_file(folder / "roads.gpkg", layer="roads", driver="GPKG")
    x0, y0, x1, y1 = buildings.total_bounds
    river = shapely.LineString([(x0 - 200, y0 + 0.3 * (y1 - y0)), (0.5 * (x0 + x1), y0 + 0.45 * (y1 - y0)),
                                (x1 + 200, y0 + 0.35 * (y1 - y0))])
    gpd.GeoDataFrame({"NAME": ["Example stream"], "WIDTH": [12.0]}, geometry=[river], crs=buildings.crs).to_file(
        folder / "rivers.gpkg", layer="rivers", driver="GPKG")
    _dem_tiles(folder / "dem", buildings)
    for name in ("build.yaml", "flood.yaml"):
        shutil.copyfile(HERE / name, folder / name)
    return folder


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where to write the sources (e.g. runs/bubenec)")
    print(f"wrote {write_sources(parser.parse_args().folder)}")
