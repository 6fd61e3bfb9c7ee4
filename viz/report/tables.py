"""The tables of a run report, as rows of text: headline figures, every figure of the summary,
the buildings most at risk, losses by building use; for a design-event set, its events, the points
of its loss-exceedance curve and the buildings of largest expected annual damage."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from twin.hazards.registry import get_hazard
from twin.pipeline.report import HEADLINE
from twin.risk.event_set import EAD_COLUMN, loss_column as event_loss_column
from twin.risk.vulnerability import RISK_CLASSES
from viz.report import words
from viz.report.data import EventSetFigures
from viz.run_data import RunData

#: Buildings listed in the table of the buildings most at risk.
TOP_BUILDINGS = 20
#: Columns of buildings.csv the table of the buildings most at risk shows, in this order, where
#: the table has them (the loss column and any column naming a source id are added).
BUILDING_COLUMNS = ("building_id", "use", "expected_depth_max_m", "expected_damage_fraction", "burn_probability",
                    "control_ignition_time_s")
#: Columns of buildings.csv that are text or ids (the other columns are numbers, aligned right).
TEXT_COLUMNS = ("building_id", "use", "risk_class_name")
#: Headline figure of a design-event set: its key path in summary.json and its label.
EAD_HEADLINE = (("risk", "events", "expected_annual_damage_krw"), "expected annual damage")
#: Keys of summary.json shown apart from the figures (in the provenance).
NOT_FIGURES = ("timings", "scenario", "hazard")


@dataclass(frozen=True)
class Figure:
    """One figure of the run, in words.

    Attributes
    ----------
    key : str
        Its key path in summary.json, dotted (``risk.expected_total_loss_krw``).
    label : str
        What it is, in words.
    text : str
        Its value in words, with its unit.
    value : object
        Its value as summary.json holds it.
    """

    key: str
    label: str
    text: str
    value: object


def _at(summary: dict, path: tuple):
    for key in path:
        if not isinstance(summary, dict) or key not in summary:
            return None
        summary = summary[key]
    return summary


def headline(summary: dict) -> list[Figure]:
    """The headline figures (:data:`twin.pipeline.report.HEADLINE`, the ones ``twin run`` prints)
    the summary holds; buildings by risk class one row per class, as the summary names them
    (``none`` included); a count of buildings out of its total."""
    rows = []
    for figure in HEADLINE:
        found = _at(summary, figure.path)
        if found is None:
            continue
        key = ".".join(figure.path)
        if isinstance(found, dict):
            rows += [Figure(f"{key}.{name}", f"{figure.label}: {name}", f"{count:,}", count)
                     for name, count in found.items()]
            continue
        label, text = figure.label, words.value(found, words.name_and_unit(figure.path[-1])[1])
        if figure.path == ("flooded_area_m2",) and "wet_threshold_m" in summary:
            label += f" (deeper than {words.depth(summary['wet_threshold_m'])})"
        if figure.out_of in summary:
            text += f" of {summary[figure.out_of]:,}"
        rows.append(Figure(key, label, text, found))
    ead = _at(summary, EAD_HEADLINE[0])
    if ead is not None:
        rows.append(Figure(".".join(EAD_HEADLINE[0]), EAD_HEADLINE[1], f"{words.money(ead)} per year", ead))
    return rows


def summary_figures(summary: dict) -> tuple[list[Figure], dict[str, pd.DataFrame]]:
    """Every figure of summary.json in words (but :data:`NOT_FIGURES`), and its lists of records
    (e.g. a fire's ``over_time``) as tables.

    Returns
    -------
    figures : list of Figure
        One per number or text, nested keys joined with " · ".
    series : dict
        Key in words -> table with columns in words.
    """
    figures: list[Figure] = []
    series: dict[str, pd.DataFrame] = {}

    def walk(node: dict, path: tuple, label: str) -> None:
        for key, item in node.items():
            if not path and key in NOT_FIGURES:
                continue
            name, unit = words.name_and_unit(key)
            here = f"{label} · {name}" if label else name
            if isinstance(item, dict):
                walk(item, (*path, key), here)
            elif isinstance(item, list) and item and all(isinstance(r, dict) for r in item):
                series[here] = records_table(item)
            elif isinstance(item, list):
                figures.append(Figure(".".join((*path, key)), here, ", ".join(map(str, item)) or "none", item))
            else:
                inherited = unit or (words.name_and_unit(path[-1])[1] if path else "")
                figures.append(Figure(".".join((*path, key)), here, words.value(item, inherited), item))

    walk(summary, (), "")
    return figures, series


def records_table(records: list[dict]) -> pd.DataFrame:
    """Records (one dict per row) as text, columns in words."""
    table = pd.DataFrame(records)
    return pd.DataFrame({words.name_and_unit(c)[0]: [words.value(v, words.name_and_unit(c)[1]) for v in table[c]]
                         for c in table.columns})


def loss_column(run: RunData) -> str | None:
    """The column of buildings.csv holding each building's expected loss (the hazard's impact
    declares it), or None when the table lacks it."""
    column = get_hazard(run.kind).risk.impact.loss_column
    return column if run.buildings is not None and column in run.buildings else None


def most_at_risk(run: RunData, n: int = TOP_BUILDINGS) -> pd.DataFrame:
    """The ``n`` rows of buildings.csv with the largest expected loss, largest first (ties in the
    table's order), with the columns of :data:`BUILDING_COLUMNS`, source ids, the loss and the
    risk class it has."""
    table, loss = run.buildings, loss_column(run)
    if table is None or loss is None:
        return pd.DataFrame()
    sources = [c for c in table.columns if "source" in c]
    columns = [c for c in (*BUILDING_COLUMNS[:1], *sources, *BUILDING_COLUMNS[1:], loss, "risk_class_name")
               if c in table]
    return table.sort_values(loss, ascending=False, kind="stable").head(n)[columns]


def cell_text(column: str, value) -> str:
    """One cell of a building table in words (ids as they are)."""
    if column == "building_id" or "source" in column:
        return str(value)
    if isinstance(value, float) and pd.isna(value):
        return "–"
    return words.value(value, words.name_and_unit(column)[1])


def losses_by_use(run: RunData) -> pd.DataFrame:
    """Buildings and expected loss per building use, largest loss first.

    Returns
    -------
    pandas.DataFrame
        Indexed by use: ``buildings`` (count), one count per risk class the table names
        (:data:`twin.risk.vulnerability.RISK_CLASSES`), ``loss`` (KRW) and ``share`` (of the
        total loss, 0..1). Empty without a building table with ``use`` and a loss column.
    """
    table, loss = run.buildings, loss_column(run)
    if table is None or loss is None or "use" not in table:
        return pd.DataFrame()
    grouped = table.groupby("use")
    out = pd.DataFrame({"buildings": grouped.size()})
    if "risk_class_name" in table:
        counts = pd.crosstab(table["use"], table["risk_class_name"])
        for name in RISK_CLASSES:
            out[name] = counts[name] if name in counts else 0
    out["loss"] = grouped[loss].sum()
    total = out["loss"].sum()
    out["share"] = out["loss"] / total if total > 0 else 0.0
    return out.sort_values("loss", ascending=False, kind="stable")


def event_rows(events: EventSetFigures, reached_words: str) -> tuple[list[str], list[list[str]]]:
    """One row per design event: its return period and AEP, the storm (depth, peak intensity), the
    members, the total loss and the buildings reached; headers and rows of text."""
    given = events.events
    depth, peak = given.get("storm_depth_m"), given.get("peak_intensity_mm_h")
    members = given.get("members_used")
    headers = ["return period", "AEP", "storm depth", "peak intensity", "members", "total loss", reached_words]
    rows = []
    for k, t in enumerate(events.return_periods):
        counted = "" if events.counted[k] else " (not counted: at or below protection_rp)"
        rows.append([f"{t:g} years", words.percent(1.0 / t) + " per year",
                     f"{1000.0 * depth[k]:.1f} mm" if depth else "–", f"{peak[k]:.1f} mm/h" if peak else "–",
                     str(members[k]) if members else "–", words.money(events.loss_krw[k]) + counted,
                     f"{int(events.reached[k]):,}"])
    return headers, rows


#: What each kind of point of the loss-exceedance curve is (:meth:`EventSetFigures.curve_point_kinds`).
CURVE_POINT_WORDS = {"protection": "protection point: no loss at or below protection_rp",
                     "event": "design event", "tail": "rare tail at AEP 0"}


def curve_rows(events: EventSetFigures) -> list[list[str]]:
    """The points of the loss-exceedance curve: AEP, return period, total loss, what the point is."""
    rows = []
    for p, loss, kind in zip(events.curve_aep, events.curve_loss_krw, events.curve_point_kinds()):
        rows.append([f"{p:.4g} per year", f"{1.0 / p:g} years" if p > 0 else "–", words.money(loss),
                     CURVE_POINT_WORDS[kind]])
    return rows


def highest_ead(run: RunData, events: EventSetFigures, reached_column: str, n: int = TOP_BUILDINGS) -> pd.DataFrame:
    """The ``n`` rows of buildings.csv of largest expected annual damage, largest first (ties in the
    table's order): id, source ids, use, value, EAD, the return period that first reaches the
    building (``reached_column``) and the loss of each event; empty without an EAD column."""
    table = run.buildings
    if table is None or EAD_COLUMN not in table:
        return pd.DataFrame()
    sources = [c for c in table.columns if "source" in c]
    losses = [event_loss_column(t) for t in events.return_periods]
    columns = [c for c in ("building_id", *sources, "use", "value_krw", EAD_COLUMN, reached_column, *losses)
               if c in table]
    return table.sort_values(EAD_COLUMN, ascending=False, kind="stable").head(n)[columns]
