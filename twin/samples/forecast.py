"""A sample rainfall ensemble forecast: a convective cell crossing the sample district.

The file is CF-1.8 netCDF on EPSG:4326 (0.01 deg by default), dims
``(member, time, lat, lon)`` with ``lat`` decreasing (north-up, so rioxarray and GDAL read it as
a north-up raster; :func:`twin.io.rainfall.read_forecast` accepts either order). Variable
``rainfall``: the mean intensity over each interval (``units = "mm h-1"``,
``standard_name = "lwe_precipitation_rate"``, ``cell_methods = "time: mean"``); ``time`` holds the
interval starts as CF datetimes with ``time_bnds``; ``member`` is the CF ``realization``. The
per-member storm parameters are stored alongside (``cell_heading``, ``cell_speed``,
``cell_offset``, ``cell_peak_time``, ``cell_peak_factor``).

The storm is synthetic: one convective cell with the exponential radial profile of the EXCELL
rain-cell model (Capsoni et al. 1987, Radio Sci. 22(3), 395-404),
``R(rho) = R_M exp(-rho / rho_0)``, over a broad stratiform shield of the same form, moving on a
straight track at constant speed, with a Gaussian life cycle in time. Members differ by seeded
draws of the track's heading and cross-track offset, the speed, the time of the peak and the
peak intensity; each member has its own ``numpy.random.Generator`` from
``SeedSequence(seed).spawn(members)``, so member ``k`` does not depend on how many were drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.warp import transform_bounds

from twin.core.citytwin import read_manifest
from twin.core.errors import InputError
from twin.core.rasters import read_grid
from twin.core.atomic import atomic_path
from twin.core.cf import CALENDAR, as_written, global_attrs
from twin.samples.district import CRS, district_bounds

#: Default seed of the sample forecast.
DEFAULT_SEED = 20250715
#: The papers of the synthetic storm (the file's ``references``).
REFERENCES = ("Capsoni, C., Fedi, F., Magistroni, C., Paraboni, A. and Pawlina, A. (1987), Data and theory for a "
              "new model of the horizontal structure of rain cells for propagation applications, Radio Sci. "
              "22(3), 395-404")
#: Mean Earth radius (m), for the local tangent-plane distances.
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class StormParameters:
    """The synthetic storm: mean values and the spread of the member perturbations.

    Attributes
    ----------
    cell_peak_mm_h, shield_peak_mm_h : float
        Peak intensity ``R_M`` (mm/h) of the convective cell and of the stratiform shield.
    cell_rho0_m, shield_rho0_m : float
        e-folding radius ``rho_0`` (m) of the cell and of the shield.
    life_sd_s : float
        Standard deviation (s) of the Gaussian life cycle around the peak time.
    heading_deg, heading_sd_deg : float
        Direction of motion (degrees clockwise from north) and its spread.
    speed_m_s, speed_sd_m_s, min_speed_m_s : float
        Speed of motion (m/s), its spread and the smallest speed drawn.
    offset_sd_m : float
        Spread (m) of the track's cross-track offset from the district centre.
    peak_time_sd_s : float
        Spread (s) of the peak time around the middle of the forecast.
    peak_log_sd : float
        Spread (-) of the natural log of the members' peak-intensity factor (median 1).
    substeps : int
        Instants (midpoint rule) averaged over each output interval.
    """

    cell_peak_mm_h: float = 80.0
    cell_rho0_m: float = 3000.0
    shield_peak_mm_h: float = 4.0
    shield_rho0_m: float = 20_000.0
    life_sd_s: float = 1.5 * 3600.0
    heading_deg: float = 60.0
    heading_sd_deg: float = 15.0
    speed_m_s: float = 3.5
    speed_sd_m_s: float = 1.0
    min_speed_m_s: float = 1.0
    offset_sd_m: float = 3000.0
    peak_time_sd_s: float = 3600.0
    peak_log_sd: float = 0.3
    substeps: int = 12


def district_bounds_lonlat(manifest: str | Path | None = None) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` (degrees, EPSG:4326) of a twin's terrain grid.

    The projected rectangle's edges are densified so the geographic box holds it whole.

    Parameters
    ----------
    manifest : str or Path, optional
        A ``twin.yaml``; only its terrain raster's grid is read (not the whole twin). Default:
        the sample district as :func:`twin.samples.city.generate_sample_city` lays it out with
        its default size (the grid of ``data/sample_city``), computed from the generator's CRS,
        centre and size without reading any file, so it works from an installed package.

    Raises
    ------
    InputError
        Missing or invalid manifest or terrain raster.
    """
    if manifest is None:
        crs, bounds = CRS, district_bounds()
    else:
        m, folder = read_manifest(manifest)
        grid = read_grid(folder / m.rasters.elevation)
        crs, bounds = grid.crs, grid.bounds()
    return tuple(float(v) for v in transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21))


def generate_sample_forecast(twin_bounds_lonlat: tuple[float, float, float, float] | None = None, *,
                             members: int = 10, hours: int = 24, seed: int = DEFAULT_SEED,
                             resolution_deg: float = 0.01, margin_deg: float = 0.1,
                             start: str = "2025-07-15T00:00", step_s: int = 3600,
                             storm: StormParameters = StormParameters()) -> xr.Dataset:
    """A rainfall ensemble with a convective cell crossing a district.

    Parameters
    ----------
    twin_bounds_lonlat : tuple of float, optional
        ``(west, south, east, north)`` of the district (degrees); default: the sample district
        (:func:`district_bounds_lonlat`).
    members : int
        Ensemble size, >= 1.
    hours : int
        Number of output intervals, >= 1.
    seed : int
        Seed of the ``SeedSequence`` the members' generators are spawned from.
    resolution_deg : float
        Grid spacing (degrees), > 0; the grid's edges are multiples of it.
    margin_deg : float
        Margin (degrees), >= 0, added around the district.
    start : str
        Start of the first interval (ISO 8601, UTC).
    step_s : int
        Interval length (s), > 0.
    storm : StormParameters
        The storm's mean values and spreads.

    Returns
    -------
    xarray.Dataset
        See the module docstring; ``rainfall`` in mm/h (float32).

    Raises
    ------
    InputError
        Non-positive members, hours, resolution or step, negative margin, empty bounds, or a
        start that is not an ISO 8601 time.
    """
    w, s, e, n = district_bounds_lonlat() if twin_bounds_lonlat is None else twin_bounds_lonlat
    for name, value, ok, expected in (
            ("members", members, members >= 1, ">= 1"), ("hours", hours, hours >= 1, ">= 1"),
            ("resolution_deg", resolution_deg, resolution_deg > 0, "> 0 degrees"),
            ("margin_deg", margin_deg, margin_deg >= 0, ">= 0 degrees"), ("step_s", step_s, step_s > 0, "> 0 s"),
            ("twin_bounds_lonlat", (w, s, e, n), w < e and s < n, "west < east and south < north")):
        if not ok:
            raise InputError("invalid sample forecast setting", field=name, expected=expected, found=str(value))
    try:
        t0 = np.datetime64(start, "s")
    except ValueError:
        raise InputError("invalid sample forecast setting", field="start",
                         expected="an ISO 8601 UTC time such as 2026-11-25T00:00", found=start) from None
    lon = (np.arange(math.floor((w - margin_deg) / resolution_deg),
                     math.ceil((e + margin_deg) / resolution_deg)) + 0.5) * resolution_deg
    lat = (np.arange(math.ceil((n + margin_deg) / resolution_deg) - 1,
                     math.floor((s - margin_deg) / resolution_deg) - 1, -1) + 0.5) * resolution_deg
    lon0, lat0 = 0.5 * (w + e), 0.5 * (s + n)
    east, north = _tangent_plane(lon, lat, lon0, lat0)
    params = [_draw_member(np.random.default_rng(child), storm, hours * step_s)
              for child in np.random.SeedSequence(seed).spawn(members)]
    rain = np.stack([_member_field(p, storm, east, north, hours, step_s) for p in params]).astype(np.float32)
    starts = t0 + np.arange(hours) * np.timedelta64(step_s, "s")
    bounds = np.stack([starts, starts + np.timedelta64(step_s, "s")], axis=1)
    ds = xr.Dataset(
        {"rainfall": (("member", "time", "lat", "lon"), rain,
                      {"standard_name": "lwe_precipitation_rate", "units": "mm h-1", "cell_methods": "time: mean",
                       "long_name": "mean rainfall intensity over the interval"}),
         "time_bnds": (("time", "nv"), bounds),
         **_parameter_variables(params, t0)},
        coords={"member": ("member", np.arange(members, dtype=np.int32),
                           {"standard_name": "realization", "long_name": "ensemble member", "units": "1"}),
                "time": ("time", starts, {"standard_name": "time", "long_name": "start of interval", "axis": "T",
                                          "bounds": "time_bnds"}),
                "lat": ("lat", lat, {"standard_name": "latitude", "long_name": "latitude of cell centre",
                                     "units": "degrees_north", "axis": "Y"}),
                "lon": ("lon", lon, {"standard_name": "longitude", "long_name": "longitude of cell centre",
                                     "units": "degrees_east", "axis": "X"}),
                "forecast_reference_time": ((), t0, {"standard_name": "forecast_reference_time"})},
        attrs=global_attrs("sample rainfall ensemble forecast (synthetic convective cell)",
                           "synthetic: twin.samples.forecast.generate_sample_forecast", REFERENCES, seed=int(seed),
                           members=int(members),
                           comment="EXCELL exponential cell profile (Capsoni et al. 1987) on a straight track; "
                                   "members perturb heading, cross-track offset, speed, peak time and peak intensity"))
    ds = ds.rio.write_crs("EPSG:4326").rio.set_spatial_dims(x_dim="lon", y_dim="lat")
    units = f"hours since {np.datetime_as_string(t0, unit='s').replace('T', ' ')}"
    for name in ("time", "time_bnds", "cell_peak_time", "forecast_reference_time"):
        ds[name].encoding.update({"units": units, "calendar": CALENDAR, "dtype": "float64"})
    ds["rainfall"].encoding.update({"zlib": True, "complevel": 4, "dtype": "float32"})
    return ds


