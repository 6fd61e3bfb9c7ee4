"""Gridded rainfall reader: conservative regridding, members, time intervals, units, bad input.

The conservation tests compare the regridded domain-total volume with an independent integral
of the source field over the twin's footprint: each source cell's boundary (densified) is
projected into the twin CRS, clipped to the twin rectangle (Sutherland-Hodgman) and its area
taken with the shoelace formula. The regridder itself counts projected sub-cell centres, so the
two methods share only the coordinate transformation.
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import xarray as xr
from affine import Affine
from rasterio.crs import CRS

import twin.core.remap as remap_module
from twin.core.errors import InputError
from twin.core.grid import Grid
from twin.io.rainfall import read_forecast, read_gridded_rainfall

#: The sample district's grid at 10 m (2.5 km square, NW corner 233264 E 418244 N, EPSG:5186).
TWIN = Grid((250, 250), Affine(10.0, 0.0, 233_264.0, 0.0, -10.0, 418_244.0), CRS.from_epsg(5186))
#: Metres per second in one mm/h.
MM_H = 1e-3 / 3600.0


def twin_in(crs: str) -> tuple[float, float, float, float]:
    """Bounds of :data:`TWIN` in ``crs`` (densified corners)."""
    from rasterio.warp import transform_bounds

    return transform_bounds(TWIN.crs, crs, *TWIN.bounds(), densify_pts=21)


def source_axes(crs: str, step: float, margin: float, offset: float = 0.0):
    """Cell-centre x (increasing) and y (decreasing) of a grid of ``step`` covering the twin plus ``margin``."""
    w, s, e, n = twin_in(crs)
    x = np.arange(np.floor((w - margin) / step), np.ceil((e + margin) / step)) * step + 0.5 * step + offset
    y = (np.arange(np.ceil((n + margin) / step), np.floor((s - margin) / step), -1) - 0.5) * step + offset
    return x, y


def write_rain(path, data, x, y, *, crs="EPSG:4326", units="mm h-1", times=None, bounds=None,
               dims=None, member=True):
    """Write a rainfall netCDF; ``data`` is (member, time, y, x) or (time, y, x)."""
    data = np.asarray(data, dtype=np.float64)
    geographic = crs is not None and CRS.from_user_input(crs).is_geographic
    ydim, xdim = ("lat", "lon") if geographic else ("y", "x")
    nt = data.shape[-3]
    if times is None:
        times = np.datetime64("2025-07-15T00:00") + np.arange(nt) * np.timedelta64(1, "h")
    dims = dims or (("member",) if data.ndim == 4 else ()) + ("time", ydim, xdim)
    coords = {"time": ("time", np.asarray(times)), ydim: (ydim, y), xdim: (xdim, x)}
    ds = xr.Dataset({"rainfall": (dims, data, {"units": units} if units is not None else {})}, coords=coords)
    if bounds is not None:
        ds["time_bnds"] = (("time", "nv"), np.asarray(bounds))
        ds["time"].attrs["bounds"] = "time_bnds"
        ds["time"].encoding["units"] = "seconds since 2025-07-15 00:00:00"
    if crs is not None:
        ds = ds.rio.write_crs(crs)
    ds.to_netcdf(path)
    return path


def _clip(poly: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Sutherland-Hodgman clip of polygon ``poly`` (n, 2) to the rectangle ``box`` (w, s, e, n)."""
    w, s, e, n = box
    for axis, limit, keep_above in ((0, w, True), (0, e, False), (1, s, True), (1, n, False)):
        if len(poly) == 0:
            break
        inside = poly[:, axis] >= limit if keep_above else poly[:, axis] <= limit
        out = []
        for i in range(len(poly)):
            a, b = poly[i - 1], poly[i]
            ina, inb = inside[i - 1], inside[i]
            if ina != inb:
                f = (limit - a[axis]) / (b[axis] - a[axis])
                out.append(a + f * (b - a))
            if inb:
                out.append(b)
        poly = np.array(out)
    return poly


