"""``twin build`` (twin/build/) on real footprints: momepy's Bubeneč, Prague (EPSG:3857), on DEM tiles in
another CRS (EPSG:32634), built into a twin in EPSG:32633 by the shipped example (docs/build_example).

What is checked: the terrain is the tiles' analytic surface interpolated bilinearly, to round-off
against the interpolation error it must have and within the error bound of bilinear interpolation;
building ids, heights, uses and source attributes round-trip into the rasters and buildings.gpkg;
small, invalid and overlapping footprints are kept, repaired and counted; land cover, roads and
water land where their polygons are; the twin loads and floods with the volume ledger closed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import yaml
from pyproj import Transformer
from rasterio.warp import Resampling, reproject

from twin.build import build_twin
from twin.build.report import REPORT_JSON, REPORT_TEXT
from twin.cli import EXIT_OK, main
from twin.core.citytwin import load_twin, twin_grid
from twin.core.classes import BUILDING_USE, LANDCOVER

pytest.importorskip("momepy")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "build_example"


def example_sources():
    """The module docs/build_example/make_sources.py (it writes the example's sources)."""
    spec = importlib.util.spec_from_file_location("make_sources", EXAMPLE / "make_sources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCES = example_sources()


def write_config(folder: Path, name: str = "build.yaml", **changes) -> Path:
    """The example's build.yaml in ``folder`` with top-level ``changes`` (``None`` deletes a key)."""
    config = yaml.safe_load((EXAMPLE / "build.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """A folder holding the example's sources and build.yaml."""
    return SOURCES.write_sources(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="module")
def built(sources):
    """The example built into ``sources/twin``: (report, twin Dataset, buildings.gpkg frame)."""
    report = build_twin(sources / "build.yaml", sources / "twin")
    ds = load_twin(sources / "twin" / "twin.yaml")
    return report, ds, gpd.read_file(sources / "twin" / "buildings.gpkg", layer="buildings")


def _tile_grid(sources: Path):
    """The tiles' common pixel grid: west and north edges (m, EPSG:32634) and cell size."""
    lefts, tops = [], []
    for path in sorted((sources / "dem").glob("*.tif")):
        with rasterio.open(path) as src:
            lefts.append(src.bounds.left)
            tops.append(src.bounds.top)
    return min(lefts), max(tops), SOURCES.TILE_RES_M


def _gdal_positions(sources: Path, ds):
    """Where GDAL samples the tiles for each twin cell, in tile coordinates (m): the tile coordinates
    themselves warped exactly as the build warps the DEM (bilinear interpolation is exact for them)."""
    west, north, h = _tile_grid(sources)
    from affine import Affine

    n = 400
    transform = Affine(h, 0.0, west, 0.0, -h, north)
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    grid = twin_grid(ds)
    out = []
    for plane, origin in zip(transform @ (cols, rows), (west, north)):
        warped = np.full(grid.shape, np.nan)
        reproject(plane - origin, warped, src_transform=transform, src_crs=SOURCES.TILE_CRS, src_nodata=np.nan,
                  dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan,
                  resampling=Resampling.bilinear, tolerance=0.0, XSCALE=1, YSCALE=1)
        out.append(warped + origin)
    return out


def line_cells(sources: Path, ds, file: str, column: str, default_m: float) -> np.ndarray:
    """Cells whose centre lies within half its width (``column``, else ``default_m``) of a line of ``file``."""
    grid = twin_grid(ds)
    lines = gpd.read_file(sources / file).to_crs(grid.crs.to_wkt())
    half = lines[column].fillna(default_m).to_numpy() / 2
    x, y = grid.cell_centres()
    area = shapely.union_all(shapely.buffer(lines.geometry.values, half, cap_style="flat"))
    return shapely.contains_xy(area, *np.meshgrid(x, y))


def river_cells(sources: Path, ds) -> np.ndarray:
    """Cells whose centre lies in the example's river (12 m wide)."""
    return line_cells(sources, ds, "rivers.gpkg", "WIDTH", 10.0)


def test_terrain_from_tiles_in_another_crs_is_their_surface_interpolated_bilinearly(sources, built):
    """Bilinear interpolation of z = plane + k/2 r^2 from cells of side h errs by exactly
    k/2 h^2 [t_u (1 - t_u) + t_v (1 - t_v)] at fractional position (t_u, t_v) (the mixed term is
    interpolated exactly): the built terrain equals that to float32 round-off, across tile seams;
    water cells lie burn_depth_m lower."""
    report, ds, _ = built
    k, (west, north, h) = SOURCES.CURVATURE_PER_M, _tile_grid(sources)
    centre = SOURCES.dem_centre(sources)
    gu, gv = _gdal_positions(sources, ds)
    tu, tv = ((gu - west) / h - 0.5) % 1.0, ((north - gv) / h - 0.5) % 1.0
    expected = SOURCES.surface(gu, gv, centre) + 0.5 * k * h ** 2 * (tu * (1 - tu) + tv * (1 - tv))
    water = river_cells(sources, ds)
    expected[water] -= 1.5
    built_z = ds["elevation"].values
    assert water.sum() > 50 and np.isfinite(built_z).all()
    np.testing.assert_allclose(built_z, expected, rtol=2.0 ** -24, atol=0)   # float32 storage: half an ulp
    assert report.terrain["tile_crs"] == [SOURCES.TILE_CRS] and len(report.terrain["tiles"]) == 4


def test_terrain_is_within_the_bilinear_error_bound_of_the_true_surface(sources, built):
    """|bilinear - z| <= h^2/8 (|z_uu| + |z_vv|) = k h^2 / 4 (the interpolation error bound), plus
    the gradient times GDAL's distance from pyproj's position of each cell (measured) and float32
    round-off; the error is >= 0 (z is convex) and reaches half the bound (bilinear, not nearest)."""
    _, ds, _ = built
    k, h = SOURCES.CURVATURE_PER_M, SOURCES.TILE_RES_M
    centre = SOURCES.dem_centre(sources)
    grid = twin_grid(ds)
    x, y = grid.cell_centres()
    u, v = Transformer.from_crs(grid.crs.to_wkt(), SOURCES.TILE_CRS, always_xy=True).transform(*np.meshgrid(x, y))
    gu, gv = _gdal_positions(sources, ds)
    shift = np.hypot(gu - u, gv - v).max()
    slope = np.hypot(0.01 + k * (u - centre[0]), 0.005 + k * (v - centre[1])).max()
    error = (ds["elevation"].values - SOURCES.surface(u, v, centre))[~river_cells(sources, ds)]
    slack = slope * shift + 2.0 ** -24 * 250.0
    bound = k * h ** 2 / 4
    assert shift < 1e-3                                   # GDAL and pyproj agree on positions to 1 mm
    assert error.min() >= -slack and error.max() <= bound + slack, (error.min(), error.max(), bound, slack)
    assert error.max() > 0.5 * bound


def test_ids_heights_uses_and_attributes_round_trip_into_the_rasters_and_buildings_gpkg(sources, built):
    """Every twin building's cells carry its height and use, their centres lie in its source footprint,
    and buildings.gpkg holds its source id, attributes and footprint (reprojected, not traced back)."""
    report, ds, table = built
    source = gpd.read_file(sources / "buildings.gpkg", layer="buildings")
    assert len(table) == len(source) == 147
    np.testing.assert_array_equal(table["BD_MGT_SN"], source["BD_MGT_SN"])
    np.testing.assert_array_equal(table["source_fid"], np.arange(1, 148))        # GeoPackage fids
    original = source.to_crs(ds.rio.crs.to_wkt()).geometry
    same = ~table["twin_repaired"].to_numpy()
    np.testing.assert_allclose(table.geometry[same].area, original[same].area, rtol=1e-9)
    assert table.crs.to_epsg() == 32633

    bid = ds["building_id"].values
    ids = table["building_id"].to_numpy()
    in_twin = ids > 0
    assert in_twin.sum() == report.buildings["in_twin"] == np.unique(bid[bid > 0]).size
    np.testing.assert_array_equal(ids[in_twin], np.arange(1, in_twin.sum() + 1))  # 1..N in the layer's order
    x, y = twin_grid(ds).cell_centres()
    xx, yy = np.meshgrid(x, y)
    use_code = {name: code for name, code in BUILDING_USE.items()}
    for row in table[in_twin].itertuples():
        cells = bid == row.building_id
        assert cells.sum() == row.twin_cells
        assert np.all(ds["building_height"].values[cells] == pytest.approx(row.twin_height_m, rel=1e-6))
        assert np.all(ds["building_use"].values[cells] == use_code[row.twin_use])
        if row.twin_status == "cells":
            assert shapely.contains_xy(row.geometry, xx[cells], yy[cells]).all(), row.BD_MGT_SN
    given = np.isfinite(source["HEIGHT"].to_numpy())
    np.testing.assert_allclose(table["twin_height_m"][given], source["HEIGHT"][given])
    assert (table["twin_height_from"][~given] == "default").all() and (table["twin_height_m"][~given] == 9).all()
    assert report.buildings["heights"] == {"from": "column HEIGHT", "given": int(given.sum()),
                                           "default": int((~given).sum()), "default_m": 9.0}
    values = source["VALUE_KRW"].to_numpy()
    np.testing.assert_array_equal(np.isfinite(table["twin_value_krw"]), np.isfinite(values))


def _row(table, uid: int):
    return table[table["uID"] == uid].iloc[0]


def test_a_building_smaller_than_a_cell_is_kept_on_its_centroid_cell_and_counted(built):
    report, ds, table = built
    shed = _row(table, 1001)                                         # 2 m x 2 m, cells are 5 m
    assert shed.twin_status == "small_centroid" and shed.twin_cells == 1 and shed.building_id > 0
    point = shapely.point_on_surface(shed.geometry)
    row, col = twin_grid(ds).cell_of(point.x, point.y)
    assert ds["building_id"].values[row, col] == shed.building_id
    counted = report.buildings["status"]
    assert counted["small_centroid"] == (table["twin_status"] == "small_centroid").sum() >= 1
    assert sum(counted.values()) == len(table)


def test_an_invalid_footprint_is_repaired_and_an_overlapping_one_keeps_its_cells(built):
    report, _, table = built
    bowtie = _row(table, 1002)
    assert bowtie.twin_repaired and bowtie.geometry.is_valid and bowtie.geometry.area > 100
    assert report.buildings["features"]["repaired"] == 1 == table["twin_repaired"].sum()
    annex = _row(table, 1003)                       # drawn over building uID 1, smaller: keeps its cells
    assert annex.twin_status == "cells" and annex.twin_cells >= 1
    assert report.buildings["overlapping_pairs"] >= 1


def test_land_cover_roads_and_water_land_where_their_features_are(sources, built):
    report, ds, table = built
    lc = ds["landcover"].values
    grid = twin_grid(ds)
    cells = gpd.read_file(sources / "landuse.gpkg").to_crs(grid.crs.to_wkt())
    forest = cells[cells["L2_CODE"].isin([310, 320, 330])].geometry.union_all()
    x, y = grid.cell_centres()
    inside = shapely.contains_xy(forest, *np.meshgrid(x, y))
    free = inside & ~np.isin(lc, [LANDCOVER["road"], LANDCOVER["water"], LANDCOVER["building"]])
    assert free.sum() > 100 and np.all(lc[free] == LANDCOVER["forest"])
    roads = line_cells(sources, ds, "roads.gpkg", "RVWD", 8.0)
    assert report.landcover["roads"]["cells"] == roads.sum() > 500
    assert np.isin(lc[roads], [LANDCOVER["road"], LANDCOVER["water"], LANDCOVER["building"]]).all()
    water = river_cells(sources, ds)
    assert report.landcover["water"]["cells"] == water.sum() > 50
    np.testing.assert_array_equal(lc == LANDCOVER["water"], water & (lc != LANDCOVER["building"]))
    assert (lc == LANDCOVER["building"]).sum() == (ds["building_id"].values > 0).sum()


def test_the_built_twin_floods_with_the_volume_ledger_closed(sources, built):
    """The example's flood scenario (docs/build_example/flood.yaml) runs on the built twin."""
    from twin.pipeline.run import run_scenario

    _, ds, _ = built
    run = run_scenario(sources / "flood.yaml", out=sources / "runs" / "flood", progress=False, until=300.0)
    summary = json.loads((run / "summary.json").read_text())
    ledger = summary["volume_ledger_m3"]
    assert ledger["rain_in"] == pytest.approx(50e-3 / 3600 * 300 * summary["cells_in_domain"] * 25, rel=1e-9)
    assert ledger["closure_relative"] < 1e-9
    with rasterio.open(run / "max_depth.tif") as src:
        depth = src.read(1)
    assert np.nanmax(depth) > 0 and np.all(depth[ds["building_id"].values > 0] == 0)


def test_floors_times_storey_height_and_small_buildings_by_all_touched(sources, tmp_path):
    cfg = yaml.safe_load((sources / "build.yaml").read_text())
    cfg["buildings"]["height"] = {"floors": "GRND_FLR", "storey_m": 3.5}
    cfg["buildings"]["small"] = "all_touched"
    path = sources / "floors.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    report = build_twin(path, tmp_path / "twin")
    table = gpd.read_file(tmp_path / "twin" / "buildings.gpkg")
    np.testing.assert_allclose(table["twin_height_m"], 3.5 * table["GRND_FLR"])
    assert _row(table, 1001).twin_status == "small_all_touched" and _row(table, 1001).twin_cells >= 1
    assert report.buildings["heights"]["from"] == "GRND_FLR x 3.5 m"


def test_build_and_info_on_the_command_line_say_what_was_built_from_what(sources, tmp_path, capsys):
    out = tmp_path / "twin"
    assert main(["build", str(sources / "build.yaml"), "--out", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "145 of 147 footprints in the twin" in printed and f"wrote {out}/twin.yaml" in printed
    assert (out / REPORT_TEXT).read_text() in printed
    assert main(["info", str(out / "twin.yaml")]) == EXIT_OK
    info = capsys.readouterr().out
    assert "built from" in info and "footprints buildings.gpkg (layer buildings, id BD_MGT_SN): 145 of 147" in info
    assert main(["info", "--json", str(out / "twin.yaml")]) == EXIT_OK
    built_from = json.loads(capsys.readouterr().out)["built_from"]
    assert built_from["in_twin"] == 145 and built_from["dem_tiles"] == 4
    report = json.loads((out / REPORT_JSON).read_text())
    assert report["buildings"]["id_column"] == "BD_MGT_SN" and report["grid"]["crs"] == "EPSG:32633"
    assert main(["build", str(sources / "build.yaml"), "--out", str(out)]) == EXIT_OK   # a twin built here: replaced


def write_worldcover(path: Path, sources: Path, codes=(10, 30, 50, 80)) -> tuple[np.ndarray, float]:
    """A land-cover raster in EPSG:4326 (degrees) over the example, in north-south stripes of ``codes``
    (as ESA WorldCover's); returns the stripes' edges (degrees east) and the cell size (degrees)."""
    from affine import Affine

    west, south, east, north = gpd.read_file(sources / "buildings.gpkg").to_crs(4326).total_bounds
    west, south, east, north = west - 0.002, south - 0.002, east + 0.002, north + 0.002
    res = 1e-4
    nx, ny = int((east - west) / res), int((north - south) / res)
    edges = west + np.arange(len(codes) + 1) * nx * res / len(codes)
    band = np.repeat(np.array(codes, dtype=np.uint8), int(np.ceil(nx / len(codes))))[:nx]
    with rasterio.open(path, "w", driver="GTiff", width=nx, height=ny, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=Affine(res, 0, west, 0, -res, north), nodata=0) as dst:
        dst.write(np.tile(band, (ny, 1)), 1)
    return edges, res


def test_land_cover_from_a_raster_in_degrees_with_a_code_table(sources, tmp_path):
    edges, res = write_worldcover(sources / "worldcover.tif", sources)
    config = yaml.safe_load((sources / "build.yaml").read_text())
    config["landcover"] = {"file": "worldcover.tif",
                           "class": {"map": {"forest": [10], "grass": [30], "urban_open": [50], "water": [80]}}}
    for key in ("roads", "water"):
        config.pop(key)
    path = sources / "worldcover.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    report = build_twin(path, tmp_path / "twin")
    ds = load_twin(tmp_path / "twin" / "twin.yaml")
    grid = twin_grid(ds)
    x, y = grid.cell_centres()
    lon, _ = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True).transform(*np.meshgrid(x, y))
    stripe = np.searchsorted(edges, lon) - 1
    clear = np.abs(lon[..., None] - edges).min(axis=-1) > 2 * res     # away from the stripes' edges
    lc = ds["landcover"].values
    for k, name in enumerate(("forest", "grass", "urban_open", "water")):
        cells = clear & (stripe == k) & (lc != LANDCOVER["building"])
        assert cells.sum() > 100 and np.all(lc[cells] == LANDCOVER[name]), name
    assert report.landcover["landcover"]["raster"] is True
    assert sum(report.landcover["landcover"]["cells_by_class"].values()) == lc.size


def test_dem_nodata_at_the_edge_is_outside_the_domain_and_its_footprints_are_counted(sources, tmp_path):
    """Nodata connected to the grid's edge (a coast) is outside the domain, not a hole: the footprints
    wholly there are kept in buildings.gpkg with building id 0 and status outside_domain."""
    footprints = gpd.read_file(sources / "buildings.gpkg").to_crs(SOURCES.TILE_CRS)
    coast = footprints.total_bounds[0] + 100.0                       # tile x (m) west of which is sea
    (sources / "coast").mkdir(exist_ok=True)
    for path in sorted((sources / "dem").glob("*.tif")):
        with rasterio.open(path) as src:
            band, profile = src.read(1), src.profile
            x = src.bounds.left + (np.arange(src.width) + 0.5) * src.res[0]
        band[:, x < coast] = profile["nodata"]
        with rasterio.open(sources / "coast" / path.name, "w", **profile) as dst:
            dst.write(band, 1)
    config = yaml.safe_load((sources / "build.yaml").read_text())
    config["dem"] = ["coast/*.tif"]
    path = sources / "coast.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    report = build_twin(path, tmp_path / "twin")
    ds = load_twin(tmp_path / "twin" / "twin.yaml")
    table = gpd.read_file(tmp_path / "twin" / "buildings.gpkg")
    outside = ds["domain_mask"].values == 0
    assert report.terrain["cells_outside_domain"] == outside.sum() > 100 and report.terrain["holes_filled"] == 0
    wholly = footprints.geometry.bounds["maxx"].to_numpy() < coast - 5.0
    assert wholly.sum() >= 1
    assert (table["twin_status"][wholly] == "outside_domain").all() and (table["building_id"][wholly] == 0).all()
    assert report.buildings["status"]["outside_domain"] >= wholly.sum()
    assert not (ds["building_id"].values[outside] > 0).any()
