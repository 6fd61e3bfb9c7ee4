"""Vector layers (a build's footprints, land use, roads, rivers; a scenario's areas and gauges): opened,
checked, read onto the grid's CRS.

Any vector format OGR reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet, ...) in any
CRS, through pyogrio. :func:`open_layer` checks the file, the layer and its CRS from the layer's
metadata alone; :func:`read_layer` reads the features that touch the grid's extent, reprojects
them to the grid's CRS (pyproj, through geopandas) and repairs invalid geometries with shapely's
``make_valid`` (the ``structure`` method keeps polygons polygons), counting what it repaired and
what it dropped.

Errors name the file that names the layer (a build file, a scenario, a twin manifest) and the YAML
path of the block, through the ``error`` callable the layer is opened with (:data:`ErrorAt`:
``BuildFile.error``, ``ScenarioFile.error``), so that this module knows no file format of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer

from twin.core.errors import InputError
from twin.core.grid import Grid

#: ``error(field, message, **kw)``: the InputError at YAML path ``field`` of the file naming a layer
#: (keywords as :class:`twin.core.errors.InputError`'s: ``expected``, ``found``).
ErrorAt = Callable[..., InputError]

#: Geometry kinds a layer may hold, by what it is used for.
POINTS = ("Point",)
POLYGONS = ("Polygon", "MultiPolygon")
LINES_OR_POLYGONS = ("LineString", "MultiLineString", *POLYGONS)
#: Points per edge when a bounding box is reprojected (its edges bend in another CRS).
_DENSIFY = 21
#: Column names the build adds to features; a source column of such a name is kept as ``NAME_source``.
_OURS = ("source_fid", "building_id")
_OURS_PREFIX = "twin_"


@dataclass(frozen=True)
class Layer:
    """A vector layer opened by :func:`open_layer`.

    Attributes
    ----------
    path : Path
        The file.
    name : str
        The layer's name.
    crs : pyproj.CRS
        The layer's CRS.
    columns : tuple of str
        Its attribute columns.
    features : int
        Its number of features.
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in the layer's CRS.
    block : tuple
        The YAML path of the block that names the layer (for errors).
    error : ErrorAt
        Makes the errors about the layer, at a YAML path of the file that names it.
    """

    path: Path
    name: str
    crs: CRS
    columns: tuple
    features: int
    bounds: tuple
    block: tuple
    error: ErrorAt

    def describe(self) -> str:
        """``file (layer NAME)``, as messages name the layer."""
        return f"{self.path} (layer {self.name!r})"


def open_layer(path: Path, layer: str | None, block: tuple, error: ErrorAt) -> Layer:
    """Open layer ``layer`` (the only one when None) of the file ``path``, from its metadata alone.

    Parameters
    ----------
    path : Path
        The vector file, resolved.
    layer : str or None
        The layer's name.
    block : tuple
        The YAML path of the block naming the file (its ``file`` and ``layer`` keys).
    error : ErrorAt
        Makes the errors (``BuildFile.error``, ``ScenarioFile.error``).

    Raises
    ------
    InputError
        At the block's ``file`` or ``layer`` key: missing or unreadable file, a missing layer (the
        layers it holds listed), several layers and none named, a layer without a CRS.
    """
    if not path.exists():
        raise error(block + ("file",), "file not found", found=str(path))
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except DataSourceError as exc:
        raise error(block + ("file",), f"not a readable vector file ({exc})", found=str(path),
                       expected="GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet or another OGR format"
                       ) from None
    if layer is None and len(names) != 1:
        raise error(block + ("file",), f"{path} holds {len(names)} layers; name one with 'layer:'",
                       expected=", ".join(names) or "a layer")
    name = names[0] if layer is None else layer
    if name not in names:
        raise error(block + ("layer",), f"no such layer in {path}", expected=f"one of {', '.join(names)}",
                       found=name)
    try:
        info = pyogrio.read_info(path, layer=name, force_feature_count=True, force_total_bounds=True)
    except (DataLayerError, DataSourceError) as exc:
        raise error(block + ("layer",), f"cannot read layer {name!r} of {path}: {exc}") from None
    if info["crs"] is None:
        raise error(block + ("file",), f"layer {name!r} of {path} has no CRS; declare it "
                       "(e.g. ogr2ogr -a_srs EPSG:5186)", found="no CRS")
    return Layer(path, name, CRS.from_user_input(info["crs"]), tuple(str(c) for c in info["fields"]),
                 int(info["features"]), tuple(float(v) for v in info["total_bounds"]), block, error)


def check_column(layer: Layer, field: tuple, column: str | None) -> None:
    """Refuse a configured column (at YAML path ``field``) the layer does not have, listing the columns it has."""
    if column is not None and column not in layer.columns:
        raise layer.error(field, f"no column {column!r} in {layer.describe()}",
                       expected=f"one of {', '.join(layer.columns) or '(no columns)'}", found=column)


def read_name(column: str) -> str:
    """The name a source column has in a frame read by :func:`read_layer` (``NAME_source`` for ours)."""
    return f"{column}_source" if column in _OURS or column.startswith(_OURS_PREFIX) else column


def bounds_in(bounds: tuple, src: CRS, dst: CRS) -> tuple:
    """A bounding box ``(xmin, ymin, xmax, ymax)`` in ``src`` as the box holding it in ``dst``."""
    if src == dst:
        return tuple(bounds)
    return Transformer.from_crs(src, dst, always_xy=True).transform_bounds(*bounds, densify_pts=_DENSIFY)


@dataclass
class LayerCounts:
    """What reading a layer counted: features read, outside the extent, without geometry, repaired, dropped."""

    features: int = 0
    outside_extent: int = 0
    no_geometry: int = 0
    repaired: int = 0
    empty_after_repair: int = 0
    read: int = 0


def read_layer(layer: Layer, grid: Grid, kinds: tuple[str, ...], columns=None, clip: bool = True):
    """Read the features of ``layer`` that touch the grid (every feature, without ``clip``), in the grid's
    CRS, valid, of ``kinds``.

    Parameters
    ----------
    layer : Layer
        From :func:`open_layer`.
    grid : Grid
        The twin's grid (its extent and CRS).
    kinds : tuple of str
        Geometry types allowed (:data:`POLYGONS`, :data:`LINES_OR_POLYGONS`).
    columns : list of str, optional
        Attribute columns to read (default: all).
    clip : bool
        Keep only the features touching the grid's extent (default); else all, for a caller that
        refuses those off the grid.

    Returns
    -------
    gdf : geopandas.GeoDataFrame
        The features, reprojected and repaired, with their OGR feature id in ``source_fid`` and
        ``twin_repaired`` (bool) telling which geometries ``make_valid`` changed; a source column
        named ``source_fid``, ``building_id`` or ``twin_*`` is renamed ``NAME_source``.
    counts : LayerCounts

    Raises
    ------
    InputError
        A feature of a geometry type not in ``kinds`` (its feature id named).
    """
    import geopandas as gpd

    counts = LayerCounts(features=layer.features)
    bbox = bounds_in(grid.bounds(), CRS.from_user_input(grid.crs.to_wkt()), layer.crs)
    frame = pyogrio.read_dataframe(layer.path, layer=layer.name, columns=columns, bbox=bbox if clip else None,
                                   fid_as_index=True)
    frame = frame.rename(columns={c: read_name(c) for c in frame.columns if c != frame.geometry.name})
    frame.index.name = "source_fid"
    frame = frame.reset_index()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    counts.no_geometry = int(missing.sum())
    frame = frame[~missing]
    _check_kinds(layer, frame, kinds)
    frame = frame.to_crs(grid.crs.to_wkt())
    geoms = np.asarray(frame.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    counts.repaired = int(invalid.sum())
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    frame["twin_repaired"] = invalid
    empty = shapely.is_empty(geoms)
    counts.empty_after_repair = int(empty.sum())
    frame = frame[~empty]
    if clip:
        frame = frame[shapely.intersects(np.asarray(frame.geometry.values, dtype=object), shapely.box(*grid.bounds()))]
    counts.read = len(frame)
    counts.outside_extent = counts.features - counts.read - counts.no_geometry - counts.empty_after_repair
    return frame.reset_index(drop=True), counts


def _check_kinds(layer: Layer, frame, kinds: tuple[str, ...]) -> None:
    """Refuse features whose geometry type is not one of ``kinds``, naming the first one's feature id."""
    types = frame.geometry.geom_type.to_numpy()
    bad = ~np.isin(types, kinds)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        found = sorted(set(types[bad]))
        raise layer.error(layer.block + ("file",), f"{int(bad.sum())} features of {layer.describe()} are "
                       f"{', '.join(found)} (first: feature id {frame['source_fid'].iloc[first]})",
                       expected=" or ".join(kinds), found=", ".join(found))