def _area(poly: np.ndarray) -> float:
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def overlap_areas(x: np.ndarray, y: np.ndarray, crs: str, grid: Grid = TWIN, densify: int = 64) -> np.ndarray:
    """Area (m^2) of each source cell (ny, nx) inside the twin's rectangle, by polygon clipping."""
    to_twin = pyproj.Transformer.from_crs(crs, grid.crs.to_wkt(), always_xy=True)
    xe = np.concatenate([[x[0] - (x[1] - x[0]) / 2], (x[1:] + x[:-1]) / 2, [x[-1] + (x[-1] - x[-2]) / 2]])
    ye = np.concatenate([[y[0] - (y[1] - y[0]) / 2], (y[1:] + y[:-1]) / 2, [y[-1] + (y[-1] - y[-2]) / 2]])
    f = np.linspace(0.0, 1.0, densify, endpoint=False)
    areas = np.zeros((y.size, x.size))
    for j in range(y.size):
        for i in range(x.size):
            x0, x1, y0, y1 = xe[i], xe[i + 1], ye[j], ye[j + 1]
            px = np.concatenate([x0 + f * (x1 - x0), np.full_like(f, x1), x1 + f * (x0 - x1), np.full_like(f, x0)])
            py = np.concatenate([np.full_like(f, y0), y0 + f * (y1 - y0), np.full_like(f, y1), y1 + f * (y0 - y1)])
            qx, qy = to_twin.transform(px, py)
            areas[j, i] = _area(_clip(np.column_stack([qx, qy]), grid.bounds()))
    return areas


def test_polygon_overlaps_tile_the_twin():
    """The reference integral's areas add up to the twin's area (checks the reference itself)."""
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    a = overlap_areas(x, y, "EPSG:4326")
    assert a.sum() == pytest.approx(2500.0 ** 2, rel=1e-6)
    assert (a > 0).sum() > 4                           # the twin straddles several source cells


@pytest.mark.parametrize("crs, step, margin", [("EPSG:4326", 0.01, 0.02), ("EPSG:32652", 1000.0, 1500.0)])
def test_regridding_keeps_domain_total_volume(tmp_path, crs, step, margin):
    """Sum of rate x cell area on the twin equals the source field integrated over its footprint (1 %)."""
    x, y = source_axes(crs, step, margin, offset=0.3 * step)
    rng = np.random.default_rng(7)
    data = rng.uniform(0.0, 60.0, (2, 3, y.size, x.size))          # mm/h, strong cell-to-cell contrast
    f = read_forecast(write_rain(tmp_path / "rain.nc", data, x, y, crs=crs))
    areas = overlap_areas(x, y, crs)
    remap = f.remap(TWIN)
    for k in range(2):
        rates = f.member_rates(k, TWIN, remap)
        regridded = rates.sum(axis=(1, 2)) * TWIN.cell_size ** 2          # m^3/s per interval
        reference = (data[k] * MM_H * areas).sum(axis=(1, 2))
        np.testing.assert_allclose(regridded, reference, rtol=0.01)


@pytest.mark.parametrize("crs, step, margin", [("EPSG:4326", 0.01, 0.02), ("EPSG:32652", 1000.0, 1500.0)])
def test_area_given_to_each_source_cell_is_its_overlap(tmp_path, crs, step, margin):
    """Per source cell, the remap's area differs from the exact overlap by at most 2 x perimeter x sub-cell.

    Point counting misassigns only sub-cells cut by the cell's edges: at most (perimeter / s) of
    them, each of area s^2, with s the sub-cell side.
    """
    x, y = source_axes(crs, step, margin, offset=0.3 * step)
    f = read_forecast(write_rain(tmp_path / "rain.nc", np.ones((2, y.size, x.size)), x, y, crs=crs))
    remap = f.remap(TWIN)
    given = np.zeros((y.size, x.size))
    given[remap.rows, remap.cols] = (np.asarray(remap.matrix.sum(axis=0)).reshape(
        remap.rows.stop - remap.rows.start, -1) * TWIN.cell_size ** 2)
    exact = overlap_areas(x, y, crs)
    sub = TWIN.cell_size / remap.supersample
    side = np.sqrt(exact)                     # perimeter of a clipped cell is at most about 4 sqrt(area) + twin edges
    bound = 2.0 * (4.0 * side + 2 * 2500.0 * (exact > 0)) * sub
    assert np.all(np.abs(given - exact) <= bound)
    assert given.sum() == pytest.approx(2500.0 ** 2, rel=1e-9)        # rows of the remap sum to 1


def test_latitude_order_and_longitude_order_do_not_matter(tmp_path):
    x, y = source_axes("EPSG:4326", 0.01, 0.02, offset=0.003)
    data = np.random.default_rng(1).uniform(0, 30, (2, y.size, x.size))
    a = read_gridded_rainfall(write_rain(tmp_path / "a.nc", data, x, y), "rainfall", TWIN)[1]
    b = read_gridded_rainfall(write_rain(tmp_path / "b.nc", data[:, ::-1, ::-1], x[::-1], y[::-1]),
                              "rainfall", TWIN)[1]
    np.testing.assert_array_equal(a, b)


