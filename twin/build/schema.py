"""The build file (``BUILD.yaml``): which sources make a twin and how, validated before anything is read.

Every key but ``crs``, ``cell``, ``dem`` and ``buildings.file`` has a documented default
(``docs/build.md``); unknown keys are errors, and every schema error is reported at once with its
YAML path and line (:func:`twin.core.validation.validate`). Lengths are metres. Paths stay as
written and are resolved against the build file's folder by :meth:`BuildFile.resolve`.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from twin.core.classes import BUILDING_USE, LANDCOVER
from twin.core.errors import InputError
from twin.core.rasters import BUILDING_HEIGHT_MAX_M
from twin.core.validation import validate
from twin.core.yamlio import format_path, line_of, load_yaml_with_lines
from twin.io.run_folders import MAX_NAME_BYTES, NAME_PATTERN

#: Smallest and largest cell size (m) of a built twin.
CELL_RANGE_M = (0.25, 100.0)
#: Deepest channel (m) that ``water.burn_depth_m`` may cut into the terrain.
MAX_BURN_DEPTH_M = 30.0
#: Land-cover classes a source class may map to (``building`` comes from the footprints only).
LANDCOVER_CLASSES = tuple(name for name in LANDCOVER if name != "building")


def _code_text(value: object) -> str:
    """A class code as the text it is matched by: ``1`` and ``"1"`` alike, ``1.0`` as ``"1"``."""
    if isinstance(value, bool):
        raise ValueError("a code is a number or a text, not true/false")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, (int, float, str)):
        raise ValueError(f"a code is a number or a text; found {type(value).__name__}")
    return str(value)


#: A source class code (``"01000"``, ``11``), kept as text; quote codes with leading zeros.
Code = Annotated[str, BeforeValidator(_code_text)]


def _projected(text: str) -> str:
    """Check a target CRS: known to pyproj, projected, in metres."""
    import pyproj

    try:
        crs = pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise ValueError("not a valid CRS; expected e.g. EPSG:5186") from None
    if crs.is_geographic or not crs.is_projected:
        raise ValueError(f"{crs.name} is geographic (degrees); the twin's grid needs a projected CRS in metres, "
                         "e.g. EPSG:5186 (Korea) or the local UTM zone (EPSG:326NN)")
    units = {axis.unit_name.lower() for axis in crs.axis_info}
    if not units <= {"metre", "meter", "m"}:
        raise ValueError(f"the CRS's units are {', '.join(sorted(units))}; expected metres")
    return text


def _one_or_more(value: object) -> object:
    """A single path is a list of one."""
    return [value] if isinstance(value, str) else value


class Block(BaseModel):
    """Base of every block of the build file: frozen, unknown keys refused, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ClassMap(Block):
    """Source codes mapped to our classes: ``{column, map: {class: [codes]}, default}``.

    ``column`` is the vector layer's column holding the code (none for a raster); ``default`` is
    the class of codes the map does not list (then a warning, else an error listing them).
    """

    column: str | None = None
    map: dict[str, list[Code]] = {}
    default: str | None = None

    def check_classes(self, classes: tuple[str, ...]) -> "ClassMap":
        """Refuse class names outside ``classes`` and a code listed under two classes."""
        for name in [*self.map, *([self.default] if self.default else [])]:
            if name not in classes:
                raise ValueError(f"unknown class {name!r}; expected one of {', '.join(classes)}")
        seen: dict[str, str] = {}
        for name, codes in self.map.items():
            for code in codes:
                if code in seen and seen[code] != name:
                    raise ValueError(f"code {code!r} is listed under both {seen[code]} and {name}")
                seen[code] = name
        return self


class Height(Block):
    """Building heights: ``{column}`` (m), or ``{floors, storey_m}``; ``default_m`` where missing."""

    column: str | None = None
    floors: str | None = None
    storey_m: Annotated[float, Field(gt=1.5, le=10.0)] = 3.0
    default_m: Annotated[float, Field(gt=0, le=BUILDING_HEIGHT_MAX_M)] = 9.0

    @model_validator(mode="after")
    def _one_source(self):
        if self.column is not None and self.floors is not None:
            raise ValueError("give column (a height in m) or floors (times storey_m), not both")
        return self


class Use(ClassMap):
    """Building use: source codes mapped to residential, commercial, industrial, public."""

    @model_validator(mode="after")
    def _classes(self):
        if self.map and self.column is None:
            raise ValueError("column: the column holding the use codes is required with a map")
        return self.check_classes(tuple(BUILDING_USE))


class Value(Block):
    """Building values: the column holding each building's replacement value (KRW)."""

    column: str


class FirstFloor(Block):
    """First-floor heights: the column holding each building's first-floor height above the ground (m)."""

    column: str


class Buildings(Block):
    """The ``buildings:`` block: the footprint layer and how its columns become twin fields."""

    file: str
    layer: str | None = None
    id: str | None = None
    height: Height = Height()
    use: Use = Use()
    value: Value | None = None
    first_floor_height: FirstFloor | None = None
    small: Literal["centroid", "all_touched"] = "centroid"


