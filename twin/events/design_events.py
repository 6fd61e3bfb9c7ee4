"""The design events of a scenario's ``events:`` block, with errors that name the scenario.

:func:`scenario_events` reads the block's IDF relation (the table file resolved against the
scenario's folder, or the formula), checks that it covers the storms and builds one design storm
per return period (:func:`twin.events.design_storm.design_storms`). Every problem is an
:class:`twin.core.errors.InputError` at a key of the scenario, with the scenario file and the
key's YAML line:

* a table file that cannot be read or is bad, at ``events.idf.table``, the message naming the
  table file, its line and its column (:func:`twin.events.idf_csv.read_idf_table`);
* a storm duration outside the relation at ``events.storm_duration``, an alternating block
  shorter than it at ``events.temporal.alternating_block.block``, a return period outside it at
  ``events.return_periods`` (:meth:`twin.events.idf.IdfRelation.check_covers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.core.errors import InputError
from twin.events.design_storm import design_storms, read_relation
from twin.events.frequency import annual_exceedance
from twin.events.hyetograph import Hyetograph
from twin.events.idf import IdfRelation
from twin.events.schema import EventsSpec, IdfTableSpec
from twin.scenario.schema import ScenarioFile
from twin.scenario.units import MM_PER_H


@dataclass(frozen=True)
class DesignEvent:
    """One event of a set: its return period T (years) and its design storm."""

    return_period_years: float
    storm: Hyetograph

    @property
    def label(self) -> str:
        """``"T = 100 years"``, how messages name the event."""
        return f"T = {self.return_period_years:g} years"


@dataclass(frozen=True)
class EventSet:
    """The event set of a scenario: its block, the events in increasing return period, the files read.

    Attributes
    ----------
    spec : EventsSpec
        The ``events:`` block (return periods, storm, tails of the EAD).
    events : tuple of DesignEvent
        One per return period, in the block's (increasing) order.
    input_files : tuple of Path
        The IDF table file (none for a formula).
    """

    spec: EventsSpec
    events: tuple
    input_files: tuple

    @property
    def return_periods(self) -> np.ndarray:
        """Return periods T (years), increasing."""
        return np.array([e.return_period_years for e in self.events])

    def describe(self) -> dict:
        """The set as ``summary.json`` gives it: storms (depth in m, peak in mm/h), tails of the EAD."""
        spec = self.spec
        temporal = f"huff quartile {spec.temporal.huff}" if spec.temporal.huff is not None else \
            f"alternating block of {spec.temporal.alternating_block.block:g} s"
        return {"return_periods_years": self.return_periods.tolist(),
                "aep_per_year": annual_exceedance(self.return_periods).tolist(),
                "storm_duration_s": spec.storm_duration, "temporal": temporal,
                "areal_reduction": spec.areal_reduction,
                "idf": str(self.input_files[0]) if self.input_files else "formula a / (t^n + b)",
                "storm_depth_m": [e.storm.depth_m() for e in self.events],
                "peak_intensity_mm_h": [e.storm.peak_m_s() / MM_PER_H for e in self.events]}


def _table_error(sf: ScenarioFile, exc: InputError) -> InputError:
    """A table file's error, reported at ``events.idf.table`` with the table's file, line and column."""
    where = "".join(f", {what} {value}" for what, value in (("line", exc.line), ("column", exc.field)) if value)
    return sf.error(("events", "idf", "table"), f"the IDF table {exc.file}{where}: {exc.message}",
                    expected=exc.expected, found=exc.found)


def _check_covers(sf: ScenarioFile, spec: EventsSpec, relation: IdfRelation) -> None:
    """Refuse a storm the relation does not cover, at the scenario key that asks for it (module docstring)."""
    checks = [(("events", "storm_duration"), [spec.storm_duration], [])]
    if spec.temporal.alternating_block is not None:
        checks.append((("events", "temporal", "alternating_block", "block"), spec.idf_durations_s(), []))
    checks.append((("events", "return_periods"), [], spec.return_periods))
    for key, durations, periods in checks:
        try:
            relation.check_covers(np.asarray(durations, dtype=np.float64), np.asarray(periods, dtype=np.float64))
        except InputError as exc:
            raise sf.error(key, f"{exc.message} {relation.source}", expected=exc.expected, found=exc.found) from None


def scenario_events(sf: ScenarioFile) -> EventSet:
    """The design events of the scenario's ``events:`` block (module docstring).

    Parameters
    ----------
    sf : ScenarioFile
        A scenario with an ``events:`` block.

    Returns
    -------
    EventSet

    Raises
    ------
    InputError
        At the scenario key at fault, with the scenario file and line (module docstring).
    """
    spec = sf.scenario.events
    table = isinstance(spec.idf, IdfTableSpec)
    try:
        relation = read_relation(spec, sf.resolve, f"{sf.path}: events.idf")
    except InputError as exc:
        raise (_table_error(sf, exc) if table else exc) from None
    _check_covers(sf, spec, relation)
    storms = design_storms(spec, relation)
    files = (sf.resolve(spec.idf.table),) if table else ()
    return EventSet(spec, tuple(DesignEvent(float(t), s) for t, s in zip(spec.return_periods, storms)), files)