def test_uniform_rain_is_exact(tmp_path):
    """36 mm/h everywhere is 1e-5 m/s in every twin cell."""
    x, y = source_axes("EPSG:32652", 1000.0, 1500.0)
    edges, rates = read_gridded_rainfall(write_rain(tmp_path / "r.nc", np.full((2, y.size, x.size), 36.0), x, y,
                                                    crs="EPSG:32652"), "rainfall", TWIN)
    np.testing.assert_array_equal(edges, [0.0, 3600.0, 7200.0])
    np.testing.assert_allclose(rates, 1e-5, rtol=1e-12)


def test_units_give_the_same_rates(tmp_path):
    """mm/h, mm per interval, kg m-2 s-1 and m s-1 of the same rain give the same m/s (unequal intervals)."""
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    mm_h = np.random.default_rng(3).uniform(0, 40, (3, y.size, x.size))
    t0 = np.datetime64("2025-07-15T00:00", "s")
    starts = t0 + np.array([0, 1800, 5400], dtype="timedelta64[s]")
    ends = t0 + np.array([1800, 5400, 9000], dtype="timedelta64[s]")
    bounds = np.stack([starts, ends], axis=1)
    hours = np.array([0.5, 1.0, 1.0])[:, None, None]
    cases = {"mm h-1": mm_h, "mm": mm_h * hours, "kg m-2 s-1": mm_h / 3600.0, "m s-1": mm_h * MM_H,
             "kg m**-2 s**-1": mm_h / 3600.0}
    results = {}
    for i, (units, values) in enumerate(cases.items()):
        path = write_rain(tmp_path / f"u{i}.nc", values, x, y, units=units, times=starts, bounds=bounds)
        edges, results[units] = read_gridded_rainfall(path, "rainfall", TWIN)
        np.testing.assert_array_equal(edges, [0.0, 1800.0, 5400.0, 9000.0])
    for units, rates in results.items():
        np.testing.assert_allclose(rates, results["mm h-1"], rtol=1e-12, err_msg=units)
    assert results["mm h-1"].max() <= mm_h.max() * MM_H * (1 + 1e-12)


def test_members_and_single_field_files(tmp_path):
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    data = np.random.default_rng(5).uniform(0, 20, (3, 2, y.size, x.size))
    path = write_rain(tmp_path / "ens.nc", data, x, y)
    f = read_forecast(path)
    assert f.n_members == 3 and f.dims == ("member", "time", "lat", "lon")
    one = write_rain(tmp_path / "one.nc", data[2], x, y)
    assert read_forecast(one).n_members == 1
    edges, single = read_gridded_rainfall(one, "rainfall", TWIN, scale=2.0)
    np.testing.assert_allclose(read_gridded_rainfall(path, "rainfall", TWIN, member=2)[1] * 2.0, single, rtol=1e-15)
    np.testing.assert_allclose(f.member_rates(2, TWIN), single / 2.0, rtol=1e-15)
    with pytest.raises(InputError, match="3 ensemble members"):
        read_gridded_rainfall(path, "rainfall", TWIN)
    with pytest.raises(InputError, match="no such rainfall member"):
        f.member_rates(3, TWIN)


def test_times_without_bounds_start_each_interval(tmp_path):
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    path = write_rain(tmp_path / "t.nc", np.ones((3, y.size, x.size)), x, y,
                      times=np.datetime64("2025-07-15T00:00") + np.array([0, 10, 30], "timedelta64[m]"))
    f = read_forecast(path)
    np.testing.assert_array_equal(f.edges, [0.0, 600.0, 1800.0, 3000.0])
    assert f.start == np.datetime64("2025-07-15T00:00")


