"""The hazard interface: everything the run pipeline, the ensemble, the risk and the renderings
need to know of a hazard, declared by the hazard in one :class:`Hazard` value.

A hazard is a package under ``twin/hazards/`` whose ``__init__`` builds its :class:`Hazard`; the
registry (:mod:`twin.hazards.registry`) is the only place that lists which hazards exist. Nothing
outside a hazard package compares hazard names: code asks the scenario's hazard
(``get_hazard(sf.scenario.hazard)``) for what it needs.

How a run uses a hazard (:mod:`twin.pipeline.run`): ``prepare(sf, twin) -> inputs`` (every input
error raised here), ``simulate(inputs, sf, progress) -> result``, ``write(folder, sf, twin,
result) -> summary``, ``member_maps(result) -> maps`` for the risk (:attr:`Hazard.risk`), and
``building_columns(result)`` for the control run's columns of buildings.csv. A member of an
ensemble is the scenario with the member's draws applied (:attr:`Hazard.apply_draw`). A hazard that
runs design-event sets (the scenario's ``events:`` block, :class:`EventSupport`) runs each event as
the scenario with the event's forcing (:attr:`EventSupport.apply`), then each member's draws on it.
Adaptation measures (:mod:`twin.adaptation`) reach a hazard through what its :class:`Adaptation`
declares: the prepared inputs they may change, the per-building changes its impact takes, the maps
a comparison differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from twin.core.fields import FieldRegistry
from twin.risk.event_set import EventRisk
from twin.risk.spec import RiskSpec

#: Child stream of a member's SeedSequence kept for the member's own random processes (e.g. fire
#: spotting); no perturbation may use it (:mod:`twin.ensemble.draws`).
NOISE_STREAM = 6


def draw_distribution(spec, rng, sf, twin) -> float:
    """The :attr:`Perturbation.draw` of a perturbation given as a distribution: one value of ``spec``."""
    return spec.draw(rng)


@dataclass(frozen=True)
class Perturbation:
    """An uncertain input a member draws: a key of ``ensemble.perturb``.

    Attributes
    ----------
    name : str
        Key under ``ensemble.perturb`` (unique over all hazards).
    schema : type
        The pydantic type of its value in the scenario (e.g. a distribution).
    stream : int
        Index of its child stream in the member's ``SeedSequence`` (see
        :mod:`twin.ensemble.draws`); fixed forever, never reused by another perturbation, so
        that adding a perturbation or a hazard changes no existing member.
    draw : callable
        ``draw(spec, rng, sf, twin) -> value``: the member's value (``spec`` is the scenario's
        block for this perturbation).
    heavier_when_larger : float or None
        When set, a member with a larger value is expected to run longer (members start longest
        expected first, :func:`twin.ensemble.draws.heaviest_first`); the value is the neutral
        one (a member that did not draw it).
    """

    name: str
    schema: type
    stream: int
    draw: Callable
    heavier_when_larger: float | None = None


@dataclass(frozen=True)
class Outputs:
    """What a hazard's run writes and shows.

    Attributes
    ----------
    geotiff : tuple of str
        Hazard maps of the control run written as Cloud-Optimized GeoTIFF.
    snapshot : str
        The time series variable of ``hazard.nc`` (``(time, y, x)``), shown by animations.
    render_layer : str
        The layer renderings show by default.
    building_value : str
        The buildings.csv column renderings colour buildings by, by default.
    layer_aliases : tuple of (str, str)
        Short layer names a user may give renderings and the output variable each stands for,
        e.g. ``("flood_probability", "p_depth_over_0p5m")``.
    """

    geotiff: tuple
    snapshot: str
    render_layer: str
    building_value: str
    layer_aliases: tuple = ()


@dataclass(frozen=True)
class MemoryUse:
    """A hazard's memory and disk use on a grid of ``n`` cells (bytes), for the run budget.

    Attributes
    ----------
    snapshots : int
        Snapshots the control run keeps and writes.
    snapshot_bytes : float
        All snapshots together.
    snapshot_copies : int
        Extra copies of the snapshots while ``hazard.nc`` is written.
    inputs, state, result, fields : float
        The hazard's inputs, its time loop's state, the result kept after the loop, the maps
        of ``hazard.nc``.
    netcdf_variables : list of float
        Bytes of each variable of ``hazard.nc``.
    risk_add_bytes_per_cell, member_map_bytes_per_cell : float
        Temporaries of adding one member to the risk, one member's maps as sent by a worker.
    setup_temporaries : float
        Bytes held while the hazard's inputs are prepared, beyond the inputs (e.g. while the
        rainfall remap is built).

    The risk maps, their GeoTIFFs and the spilled member maps are counted from the hazard's
    declarations (:attr:`Hazard.risk`, :attr:`Hazard.outputs`).
    """

    snapshots: int
    snapshot_bytes: float
    snapshot_copies: int
    inputs: float
    state: float
    result: float
    fields: float
    netcdf_variables: list
    risk_add_bytes_per_cell: float
    member_map_bytes_per_cell: float
    setup_temporaries: float = 0.0


#: Key of the scenario's design-event block (:class:`EventSupport`).
EVENTS_BLOCK = "events"


@dataclass(frozen=True)
class EventSupport:
    """How a hazard runs a set of design events, one per return period (the ``events:`` block).

    Attributes
    ----------
    block : type
        Pydantic model of the ``events:`` block (:class:`twin.events.schema.EventsSpec`).
    design : callable
        ``design(sf) -> EventSet``: the events of the scenario's block
        (:class:`twin.events.design_events.EventSet`); every input error raised here.
    apply : callable
        ``apply(scenario, event) -> block``: the hazard's block with the event's forcing (e.g. the
        flood's rainfall replaced by the design storm).
    risk : EventRisk
        Statistics per event over its members and the event set's maps and columns
        (:class:`twin.risk.event_set.EventRisk`).
    """

    block: type
    design: Callable
    apply: Callable
    risk: EventRisk


@dataclass(frozen=True)
class AdaptableInput:
    """An array of a hazard's prepared inputs that adaptation measures may change.

    Attributes
    ----------
    name : str
        What measures call it (e.g. ``"bed_elevation"``).
    units : str
        Its units.
    get : callable
        ``get(inputs) -> ndarray (ny, nx)``: the array in the prepared inputs (read only).
    put : callable
        ``put(inputs, array) -> inputs``: new inputs holding ``array`` instead (checked as the
        hazard checks its inputs; ``inputs`` itself is unchanged).
    """

    name: str
    units: str
    get: Callable
    put: Callable


@dataclass(frozen=True)
class Adaptation:
    """What adaptation measures (:mod:`twin.adaptation`) may change in a hazard's run, and what a
    comparison of runs shows.

    Attributes
    ----------
    inputs : tuple of AdaptableInput
        The prepared inputs measures may change.
    building_changes : tuple of str
        Per-building changes the hazard's impact takes (e.g. ``"first_floor_raise_m"``).
    with_buildings : callable or None
        ``with_buildings(impact, changes) -> impact``: the impact function with ``changes``
        (name -> ndarray (n_buildings,), the building table's order) applied.
    compared : tuple of str
        Maps of ``hazard.nc`` a comparison differences (strategy minus baseline).
    reached : str
        The map of ``hazard.nc`` that is finite where the hazard reached a cell (newly reached and
        newly spared cells of a comparison).
    """

    inputs: tuple
    building_changes: tuple
    with_buildings: Callable | None
    compared: tuple
    reached: str

    def input(self, name: str) -> AdaptableInput | None:
        """The adaptable input ``name``, None when the hazard has none of that name."""
        return next((i for i in self.inputs if i.name == name), None)


@dataclass(frozen=True)
class Hazard:
    """A hazard, declared in one place (see the module docstring for how a run uses it).

    Attributes
    ----------
    name : str
        The scenario's ``hazard:`` value and the key of its block.
    block : type
        Pydantic model of the scenario's ``<name>:`` block.
    block_required : str or None
        None: the block may be left out (its defaults apply); else the message when it is missing.
    check_scenario : callable
        ``check_scenario(scenario) -> str | None``: a rule across blocks the scenario breaks
        (e.g. tiles with gauges), as "field: message", or None.
    perturbations : tuple of Perturbation
        What its members may draw.
    apply_draw : callable
        ``apply_draw(scenario, draw) -> block``: the hazard's block with a member's draws applied.
    check_draws : callable
        ``check_draws(sf, draws)``: refuse draws whose forcing breaks the plausibility bounds.
    input_files : callable
        ``input_files(sf) -> list of Path``: files the hazard reads besides the twin.
    prepare, simulate, write, member_maps, building_columns : callable
        The run (module docstring).
    fields : FieldRegistry
        Declarations of its hazard maps (``hazard.nc``, member maps).
    outputs : Outputs
        Files and default layers.
    risk : RiskSpec
        Statistics over members and the impact per building.
    memory : callable
        ``memory(sf, grid) -> MemoryUse`` on the twin's :class:`~twin.core.grid.Grid`.
    with_forecast : callable or None
        ``with_forecast(sf, file, variable) -> ScenarioFile``: the scenario driven by a gridded
        forecast (the nightly batch; member ``k`` of the forecast runs as member ``k``). None: the
        hazard takes no forecast and the batch runs the scenario as written.
    events : EventSupport or None
        How it runs design-event sets; None: its scenarios take no ``events:`` block.
    adaptation : Adaptation or None
        What adaptation measures may change (:mod:`twin.adaptation`); None: no measure applies.
    """

    name: str
    block: type
    block_required: str | None
    check_scenario: Callable
    perturbations: tuple
    apply_draw: Callable
    check_draws: Callable
    input_files: Callable
    prepare: Callable
    simulate: Callable
    write: Callable
    member_maps: Callable
    building_columns: Callable
    fields: FieldRegistry
    outputs: Outputs
    risk: RiskSpec
    memory: Callable
    with_forecast: Callable | None = None
    events: EventSupport | None = None
    adaptation: Adaptation | None = None
    all_fields: FieldRegistry = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        event_fields = [self.events.risk.fields] if self.events is not None else []
        object.__setattr__(self, "all_fields", self.fields.merged(self.risk.fields, *event_fields))
        undeclared = [n for n in (*self.outputs.geotiff, self.outputs.snapshot, self.outputs.render_layer,
                                  *self.risk.member_maps) if n not in self.fields]
        if undeclared:
            raise ValueError(f"hazard {self.name!r}: {undeclared} are not among its declared fields")
