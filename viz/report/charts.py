"""Charts of a run report: gauge hydrographs, the volume ledger over time, losses by building use, and
for a design-event set the loss-exceedance curve and the buildings reached by return period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from viz.report import words
from viz.report.data import EventSetFigures
from viz.report.png import new_figure

#: Width of a chart (inches): an A4 page's text width.
CHART_WIDTH_IN = 7.0


def time_axis(seconds: np.ndarray) -> tuple[np.ndarray, str]:
    """Times (s) in minutes up to 3 h, else in hours, with the axis label."""
    seconds = np.asarray(seconds, dtype=np.float64)
    if seconds.size and np.nanmax(seconds) > 3 * 3600:
        return seconds / 3600.0, "time since the start (h)"
    return seconds / 60.0, "time since the start (min)"


def depth_axis(metres: np.ndarray) -> tuple[float, str]:
    """Scale and unit of a depth axis: cm when every depth is below 1 m, else m."""
    top = np.nanmax(np.abs(metres)) if np.size(metres) else 0.0
    return (100.0, "cm") if not top >= 1.0 else (1.0, "m")


def discharge_column(table: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The gauge's discharge and its label: a column of gauges.csv naming a discharge, else the
    discharge per metre of width q = h |u| (m²/s) from ``depth_m`` (h, m) and ``speed_m_s``
    (|u|, m/s): the cell's unit discharge, since the flood model's speed is |q| / h
    (:mod:`kernels.flood_hazard`)."""
    for column in table.columns:
        if "discharge" in column:
            name, unit = words.name_and_unit(column)
            return table[column].to_numpy(dtype=np.float64), f"{name} ({unit})"
    q = table["depth_m"].to_numpy(dtype=np.float64) * table["speed_m_s"].to_numpy(dtype=np.float64)
    return q, "discharge per metre of width,\ndepth × speed (m²/s)"


def hydrograph(name: str, table: pd.DataFrame, band: tuple[str, float, float] | None = None):
    """Depth and discharge over time at one gauge.

    Parameters
    ----------
    name : str
        The gauge's name.
    table : pandas.DataFrame
        Its rows of gauges.csv: ``time_s``, ``depth_m`` (m) and ``speed_m_s`` (m/s) or a discharge column.
    band : tuple, optional
        ``(label, low, high)``: a band of maximum depths (m) over the ensemble's members at the
        gauge, drawn across the depth panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t, t_label = time_axis(table["time_s"].to_numpy())
    depth = table["depth_m"].to_numpy(dtype=np.float64)
    scale, unit = depth_axis(np.append(depth, band[1:] if band else []))
    fig = new_figure(CHART_WIDTH_IN, 3.6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(t, scale * depth, color="#08519c", label="depth of this run")
    if band is not None:
        top.axhspan(scale * band[1], scale * band[2], color="#9ecae1", alpha=0.5, label=band[0])
        top.legend(fontsize=7, loc="upper left")
    top.set_ylabel(f"depth ({unit})")
    top.set_title(f"gauge {name}", fontsize=10)
    q, q_label = discharge_column(table)
    bottom.plot(t, q, color="#238b45")
    bottom.set_ylabel(q_label, fontsize=8)
    bottom.set_xlabel(t_label)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    return fig


def ledger_columns(ledger: pd.DataFrame) -> tuple[str, list[str], list[str]]:
    """The ledger's time column, its volume columns and its closure columns, read from its header.

    The time column is ``time_s``, else the first column naming a time; ``step`` columns are
    left out; a column naming a closure or an error is a closure column; every other numeric
    column is a volume.

    Raises
    ------
    ValueError
        When no column names a time.
    """
    times = [c for c in ledger.columns if c == "time_s"] or [c for c in ledger.columns if "time" in c]
    if not times:
        raise ValueError("no time column")
    numeric = [c for c in ledger.columns if c != times[0] and c != "step" and pd.api.types.is_numeric_dtype(ledger[c])]
    closure = [c for c in numeric if "closure" in c or "error" in c]
    return times[0], [c for c in numeric if c not in closure], closure


def ledger_chart(ledger: pd.DataFrame):
    """The volume ledger over time: each volume (m³), and the closure error below.

    Parameters
    ----------
    ledger : pandas.DataFrame
        ``ledger.csv``, columns as :func:`ledger_columns` reads them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    time_col, volumes, closure = ledger_columns(ledger)
    t, t_label = time_axis(ledger[time_col].to_numpy())
    fig = new_figure(CHART_WIDTH_IN, 4.6 if closure else 3.4)
    axes = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1)) if closure else [fig.subplots()]
    units = set()
    for column in volumes:
        name, unit = words.name_and_unit(column)
        units.add(unit or "as in ledger.csv")
        axes[0].plot(t, ledger[column].to_numpy(dtype=np.float64), label=name)
    axes[0].set_ylabel(f"volume ({', '.join(sorted(units))})")
    axes[0].legend(fontsize=7, ncols=3, loc="upper left")
    if closure:
        for column in closure:
            name, unit = words.name_and_unit(column)
            scale = 100.0 if unit == "%" else 1.0
            axes[1].plot(t, scale * ledger[column].to_numpy(dtype=np.float64), label=f"{name} ({unit})")
        axes[1].legend(fontsize=7)
        axes[1].set_ylabel("closure")
    axes[-1].set_xlabel(t_label)
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig


def losses_by_use_chart(by_use: pd.DataFrame, loss_label: str):
    """Horizontal bars of the expected loss per building use.

    Parameters
    ----------
    by_use : pandas.DataFrame
        Indexed by use, with a ``loss`` column (KRW), largest first.
    loss_label : str
        Axis label in words.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(CHART_WIDTH_IN, 0.6 + 0.35 * max(len(by_use), 1))
    ax = fig.subplots()
    top = float(by_use["loss"].max()) if len(by_use) else 0.0
    scale, word = words.money_scale(top)
    ax.barh(list(by_use.index)[::-1], by_use["loss"].to_numpy()[::-1] / scale, color="#cb181d")
    ax.set_xlabel(f"{loss_label} ({word} KRW)".replace("( ", "("))
    ax.grid(axis="x", alpha=0.3)
    return fig


#: Points drawn per segment of the loss-exceedance curve on the return-period axis: the curve is
#: linear in AEP between its points, which is a curve on a logarithmic axis of T = 1/AEP.
SEGMENT_SAMPLES = 64
#: How far (a factor of the largest return period) the return-period axis goes beyond the rarest event.
TAIL_SPAN = 4.0
#: Colours of the counted curve and of the events the protection standard leaves out.
CURVE_COLOUR, LEFT_OUT_COLOUR = "#cb181d", "#969696"


def _curve_between(aep: np.ndarray, loss: np.ndarray, low: float) -> tuple[np.ndarray, np.ndarray]:
    """The curve through the points ``(aep, loss)`` (AEP decreasing), linear in AEP between them,
    sampled in every segment (:data:`SEGMENT_SAMPLES` points, the segment's ends included) from the
    first point down to AEP ``low`` > 0 (at or above the last point's AEP)."""
    ends = np.append(aep[aep > low], low)
    p = np.concatenate([np.linspace(a, b, SEGMENT_SAMPLES) for a, b in zip(ends[:-1], ends[1:])])
    return p, np.interp(p, aep[::-1], loss[::-1])


def loss_exceedance_chart(events: EventSetFigures, ead_words: str):
    """The loss-exceedance curve of a design-event set, as the run integrated it, in two panels.

    Top: total loss against the return period T = 1/AEP (years, logarithmic): the events the curve
    counts (filled), those at or below ``protection_rp`` (open, grey: the model's loss, not
    counted), the protection point (0 at T = P) and the curve between (linear in AEP, so bent on
    this axis), up to :data:`TAIL_SPAN` times the largest T; the rare tail's loss at AEP 0 is
    written at the right edge (or that the curve is truncated). Bottom: the same points on a
    linear AEP axis, joined by straight segments (the trapezoid rule), the area under them shaded:
    it is the expected annual damage.

    Parameters
    ----------
    events : EventSetFigures
        From summary.json.
    ead_words : str
        The EAD in words (``42.6 million KRW per year``).

    Returns
    -------
    matplotlib.figure.Figure
        The lines carry ids (``gid``): ``events-counted``, ``events-left-out``, ``protection``,
        ``curve-by-return-period`` (top), ``loss-curve`` (bottom: exactly the curve's points).
    """
    t, losses = events.return_periods, events.loss_krw
    aep, curve = events.curve_aep, events.curve_loss_krw
    scale, word = words.money_scale(max(float(np.max(curve, initial=0.0)), float(np.max(losses, initial=0.0))))
    unit = f"{word} KRW".strip()
    fig = new_figure(CHART_WIDTH_IN, 6.4)
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 2))
    counted = events.counted
    p, y = _curve_between(aep, curve, 1.0 / (t[-1] * TAIL_SPAN) if aep[-1] == 0 else 1.0 / t[-1])
    top.plot(1.0 / p, y / scale, color=CURVE_COLOUR, gid="curve-by-return-period",
             label="loss-exceedance curve counted (linear in AEP between points)")
    top.plot(t[counted], losses[counted] / scale, "o", color=CURVE_COLOUR, gid="events-counted",
             label="design events")
    if (~counted).any():
        top.plot(t[~counted], losses[~counted] / scale, "o", mfc="none", color=LEFT_OUT_COLOUR, gid="events-left-out",
                 label=f"events at or below protection_rp = {events.protection_rp:g} years (loss not counted)")
    if events.protection_rp > 0:
        top.plot([events.protection_rp], [0.0], "s", color=CURVE_COLOUR, mfc="white", gid="protection",
                 label=f"protection point: no loss at T = {events.protection_rp:g} years")
    right = t[-1] * TAIL_SPAN
    if aep[-1] == 0:
        what = "held" if events.tail == "constant" else "extended linearly in AEP"
        top.annotate(f"rare tail '{events.tail}': {what}\nto AEP 0, where the loss is {curve[-1] / scale:,.3g} {unit}",
                     xy=(right, y[-1] / scale), xytext=(0.98, 0.72), textcoords="axes fraction", ha="right",
                     va="top", fontsize=7, arrowprops={"arrowstyle": "->", "color": CURVE_COLOUR, "lw": 0.8})
    else:
        top.axvline(t[-1], color=CURVE_COLOUR, lw=0.8, ls=":")
        top.annotate(f"truncated: nothing counted\nbeyond T = {t[-1]:g} years", xy=(t[-1], 0.0), xytext=(-4, 4),
                     textcoords="offset points", ha="right", fontsize=7)
    top.set_xscale("log")
    ticks = np.unique(np.append(t, events.protection_rp) if events.protection_rp > 0 else t)
    top.set_xticks(ticks, [f"{x:g}" for x in ticks])
    top.set_xticks([], minor=True)
    top.set_xlim(ticks[0] / 1.5, right)
    top.set_xlabel("return period T (years), logarithmic; annual exceedance probability AEP = 1/T")
    top.set_ylabel(f"total loss ({unit})")
    top.legend(fontsize=7, loc="upper left")
    bottom.plot(aep, curve / scale, "o-", color=CURVE_COLOUR, ms=3, gid="loss-curve")
    bottom.fill_between(aep, curve / scale, color=CURVE_COLOUR, alpha=0.2, lw=0)
    if (~counted).any():
        bottom.plot(1.0 / t[~counted], losses[~counted] / scale, "o", mfc="none", color=LEFT_OUT_COLOUR)
    bottom.set_xlim(left=0.0)
    bottom.set_xlabel("annual exceedance probability AEP (per year), linear")
    bottom.set_ylabel(f"total loss ({unit})")
    bottom.set_title(f"shaded area = expected annual damage = {ead_words}", fontsize=9)
    for ax in (top, bottom):
        ax.grid(alpha=0.3, which="both")
        ax.set_ylim(bottom=0)
    return fig


def reached_chart(events: EventSetFigures, label: str):
    """Bars of the buildings reached (e.g. water above the first floor) by each design event.

    Parameters
    ----------
    events : EventSetFigures
    label : str
        What a bar counts, in words.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(CHART_WIDTH_IN, 2.6)
    ax = fig.subplots()
    ax.bar([f"{t:g}" for t in events.return_periods], events.reached, color="#2171b5", gid="reached")
    ax.set_xlabel("return period T of the design event (years)")
    ax.set_ylabel(label, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig
