"""The layers a run's viewer offers, from what its folder holds.

Each layer is a ground field in stepped classes (:mod:`viz.viewer.classes`) and a colouring of the
buildings. What the run has decides what is offered, in this order:

* ``max_depth`` (hazard.nc): the maximum depth over the run, in depth classes;
* the hazard's snapshot variable (``depth`` or ``burned`` over ``time``), one class map per
  snapshot, shown with a time slider;
* ``hazard_rating``: where risk.nc holds the probabilities of the Defra hazard-rating classes
  (the hazard's :class:`twin.risk.spec.ClassProbability`), the most likely class of each wet cell
  (the lower class on ties; with one member, the member's class);
* ``arrival_time`` (hazard.nc), in time steps over the run;
* ``burn_probability`` (risk.nc), and, for ensembles, the probability maps the hazard names as
  layer aliases (e.g. ``p_depth_over_0p5m``), in probability classes;
* ``buildings``: the buildings by the hazard's building value in buildings.csv (expected damage
  fraction, burn probability), the ground plain.

A run of a design-event set (risk.nc on a ``return_period`` dimension) adds, after the control
run's layers (the control is the rarest event), the layers its hazard's event risk declares
(:class:`twin.risk.event_set.EventRisk`):

* the layer the annual exceedance compares (the flood's ``event_max_depth``), one class map per
  return period, shown with a return-period selector; the buildings by their damage in that event
  (``loss_T<T>_krw`` / ``value_krw`` of buildings.csv, share of value);
* its headline maps: the annual exceedance probability of the building-depth threshold (one class
  per event of the set), the buildings by the annual exceedance probability of the first event
  that reaches them (1 / ``first_floor_flood_rp_years``); the expected annual damage per cell,
  the buildings by theirs (``ead_krw``).

The ground layers colour the buildings by their risk class (buildings.csv ``risk_class_name``)
where the table has one; the snapshot layer leaves them neutral, since their values are the run's,
not the snapshot's. Values are the run's own, classified, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from twin.core.errors import InputError
from twin.hazards.registry import get_hazard
from twin.risk.event_set import EAD_COLUMN, EAD_MAP, RETURN_PERIOD, loss_column
from twin.risk.spec import ClassProbability
from twin.risk.vulnerability import RISK_CLASSES
from viz.run_data import WATER_LAYERS, RunData, building_values, get_layer
from viz.viewer.classes import (HAZARD_COLOURS, NO_CLASS, Classes, aep_classes, annual_damage_classes,
                                burned_classes, damage_classes, depth_classes, duration_words, hazard_rating_classes,
                                probability_classes, risk_classes, time_classes, value_classes)

#: Key of the hazard-rating layer (risk.nc holds one probability map per class, no single field).
HAZARD_RATING = "hazard_rating"
#: Key of the layer that colours the buildings by the hazard's building value.
BUILDINGS = "buildings"
#: Labels in the layer switch of probability maps (others: their long name).
PROBABILITY_TITLES = {"burn_probability": "Burn probability"}
#: Legend titles of building values, by buildings.csv column.
BUILDING_TITLES = {"expected_damage_fraction": "Buildings: expected damage (share of value)",
                   "burn_probability": "Buildings: burn probability",
                   "first_floor_flood_rp_years": "Buildings: annual chance of water above the first floor (1/T of "
                                                 "the first event of the set that puts it there)"}


@dataclass(frozen=True)
class ViewerLayer:
    """One entry of the viewer's layer switch.

    Attributes
    ----------
    key : str
        Identifier (the variable's name, :data:`HAZARD_RATING` or :data:`BUILDINGS`).
    title : str
        The switch's label.
    ground : Classes or None
        Classes of the ground field; None leaves the ground in its land cover.
    cells : tuple of numpy.ndarray
        Class index per cell, uint8 ``(ny, nx)`` (:data:`viz.viewer.classes.NO_CLASS`: not
        drawn): one map, or one per snapshot.
    times : tuple of float
        Snapshot times (s since the start); empty for a run-wide field.
    buildings : Classes or None
        Classes the buildings are coloured by; None leaves them neutral.
    building_classes : numpy.ndarray, tuple of numpy.ndarray, or None
        Class index per building, uint8, in the order of the ``ids`` the layers were built for; a
        tuple of them, one per step, for a layer of steps.
    steps : tuple of str
        Labels of the return periods of a layer with one class map per design event (a selector
        switches them, ``cells`` in the same order); empty otherwise.
    """

    key: str
    title: str
    ground: Classes | None
    cells: tuple = ()
    times: tuple = ()
    buildings: Classes | None = None
    building_classes: np.ndarray | tuple | None = None
    steps: tuple = ()


def run_duration(run: RunData) -> float:
    """The run's length (s): its last snapshot time, else its latest arrival time, else 0."""
    if "time" in run.hazard.coords and run.hazard["time"].size:
        return float(run.hazard["time"].max())
    if "arrival_time" in run.hazard and np.isfinite(run.hazard["arrival_time"].values).any():
        return float(np.nanmax(run.hazard["arrival_time"].values))
    return 0.0


def building_column(run: RunData, ids: np.ndarray, column: str) -> np.ndarray:
    """A numeric buildings.csv column, one value per building of ``ids`` (NaN where the table has none)."""
    values, _ = building_values(run, column)
    return np.array([values.get(int(i), np.nan) for i in ids], dtype=np.float64)


def per_building(run: RunData, ids: np.ndarray, column: str, scheme: Classes) -> np.ndarray:
    """Class of each building of ``ids`` by a numeric buildings.csv column (:data:`NO_CLASS` where
    the table has no value for it)."""
    return scheme.classify(building_column(run, ids, column))


def _held(run: RunData, name: str) -> bool:
    return any(ds is not None and name in ds for ds in (run.hazard, run.risk))


def _field(run: RunData, key: str, title: str, scheme_of) -> ViewerLayer:
    """A run-wide field of hazard.nc or risk.nc in the classes ``scheme_of(values)`` gives."""
    values = get_layer(run, key).values
    scheme = scheme_of(values)
    return ViewerLayer(key, title, scheme, (scheme.classify(values),))


def _snapshots(run: RunData, name: str) -> ViewerLayer:
    """The snapshot variable at every snapshot time, in one scheme for all."""
    times = tuple(float(t) for t in run.hazard[name]["time"].values)
    maps = [get_layer(run, name, t).values for t in times]
    if name in WATER_LAYERS:
        title, scheme = "Depth at the time shown", depth_classes("Depth at the time shown")
    elif set(np.unique(np.concatenate([m[np.isfinite(m)] for m in maps]))) <= {0.0, 1.0}:
        title, scheme = "Burned area at the time shown", burned_classes("Burned at the time shown")
    else:
        units = get_layer(run, name, times[0]).units
        title = f"{name.replace('_', ' ').capitalize()} at the time shown"
        scheme = value_classes(title, np.stack(maps), units)
    return ViewerLayer(name, title, scheme, tuple(scheme.classify(m) for m in maps), times)


def _hazard_rating(run: RunData) -> ViewerLayer | None:
    """The most likely Defra hazard-rating class per cell, from risk.nc's class probabilities."""
    if run.risk is None:
        return None
    for stat in get_hazard(run.kind).risk.probabilities:
        if not (isinstance(stat, ClassProbability) and any(label in HAZARD_COLOURS for label in stat.labels)
                and all(stat.name(label) in run.risk for label in stat.labels)):
            continue
        members = run.members or 1
        note = ("dry cells not drawn" if members == 1
                else f"most likely class over {members} members; dry cells not drawn")
        scheme, position = hazard_rating_classes(stat.labels, "Flood hazard rating to people (Defra/EA)", note)
        stack = np.stack([get_layer(run, stat.name(label)).values for label in stat.labels])
        lookup = np.full(len(stat.labels), NO_CLASS, dtype=np.uint8)
        for k, label in enumerate(position):
            lookup[position[label]] = k
        likely = lookup[np.argmax(np.nan_to_num(stack, nan=-1.0), axis=0)]
        cells = np.where(np.isfinite(stack).any(axis=0), likely, NO_CLASS).astype(np.uint8)
        return ViewerLayer(HAZARD_RATING, "Hazard rating", scheme, (cells,))
    return None


def return_periods(run: RunData) -> np.ndarray | None:
    """The return periods (years) of a design-event set's risk.nc, None for a run of a single storm."""
    if run.risk is None or RETURN_PERIOD.name not in run.risk.coords or get_hazard(run.kind).events is None:
        return None
    return np.asarray(run.risk[RETURN_PERIOD.name].values, dtype=np.float64)


def _event_damage(run: RunData, ids: np.ndarray, t: np.ndarray, scheme: Classes) -> tuple | None:
    """Per event, the class of each building's damage in it: its ``loss_T<T>_krw`` over its
    ``value_krw`` (buildings.csv); None where the table lacks them."""
    columns = [loss_column(x) for x in t]
    if run.buildings is None or any(c not in run.buildings for c in (*columns, "value_krw")):
        return None
    value = building_column(run, ids, "value_krw")
    worth = np.where(value > 0, value, np.nan)
    return tuple(scheme.classify(building_column(run, ids, c) / worth) for c in columns)


def _event_stack(run: RunData, ids: np.ndarray, name: str, t: np.ndarray) -> ViewerLayer:
    """A map per design event (``name`` on risk.nc's return-period dimension), in depth classes, the
    buildings by their damage in each event."""
    stack = run.risk[name].transpose(RETURN_PERIOD.name, "y", "x")
    grid = run.twin["elevation"].shape
    if stack.shape[1:] != grid:
        raise InputError("layer is not on the twin's grid", file=run.run_dir / "risk.nc", field=name,
                         expected=f"shape (events, {grid[0]}, {grid[1]})", found=f"shape {stack.shape}")
    scheme = depth_classes("Maximum depth of the design event")
    cells = tuple(scheme.classify(np.asarray(stack.values[k], dtype=np.float64)) for k in range(t.size))
    damage = damage_classes("Buildings: damage in the design event (share of value)")
    per_event = _event_damage(run, ids, t, damage)
    return ViewerLayer(name, "Maximum depth by return period", scheme, cells,
                       buildings=damage if per_event is not None else None, building_classes=per_event,
                       steps=tuple(f"{x:g} years" for x in t))


def _event_set_layers(run: RunData, ids: np.ndarray) -> list[ViewerLayer]:
    """The layers of a design-event set (module docstring); none for a run of a single storm."""
    t = return_periods(run)
    if t is None:
        return []
    declared = get_hazard(run.kind).events.risk
    ex = declared.exceedance
    layers = [_event_stack(run, ids, ex.layer, t)] if ex.layer in run.risk else []
    thresholds = {ex.name(x): x for x in ex.thresholds}
    units = str(run.risk[ex.layer].attrs.get("units", "")) if ex.layer in run.risk else ""
    reached = declared.reached.name
    for name in (n for n in declared.headline if n in run.risk):
        values = np.asarray(run.risk[name].values, dtype=np.float64)
        if name in thresholds:
            words = f"{thresholds[name]:g} {units}".strip()
            scheme = aep_classes(f"Annual exceedance probability of a depth over {words}", t,
                                 "the smallest return period of the set whose design event exceeds it; "
                                 "never exceeded in the set: not drawn")
            layer = ViewerLayer(name, f"Annual chance of a depth over {words}", scheme, (scheme.classify(values),))
            if run.buildings is not None and reached in run.buildings:
                on_buildings = replace(scheme, title=BUILDING_TITLES.get(reached, f"Buildings: 1 / {reached}"),
                                       note="never reached in the set: neutral")
                layer = replace(layer, buildings=on_buildings,
                                building_classes=on_buildings.classify(1.0 / building_column(run, ids, reached)))
        elif name == EAD_MAP.name:
            scheme = annual_damage_classes("Expected annual damage per cell (KRW per year)", values, none=False)
            layer = ViewerLayer(name, "Expected annual damage", scheme, (scheme.classify(values),))
            if run.buildings is not None and EAD_COLUMN in run.buildings:
                ead = building_column(run, ids, EAD_COLUMN)
                on_buildings = annual_damage_classes("Buildings: expected annual damage (KRW per year)", ead, none=True)
                layer = replace(layer, buildings=on_buildings, building_classes=on_buildings.classify(ead))
        else:
            continue
        layers.append(layer)
    return layers


def _ground_layers(run: RunData, duration: float) -> list[ViewerLayer]:
    outputs = run.outputs
    layers = []
    if _held(run, "max_depth"):
        title = f"Maximum depth over {duration_words(duration)}"
        if (t := return_periods(run)) is not None:
            title += f", the control run (the T = {t[-1]:g} years event)"
        layers.append(_field(run, "max_depth", title, lambda _: depth_classes(title)))
    if outputs.snapshot in run.hazard and "time" in run.hazard[outputs.snapshot].dims:
        layers.append(_snapshots(run, outputs.snapshot))
    rating = _hazard_rating(run)
    if rating is not None:
        layers.append(rating)
    if _held(run, "arrival_time"):
        layers.append(_field(run, "arrival_time", "Arrival time",
                             lambda _: time_classes("Arrival time (hh:mm after the start)", duration)))
    probabilities = ["burn_probability"]
    if (run.members or 1) > 1:
        probabilities += [name for _, name in outputs.layer_aliases]
    for name in probabilities:
        if run.risk is not None and name in run.risk:
            words = str(run.risk[name].attrs.get("long_name", name.replace("_", " ")))
            title = words[0].upper() + words[1:]
            label = PROBABILITY_TITLES.get(name, title)
            layers.append(_field(run, name, label, lambda _: probability_classes(title)))
    return layers


def _risk_colouring(run: RunData, ids: np.ndarray) -> tuple[Classes | None, np.ndarray | None]:
    """The buildings by their risk class (buildings.csv ``risk_class_name``), where the table has one;
    a name that is not a risk class leaves the building neutral."""
    if run.buildings is None or "risk_class_name" not in run.buildings:
        return None, None
    names = run.buildings.drop_duplicates("building_id").set_index("building_id")["risk_class_name"]
    codes = names.reindex(ids).map({c: float(k) for k, c in enumerate(RISK_CLASSES)})
    scheme = risk_classes()
    return scheme, scheme.classify(codes.to_numpy(dtype=np.float64, na_value=np.nan))


def viewer_layers(run: RunData, ids: np.ndarray, default: str | None = None) -> list[ViewerLayer]:
    """The layers of a run's viewer, the default one first.

    Parameters
    ----------
    run : RunData
    ids : numpy.ndarray
        Building ids, in the order the per-building classes follow.
    default : str, optional
        The layer shown first: a key of the offered layers, or any other drawable variable of
        hazard.nc or risk.nc (added, in equal steps of its range). Default the hazard's
        rendering layer (:attr:`twin.hazards.interface.Outputs.render_layer`).

    Returns
    -------
    list of ViewerLayer

    Raises
    ------
    twin.core.errors.InputError
        When ``default`` is not a variable of the run (:func:`viz.run_data.get_layer` names
        what the run holds).
    """
    duration = run_duration(run)
    default = default or run.outputs.render_layer
    layers = _ground_layers(run, duration)
    events = _event_set_layers(run, ids)
    if default not in {layer.key for layer in (*layers, *events)} and default != BUILDINGS:
        layers.append(_other(run, default))
    scheme, classes = _risk_colouring(run, ids)
    layers = [layer if layer.times else replace(layer, buildings=scheme, building_classes=classes)
              for layer in layers] + events
    column = run.outputs.building_value
    if run.buildings is not None and column in run.buildings:
        title = BUILDING_TITLES.get(column, f"Buildings: {column.replace('_', ' ')}")
        building_scheme = damage_classes(title)
        layers.append(ViewerLayer(BUILDINGS, title.removeprefix("Buildings: ").capitalize(), None,
                                  buildings=building_scheme,
                                  building_classes=per_building(run, ids, column, building_scheme)))
    first = next((layer for layer in layers if layer.key == default), None)
    if first is None:
        raise InputError("column missing", file=run.run_dir / "buildings.csv", field=column,
                         expected="the building value the buildings layer shows")
    return [first, *(layer for layer in layers if layer is not first)]


def _other(run: RunData, name: str) -> ViewerLayer:
    """A variable the viewer has no classes of its own for, in equal steps of its range."""
    shown = get_layer(run, name)
    if shown.time is not None:
        return _snapshots(run, name)
    title = name.replace("_", " ").capitalize()
    return _field(run, name, title, lambda values: value_classes(title, values, shown.units))
