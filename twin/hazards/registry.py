"""The hazard registry: the one place that knows which hazards exist.

:data:`HAZARDS` holds the hazards this project ships (flood, fire). A registry is immutable:
:meth:`HazardRegistry.with_hazard` gives a new one with one more hazard (how a test or a plugin
adds a hazard without touching a project module), and the run pipeline takes the registry to
use (default :data:`HAZARDS`); :func:`load_scenario` reads a scenario file with the schema of a
registry's hazards. :func:`get_hazard` is the lookup in the style of pysteps'
``get_method``: its error lists the known names.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType

from twin.core.errors import InputError
from twin.core.fields import TWIN_FIELDS, FieldRegistry
from twin.hazards.fire import FIRE
from twin.hazards.flood import FLOOD
from twin.hazards.interface import NOISE_STREAM, Hazard
from twin.hazards.scenario_model import scenario_model
from twin.scenario.schema import ScenarioFile, read_scenario

class HazardRegistry(Mapping):
    """An immutable set of hazards by name.

    Parameters
    ----------
    hazards : iterable of Hazard
        Names unique; perturbation names and streams unique over all hazards, none on
        :data:`NOISE_STREAM`; their field declarations must agree where names are shared.
    """

    def __init__(self, hazards):
        table = {}
        for h in hazards:
            if h.name in table:
                raise ValueError(f"hazard {h.name!r} is registered twice")
            table[h.name] = h
        self._table = MappingProxyType(table)
        perturbations = [p for h in table.values() for p in h.perturbations]
        names = [p.name for p in perturbations]
        streams = [p.stream for p in perturbations]
        if len(set(names)) < len(names) or len(set(streams)) < len(streams) or NOISE_STREAM in streams:
            raise ValueError(f"perturbation names {names} and streams {streams} must be unique, and no stream "
                             f"may be {NOISE_STREAM} (the members' noise)")

    def __getitem__(self, name: str) -> Hazard:
        return self._table[name]

    def __iter__(self):
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __reduce__(self):
        return HazardRegistry, (tuple(self.values()),)

    def with_hazard(self, hazard: Hazard) -> "HazardRegistry":
        """A new registry with ``hazard`` added (this one is unchanged)."""
        return HazardRegistry([*self.values(), hazard])

    @cached_property
    def fields(self) -> FieldRegistry:
        """Every declared field: the twin's, and each hazard's maps and risk maps."""
        return TWIN_FIELDS.merged(*(h.all_fields for h in self.values()))

    @cached_property
    def scenario_model(self) -> type:
        """The scenario schema with these hazards (:func:`twin.hazards.scenario_model.scenario_model`)."""
        return scenario_model(self)

    def home_models(self, namespace: dict) -> None:
        """Make the scenario classes of this registry attributes of the module whose globals are
        ``namespace`` (``globals()``), so that scenarios pickle by reference to dask workers."""
        scenario = self.scenario_model
        ensemble = scenario.model_fields["ensemble"].annotation
        for cls in (scenario, ensemble, ensemble.model_fields["perturb"].annotation):
            cls.__module__ = namespace["__name__"]
            namespace[cls.__qualname__] = cls


#: The hazards this project ships.
HAZARDS = HazardRegistry((FLOOD, FIRE))
HAZARDS.home_models(globals())   # Scenario, ScenarioEnsemble, ScenarioPerturbations


def get_hazard(name: str, registry: HazardRegistry = HAZARDS) -> Hazard:
    """The hazard ``name`` of ``registry``.

    Raises
    ------
    InputError
        For an unknown name, listing the known ones.
    """
    try:
        return registry[name]
    except KeyError:
        raise InputError("unknown hazard", field="hazard", expected=" or ".join(registry),
                         found=repr(name)) from None


def load_scenario(path, hazards: HazardRegistry = HAZARDS) -> ScenarioFile:
    """Read and validate a scenario YAML file with the schema of ``hazards`` (every error at once).

    Raises
    ------
    InputError
        Missing or unreadable file, invalid YAML, or schema errors (each with path and line).
    """
    return read_scenario(path, hazards.scenario_model)