def write_sample_forecast(out: str | Path, twin_bounds_lonlat: tuple[float, float, float, float] | None = None,
                          members: int = 10, hours: int = 24, seed: int = DEFAULT_SEED, **options) -> Path:
    """Write :func:`generate_sample_forecast` to ``out`` (netCDF4; :func:`twin.core.cf.as_written`), atomically.

    Parameters
    ----------
    out : str or Path
        Output file.
    twin_bounds_lonlat, members, hours, seed, **options
        As :func:`generate_sample_forecast`.

    Returns
    -------
    Path
        ``out``.
    """
    ds = as_written(generate_sample_forecast(twin_bounds_lonlat, members=members, hours=hours, seed=seed, **options))
    out = Path(out)
    with atomic_path(out) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    return out


def _tangent_plane(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """East and north distances (m) of grid points ``(lat, lon)`` from ``(lon0, lat0)`` on the local tangent plane.

    ``east = R cos(lat0) (lon - lon0)``, ``north = R (lat - lat0)`` with angles in radians and
    ``R`` = :data:`EARTH_RADIUS_M` (equirectangular approximation, relative error below 1e-3
    over a few tens of km).
    """
    k = math.pi / 180.0 * EARTH_RADIUS_M
    lon2, lat2 = np.meshgrid(lon, lat)
    return k * math.cos(math.radians(lat0)) * (lon2 - lon0), k * (lat2 - lat0)


def _draw_member(rng: np.random.Generator, p: StormParameters, duration_s: float) -> dict:
    """One member's storm: heading (deg), speed (m/s), offset (m), peak time (s), peak factor (-)."""
    return {"heading": p.heading_deg + p.heading_sd_deg * rng.standard_normal(),
            "speed": max(p.min_speed_m_s, p.speed_m_s + p.speed_sd_m_s * rng.standard_normal()),
            "offset": p.offset_sd_m * rng.standard_normal(),
            "peak_time": float(np.clip(0.5 * duration_s + p.peak_time_sd_s * rng.standard_normal(), 0, duration_s)),
            "peak_factor": float(np.exp(p.peak_log_sd * rng.standard_normal()))}


def _member_field(m: dict, p: StormParameters, east: np.ndarray, north: np.ndarray, hours: int,
                  step_s: float) -> np.ndarray:
    """Mean intensity (mm/h) over each interval, shape ``(hours, ny, nx)``.

    At time ``t`` the storm centre is at ``offset * r + speed * (t - t_peak) * u`` (``u`` the
    unit vector of the heading, ``r`` its right-hand normal) and the intensity at distance
    ``rho`` from it is ``g(t) f [R_c exp(-rho / rho_c) + R_s exp(-rho / rho_s)]`` (EXCELL
    profile, Capsoni et al. 1987), with ``g(t) = exp(-(t - t_peak)^2 / (2 sigma_t^2))`` and
    ``f`` the member's peak factor; each interval's mean is the midpoint rule over
    ``p.substeps`` instants.
    """
    theta = math.radians(m["heading"])
    u = np.array([math.sin(theta), math.cos(theta)])
    r = np.array([math.cos(theta), -math.sin(theta)])
    out = np.empty((hours, *east.shape))
    for k in range(hours):
        acc = np.zeros(east.shape)
        for j in range(p.substeps):
            t = (k + (j + 0.5) / p.substeps) * step_s
            cx, cy = m["offset"] * r + m["speed"] * (t - m["peak_time"]) * u
            rho = np.hypot(east - cx, north - cy)
            life = math.exp(-0.5 * ((t - m["peak_time"]) / p.life_sd_s) ** 2)
            acc += life * (p.cell_peak_mm_h * np.exp(-rho / p.cell_rho0_m)
                           + p.shield_peak_mm_h * np.exp(-rho / p.shield_rho0_m))
        out[k] = m["peak_factor"] * acc / p.substeps
    return out


def _parameter_variables(params: list[dict], t0: np.datetime64) -> dict:
    peak = t0 + np.array([round(q["peak_time"]) for q in params]).astype("timedelta64[s]")
    return {
        "cell_heading": ("member", [q["heading"] for q in params],
                         {"long_name": "direction of motion of the storm, clockwise from north", "units": "degree"}),
        "cell_speed": ("member", [q["speed"] for q in params], {"long_name": "storm speed", "units": "m s-1"}),
        "cell_offset": ("member", [q["offset"] for q in params],
                        {"long_name": "cross-track offset of the track from the district centre (right of motion)",
                         "units": "m"}),
        "cell_peak_time": ("member", peak, {"long_name": "time of the storm's peak and of its closest approach"}),
        "cell_peak_factor": ("member", [q["peak_factor"] for q in params],
                             {"long_name": "factor on the storm's peak intensities", "units": "1"}),
    }
