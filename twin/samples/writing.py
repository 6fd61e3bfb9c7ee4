"""Writing a sample city: GeoTIFFs, the ``twin.yaml`` manifest and the README text."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import yaml

from twin.core.classes import BUILDING_USE, LANDCOVER
from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS
from twin.samples.district import CITY_HALL_LONLAT, NAME, RASTER_FILES, SampleCity

#: Storage dtype and nodata of each written raster. Elevation is stored as float32 (steps of
#: 0.015 mm at 128-256 m); 0 in the building rasters means "no building", not "no data", so
#: they have no nodata value; land-cover code 0 means unknown.
_STORAGE = {
    "elevation": ("float32", float("nan")),
    "building_height": ("float64", None),
    "building_id": ("int32", None),
    "building_use": ("int8", None),
    "landcover": ("int8", 0),
}


def write_sample_city(city: SampleCity, out_dir: str | Path) -> Path:
    """Write the city as GeoTIFFs, a ``twin.yaml`` manifest and a README into ``out_dir``.

    The files are written into a temporary sibling folder which is then renamed into place,
    so ``out_dir`` never holds a half-written city. An existing ``out_dir`` is replaced only if
    it holds nothing but files of a sample city.

    Parameters
    ----------
    city : SampleCity
        The generated city.
    out_dir : str or Path
        Destination folder.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    InputError
        If ``out_dir`` exists and holds files other than a sample city's.
    """
    out_dir = Path(out_dir)
    ours = {*RASTER_FILES.values(), "twin.yaml", "README.md"}
    if out_dir.exists():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
        if foreign:
            raise InputError("output folder holds other files; refusing to replace it",
                             file=out_dir, expected="an empty or sample-city folder",
                             found=", ".join(foreign[:5]))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, array in city.rasters().items():
            _write_raster(tmp / RASTER_FILES[name], name, array, city)
        manifest = {"name": NAME, "crs": city.crs, "rasters": dict(RASTER_FILES)}
        (tmp / "twin.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        (tmp / "README.md").write_text(readme_text(city, out_dir))
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            out_dir.rename(old / out_dir.name)
            tmp.rename(out_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out_dir


def _write_raster(path: Path, name: str, array: np.ndarray, city: SampleCity) -> None:
    """One tiled, deflate-compressed single-band GeoTIFF with the field's CF attributes."""
    dtype, nodata = _STORAGE[name]
    ny, nx = array.shape
    profile = dict(driver="GTiff", width=nx, height=ny, count=1, dtype=dtype, crs=city.crs,
                   transform=city.transform, nodata=nodata, tiled=True, blockxsize=256,
                   blockysize=256, compress="deflate",
                   predictor=3 if dtype.startswith("float") else 2)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype(dtype), 1)
        attrs = TWIN_FIELDS.cf_attrs(name)
        dst.update_tags(1, **attrs)
        dst.set_band_description(1, attrs["long_name"])
        dst.units = (attrs["units"],)


def readme_text(city: SampleCity, out_dir: str | Path) -> str:
    """The README of a written sample city: fields, codes, size, figures and the command.

    Parameters
    ----------
    city : SampleCity
        The city the README describes.
    out_dir : str or Path
        The folder, as given to :func:`write_sample_city` (it appears in the command line).

    Returns
    -------
    str
        Markdown text.
    """
    ny, nx = city.shape
    cell = city.cell
    t = city.transform
    lc = city.landcover
    n_build = int(city.building_id.max())
    # one value per building: ids are contiguous rectangles, so first-cell lookup is exact
    first = np.unique(city.building_id.ravel(), return_index=True)[1][1:]
    per_building = city.building_use.ravel()[first]
    counts = np.bincount(per_building, minlength=5)
    heights = city.building_height.ravel()[first]
    rows = []
    for name in RASTER_FILES:
        f = TWIN_FIELDS[name]
        dtype, nodata = _STORAGE[name]
        rows.append(f"| `{RASTER_FILES[name]}` | {dtype} | {f.units or '-'} | "
                    f"{'none' if nodata is None else nodata} | {f.long_name} |")
    shares = "\n".join(f"  - {k} {100 * np.mean(lc == v):.1f} %" for k, v in LANDCOVER.items())
    command = (f"twin sample-city --size-m {nx * cell:g} --cell {cell:g} "
               f"--seed {city.seed} --out {Path(out_dir).as_posix()}")
    water = lc == LANDCOVER["water"]
    relief = city.elevation - np.where(water, city.elevation, np.inf).min(axis=1)[:, None]
    centre = np.array([np.flatnonzero(row).mean() for row in water])[:, None]
    cols = np.arange(nx)[None, :]
    west, east = relief[cols < centre].max(), relief[cols > centre].max()
    uses = ", ".join(f"{counts[v]} {k}" for k, v in BUILDING_USE.items())
    return f"""# Sample city: a synthetic Daejeon-like district

Synthetic test data for the flood and fire models; **not survey data**. Generated by
`twin/samples/city.py` (see its module docstring for the design); do not edit these files by hand,
regenerate them:

    {command}

`tests/test_sample_city.py` checks that the committed copy equals what the generator produces.

## Grid

- CRS `{city.crs}` (Korea 2000 / Central Belt 2010), metres; centred on Daejeon city hall
  ({CITY_HALL_LONLAT[1]} N, {CITY_HALL_LONLAT[0]} E).
- {ny} rows x {nx} columns of {cell:g} m cells ({nx * cell / 1000:g} km x {ny * cell / 1000:g} km),
  north-up; north-west corner at easting {t.c:.0f} m, northing {t.f:.0f} m.
- Rows run north to south (row 0 at the north edge), as rasterio reads them.

## Files

`twin.yaml` lists the rasters (paths relative to it). Each GeoTIFF is single-band, tiled and
deflate-compressed, with the field's units and long name as band tags.

| file | dtype | units | nodata | meaning |
|---|---|---|---|---|
{chr(10).join(rows)}

Land-cover codes: {", ".join(f"{v} {k}" for k, v in LANDCOVER.items())}.
Building-use codes: 0 none, {", ".join(f"{v} {k}" for k, v in BUILDING_USE.items())}.
Building cells have land cover 3, a height above 0, an id above 0 and a use of 1-4; all other
cells have height 0, id 0 and use 0. Ids 1..N are contiguous; each building is one rectangle.

## What is in it

- A river flowing north to south (bankfull 24-36 m wide, 2.5-3.5 m deep, meandering gently),
  its bed the lowest land of every row and falling 1 m per km; the river is continuous water
  (bridges are not represented).
- A floodplain rising 0.4 % away from the river with 0-1 m of smooth micro-relief; hills on the
  west and east rising {west:.0f} m and {east:.0f} m above the river bed (forest, grass at the
  urban edge).
- A street grid (10-25 m local roads, 40 m arterials) with road-width underpasses 2-4 m deep on
  arterials, where water ponds.
- {n_build} buildings ({uses}),
  heights {heights.min():g}-{heights.max():g} m: a commercial core, apartment slabs and low-rise
  housing, an industrial strip by the river, public buildings, a riverside park, city parks and
  construction sites (bare).
- Elevation {float(np.nanmin(city.elevation)):.2f}-{float(np.nanmax(city.elevation)):.2f} m a.s.l.
- Land-cover shares:
{shares}
"""

