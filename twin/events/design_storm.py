"""The event set's design storms: one hyetograph per return period, from the ``events:`` block.

For return period T, duration D and areal reduction factor ARF: the point intensity
``i(D, T)`` of the IDF relation (:mod:`twin.events.idf`), the storm depth ``P = ARF i(D, T) D``,
distributed in time by Huff's median curve (:func:`twin.events.huff.huff_hyetograph`) or built
by the alternating block method from ``i(j dt, T)`` (:func:`twin.events.alternating_block.alternating_block`),
every intensity times ARF (the areal reduction factor scales the point IDF depth to the area's,
Chow, Maidment & Mays 1988, section 14.2).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twin.events.alternating_block import alternating_block
from twin.events.huff import huff_hyetograph
from twin.events.hyetograph import Hyetograph
from twin.events.idf import IdfRelation
from twin.events.idf_csv import read_idf_table
from twin.events.schema import EventsSpec, IdfTableSpec


def read_relation(spec: EventsSpec, resolve: Callable[[str], Path], source: str) -> IdfRelation:
    """The block's IDF relation as given (a table read and checked, or the formula), not yet
    checked to cover the storms (:func:`idf_relation` does both).

    Parameters
    ----------
    spec : EventsSpec
        The ``events:`` block.
    resolve : callable
        A table path as written -> the file (e.g. :meth:`twin.scenario.schema.ScenarioFile.resolve`).
    source : str
        Where a formula came from, named in its errors (e.g. ``"scenario.yaml: events.idf"``).

    Raises
    ------
    InputError
        A table that cannot be read or is bad (:func:`twin.events.idf_csv.read_idf_table`).
    """
    return read_idf_table(resolve(spec.idf.table)) if isinstance(spec.idf, IdfTableSpec) \
        else spec.idf.relation(source)


def idf_relation(spec: EventsSpec, resolve: Callable[[str], Path], source: str) -> IdfRelation:
    """The block's IDF relation (:func:`read_relation`), checked to cover the storms it will give.

    Raises
    ------
    InputError
        As :func:`read_relation`, or for a relation that does not cover the storm duration (and
        block multiples) or the return periods (:meth:`twin.events.idf.IdfRelation.check_covers`).
    """
    relation = read_relation(spec, resolve, source)
    relation.check_covers(spec.idf_durations_s(), spec.return_periods)
    return relation


def design_storm(spec: EventsSpec, relation: IdfRelation, return_period: float) -> Hyetograph:
    """The design storm of ``return_period`` (years) for the block (module docstring)."""
    durations = spec.idf_durations_s()
    intensity = relation.intensity(durations, return_period)
    if spec.temporal.huff is not None:
        storm = huff_hyetograph(float(intensity[-1] * spec.storm_duration), spec.storm_duration, spec.temporal.huff)
    else:
        storm = alternating_block(spec.temporal.alternating_block.block, intensity)
    return storm.scaled(spec.areal_reduction)


def design_storms(spec: EventsSpec, relation: IdfRelation) -> tuple[Hyetograph, ...]:
    """One design storm per return period of the block, in its order."""
    return tuple(design_storm(spec, relation, t) for t in spec.return_periods)
