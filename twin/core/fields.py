"""The field registry: every twin and result field declared once.

Each :class:`Field` gives the name, units, dtype, long name, CF ``standard_name`` (only a name of
the CF standard-name table; the long name alone where the table has none), CF ``cell_methods``
(for statistics: ``"time: maximum"``, ``"time: point"``, ``"realization: mean"``), whether the field is continuous or a class code (which decides bilinear or nearest
resampling) and its fill value. netCDF and GeoTIFF attributes are generated from here with
:func:`cf_attrs`, never typed twice. A registry (:class:`FieldRegistry`) is immutable: the twin's
fields are :data:`TWIN_FIELDS`; the hazards' and risk fields are declared by the hazards
(:attr:`twin.hazards.registry.HazardRegistry.fields` holds them all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class Field:
    """One declared field.

    Attributes
    ----------
    name : str
        Variable name in datasets and files.
    units : str
        UDUNITS string (``"m"``, ``"m s-1"``, ``"1"`` for dimensionless, ``""`` for codes).
    dtype : str
        numpy dtype name.
    long_name : str
        Human-readable meaning.
    standard_name : str or None
        CF standard name, where the CF standard-name table has one for the quantity.
    kind : str
        ``"continuous"`` or ``"class"``; class codes are resampled with nearest neighbour.
    fill : float or int
        Value of cells outside the domain.
    cell_methods : str or None
        CF ``cell_methods`` of a statistic (CF-1.8 section 7.3), e.g. ``"time: maximum"`` for a
        maximum over the run, ``"time: point"`` for a value at one instant.
    """

    name: str
    units: str
    dtype: str
    long_name: str
    standard_name: str | None = None
    kind: str = "continuous"
    fill: float | int = 0
    cell_methods: str | None = None

    @property
    def is_class(self) -> bool:
        """True for class codes (nearest-neighbour resampling, integer dtype)."""
        return self.kind == "class"


_TWIN_FIELDS = [
    Field("elevation", "m", "float64", "terrain elevation above sea level",
          "surface_altitude", fill=np.nan),
    Field("building_height", "m", "float64", "building height above ground (0 where no building)", fill=0.0),
    Field("building_id", "1", "int32", "building identifier (0 = no building)", kind="class"),
    Field("building_use", "1", "int8",
          "building use class (0 none, 1 residential, 2 commercial, 3 industrial, 4 public)", kind="class"),
    Field("landcover", "1", "int8",
          "land cover class (1 water, 2 road, 3 building, 4 grass, 5 forest, 6 bare, 7 urban open)",
          kind="class"),
    Field("fuel_model", "1", "int16",
          "fire behaviour fuel model number (Anderson 1-13, Scott & Burgan 91-204)", kind="class"),
    Field("manning_n", "s m-1/3", "float64", "Manning roughness coefficient", fill=0.0),
    Field("domain_mask", "1", "int8", "1 inside the modelled domain, 0 outside", kind="class"),
]

class FieldRegistry(Mapping):
    """An immutable set of field declarations by name; a lookup's error lists the declared names.

    Built once from its fields (no registration at import or at run time); :meth:`merged` gives a
    new registry. A name may be declared twice only with the same declaration.
    """

    def __init__(self, fields=()):
        table: dict[str, Field] = {}
        for f in fields:
            if f.name in table and table[f.name] != f:
                raise ValueError(f"field {f.name!r} is declared twice, differently: {table[f.name]} and {f}")
            table[f.name] = f
        self._table = MappingProxyType(table)

    def __getitem__(self, name: str) -> Field:
        try:
            return self._table[name]
        except KeyError:
            raise KeyError(f"undeclared field {name!r}; declared fields: {', '.join(sorted(self._table))}") from None

    def __iter__(self):
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __reduce__(self):
        return FieldRegistry, (tuple(self.values()),)

    def merged(self, *others) -> "FieldRegistry":
        """A registry of this one's fields and those of ``others`` (registries or fields)."""
        more = [f for o in others for f in (o.values() if isinstance(o, Mapping) else [o])]
        return FieldRegistry([*self.values(), *more])

    def cf_attrs(self, name: str) -> dict:
        """CF attributes of the declared field ``name`` (:func:`cf_attrs`)."""
        return cf_attrs(self[name])


def cf_attrs(f: Field) -> dict:
    """CF attributes (units, long_name, and standard_name and cell_methods where declared) of a field."""
    attrs = {"units": f.units, "long_name": f.long_name}
    if f.standard_name:
        attrs["standard_name"] = f.standard_name
    if f.cell_methods:
        attrs["cell_methods"] = f.cell_methods
    return attrs


#: The twin's fields.
TWIN_FIELDS = FieldRegistry(_TWIN_FIELDS)