class LandcoverClasses(ClassMap):
    """Land-cover classes of a source: codes mapped to water, road, grass, forest, bare, urban_open."""

    @model_validator(mode="after")
    def _classes(self):
        if not self.map and self.default is None:
            raise ValueError("map: give the source codes of each class (or a default class for all)")
        return self.check_classes(LANDCOVER_CLASSES)


class Landcover(Block):
    """The ``landcover:`` block: polygons with a class column, or a raster of codes; ``fill`` elsewhere."""

    file: str
    layer: str | None = None
    classes: Annotated[LandcoverClasses, Field(alias="class")]
    fill: Literal[LANDCOVER_CLASSES] = "urban_open"  # type: ignore[valid-type]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Width(Block):
    """Widths of line features (m): a column and the width where it is missing."""

    column: str | None = None
    default_m: Annotated[float, Field(gt=0, le=1000.0)]


class Roads(Block):
    """The ``roads:`` block: road lines (buffered by their width) or polygons, painted as land cover road."""

    file: str
    layer: str | None = None
    width: Width = Width(default_m=8.0)


class Water(Block):
    """The ``water:`` block: rivers and lakes (lines buffered by width, or polygons) painted as water,
    optionally burned ``burn_depth_m`` into the terrain."""

    file: str
    layer: str | None = None
    width: Width = Width(default_m=10.0)
    burn_depth_m: Annotated[float, Field(ge=0, le=MAX_BURN_DEPTH_M)] = 0.0


class Dem(Block):
    """The ``dem:`` block: raster files or glob patterns, mosaicked and reprojected; ``fill_holes``
    fills nodata holes inside the domain (else they are an error)."""

    files: Annotated[list[str], Field(min_length=1), BeforeValidator(_one_or_more)]
    fill_holes: bool = True


def _dem_block(value: object) -> object:
    """``dem: tiles/*.tif`` or ``dem: [a.tif, b.tif]`` is ``dem: {files: [...]}``."""
    return {"files": value} if isinstance(value, (str, list)) else value


class BuildConfig(Block):
    """A build file: target grid (``crs``, ``cell``, ``extent``), the sources and their mapping."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_BYTES, pattern=NAME_PATTERN.pattern)]
    crs: Annotated[str, AfterValidator(_projected)]
    cell: Annotated[float, Field(ge=CELL_RANGE_M[0], le=CELL_RANGE_M[1])]
    extent: tuple[float, float, float, float] | None = None
    margin_m: Annotated[float, Field(ge=0, le=10_000.0)] = 50.0
    dem: Annotated[Dem, BeforeValidator(_dem_block)]
    buildings: Buildings
    landcover: Landcover | None = None
    roads: Roads | None = None
    water: Water | None = None

    @model_validator(mode="after")
    def _extent(self):
        if self.extent is not None:
            x0, y0, x1, y1 = self.extent
            if not (x1 - x0 >= self.cell and y1 - y0 >= self.cell):
                raise ValueError(f"extent: [x0, y0, x1, y1] with x1 > x0 and y1 > y0 by at least one cell "
                                 f"({self.cell:g} m); found {list(self.extent)}")
        return self


@dataclass(frozen=True)
class BuildFile:
    """A build file with where it came from: its path and the line of every YAML path."""

    config: BuildConfig
    path: Path
    lines: dict

    def resolve(self, relative: str, field: tuple) -> Path:
        """A path of the build file, resolved against its folder (``~`` expanded)."""
        if "\0" in relative:
            raise self.error(field, "a path holds a NUL byte", found=repr(relative))
        try:
            p = Path(relative).expanduser()
        except RuntimeError as exc:  # ~user of an unknown user
            raise self.error(field, f"cannot expand the path: {exc}", found=relative) from None
        return p if p.is_absolute() else self.path.parent / p

    def error(self, field: tuple, message: str, **kw) -> InputError:
        """An InputError at ``field`` (a YAML path) of this build file, with its line."""
        return InputError(message, file=self.path, field=format_path(field), line=line_of(self.lines, field), **kw)

    def dem_files(self) -> list[Path]:
        """The DEM rasters: each entry of ``dem.files`` as a file, or as a glob pattern (sorted matches).

        Raises
        ------
        InputError
            For an entry that is neither an existing path nor a pattern matching a file.
        """
        files: list[Path] = []
        written = ("dem", "files") if ("dem", "files") in self.lines else ("dem",)
        for k, entry in enumerate(self.config.dem.files):
            path = self.resolve(entry, written + (k,))
            if glob.has_magic(str(path)):
                matches = sorted(Path(p) for p in glob.glob(str(path)) if Path(p).is_file())
                if not matches:
                    raise self.error(written + (k,), "no file matches the pattern", found=str(path))
                files += matches
            else:
                files.append(path)
        return files


def read_build_file(path: str | Path) -> BuildFile:
    """Read and validate a build file (safe YAML loader, every schema error at once with its line).

    Parameters
    ----------
    path : str or Path
        The build YAML file; ``name`` defaults to its stem.

    Raises
    ------
    InputError
        Missing or unreadable file, invalid YAML, schema errors (each with path and line), a
        geographic target CRS.
    """
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise InputError("a build file is a YAML mapping", file=path, expected="keys crs, cell, dem, buildings",
                         found=type(data).__name__)
    data = {"name": path.stem, **data}
    return BuildFile(validate(BuildConfig, data, lines, path), path, lines)
