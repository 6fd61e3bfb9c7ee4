"""Charts of a run report: gauge hydrographs, the volume ledger over time, losses by building use."""

from __future__ import annotations

import numpy as np
import pandas as pd

from viz.report import words
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