def _bad_case(tmp_path, case: str):
    """(path, variable) of a file that must be refused."""
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    ok = np.ones((2, y.size, x.size))
    t0 = np.datetime64("2025-07-15T00:00", "s")
    neg, nan = ok.copy(), ok.copy()
    neg[1, 2, 2] = -0.5
    nan[0, y.size // 2, x.size // 2] = np.nan
    gap = np.stack([t0 + np.array([0, 7200], "timedelta64[s]"), t0 + np.array([3600, 10800], "timedelta64[s]")], 1)
    px, py = source_axes("EPSG:5186", 500.0, 500.0)
    path = tmp_path / "rain.nc"
    writers = {
        "missing": lambda: None,
        "unreadable": lambda: path.write_text("not a netCDF file\n"),
        "no variable": lambda: write_rain(path, ok, x, y),
        "unknown units": lambda: write_rain(path, ok, x, y, units="inch per fortnight"),
        "no units": lambda: write_rain(path, ok, x, y, units=None),
        "not covering": lambda: write_rain(path, ok, x + 1.0, y),
        "empty time": lambda: write_rain(path, ok[:0], x, y, times=np.array([], "datetime64[s]")),
        "wrong dims": lambda: write_rain(path, ok, x, y, dims=("time", "lat", "level")),
        "negative": lambda: write_rain(path, neg, x, y),
        "nan over twin": lambda: write_rain(path, nan, x, y),
        "no crs": lambda: write_rain(path, np.ones((2, py.size, px.size)), px, py, crs=None),
        "one time, no bounds": lambda: write_rain(path, ok[:1], x, y),
        "gap in bounds": lambda: write_rain(path, ok, x, y, times=gap[:, 0], bounds=gap),
        "times decrease": lambda: write_rain(path, ok, x, y, times=t0 - np.array([0, 60], "timedelta64[s]")),
    }
    writers[case]()
    return path, "precip" if case == "no variable" else "rainfall"


BAD = ["missing", "unreadable", "no variable", "unknown units", "no units", "not covering", "empty time",
       "wrong dims", "negative", "nan over twin", "no crs", "one time, no bounds", "gap in bounds", "times decrease"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_an_input_error_naming_the_file(tmp_path, case):
    path, variable = _bad_case(tmp_path, case)
    with pytest.raises(InputError) as info:
        read_gridded_rainfall(path, variable, TWIN)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_one_time_with_bounds_is_one_interval(tmp_path):
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    t0 = np.datetime64("2025-07-15T00:00", "s")
    path = write_rain(tmp_path / "b.nc", np.full((1, y.size, x.size), 7.2), x, y, times=[t0],
                      bounds=[[t0, t0 + np.timedelta64(1800, "s")]])
    edges, rates = read_gridded_rainfall(path, "rainfall", TWIN)
    np.testing.assert_array_equal(edges, [0.0, 1800.0])
    np.testing.assert_allclose(rates, 7.2 * MM_H, rtol=1e-12)


@pytest.fixture
def remap_calls(monkeypatch):
    """An empty remap cache, and the list of the source x axes the remap is computed for."""
    calls = []
    build = remap_module.conservative_remap

    def counted(x, *args, **kwargs):
        calls.append(x)
        return build(x, *args, **kwargs)

    remap_module.clear_cache()
    monkeypatch.setattr(remap_module, "conservative_remap", counted)
    yield calls
    remap_module.clear_cache()


def test_members_share_one_remap_equal_to_an_uncached_one(tmp_path, remap_calls):
    """Reading three members computes the remap once; each equals the read with a fresh remap, bit for bit."""
    x, y = source_axes("EPSG:4326", 0.01, 0.02, offset=0.003)
    data = np.random.default_rng(11).uniform(0.0, 40.0, (3, 2, y.size, x.size))
    path = write_rain(tmp_path / "ens.nc", data, x, y)
    cached = [read_gridded_rainfall(path, "rainfall", TWIN, member=k)[1] for k in range(3)]
    assert len(remap_calls) == 1
    f = read_forecast(path)
    for k in range(3):
        fresh = f.member_rates(k, TWIN, remap_module.conservative_remap(f.x, f.y, f.crs, TWIN))
        assert np.array_equal(cached[k], fresh)


def test_file_rewritten_in_place_with_another_grid_gets_its_own_remap(tmp_path, remap_calls):
    """Same path, same array shape and values, coordinates shifted by a third of a cell: the new grid's result."""
    x, y = source_axes("EPSG:4326", 0.01, 0.02)
    data = np.random.default_rng(12).uniform(0.0, 40.0, (2, y.size, x.size))
    path = tmp_path / "rain.nc"
    old = read_gridded_rainfall(write_rain(path, data, x, y), "rainfall", TWIN)[1]
    new = read_gridded_rainfall(write_rain(path, data, x + 0.0033, y - 0.0033), "rainfall", TWIN)[1]
    assert len(remap_calls) == 2
    remap_module.clear_cache()
    assert np.array_equal(new, read_gridded_rainfall(path, "rainfall", TWIN)[1])
    assert not np.array_equal(new, old)
