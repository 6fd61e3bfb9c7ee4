"""Top-view maps of a run for its report: the hazard over a hillshade, the buildings by risk class,
a scale bar and a north arrow.

A depth layer is drawn in the stepped classes planners use (5, 10, 30, 50, 100, 200 cm); a time
layer (an arrival time, s) as the area it reached with isochrones every 30 min and the earliest
cells marked; any other layer as a continuous drape with its colour bar. The grid is north-up
(docs/architecture.md, "Conventions"), so north is up the page.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, LightSource, ListedColormap
from matplotlib.patches import Patch
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from twin.risk.vulnerability import RISK_CLASSES
from viz.palette import DEPTH_BOUNDS_M, DEPTH_COLOURS, RISK_COLOURS
from viz.report import words
from viz.report.png import new_figure
from viz.run_data import WATER_LAYERS, Layer, RunData

#: Interval (s) between isochrones of a time layer.
ISOCHRONE_EVERY_S = 1800.0
#: Fill of the area a time layer reached.
REACHED_COLOUR = "#fdae6b"
#: Width of a map figure (inches): an A4 page's text width.
MAP_WIDTH_IN = 7.0


def depth_class_labels() -> list[str]:
    """Legend labels of :data:`DEPTH_BOUNDS_M`: ``5–10 cm``, …, ``1–2 m``, ``over 2 m``."""
    bounds = [words.depth(b) for b in DEPTH_BOUNDS_M]
    labels = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        same_unit = lo.split()[1] == hi.split()[1]
        labels.append(f"{lo.split()[0]}–{hi}" if same_unit else f"{lo}–{hi}")
    return labels + [f"over {bounds[-1]}"]


def extent(run: RunData) -> tuple[float, float, float, float]:
    """Left, right, bottom, top (m, the twin's CRS) of the grid's outer cell edges."""
    x, y = run.twin["x"].values, run.twin["y"].values
    half = float(run.twin.attrs["cell_size"]) / 2.0
    return float(x.min()) - half, float(x.max()) + half, float(y.min()) - half, float(y.max()) + half


def _hillshade(run: RunData) -> np.ndarray:
    """Hillshade (0..1) of the terrain, light from the north-west (cells outside the domain 1)."""
    z = np.asarray(run.twin["elevation"].values, dtype=np.float64)
    finite = np.isfinite(z)
    z = np.where(finite, z, np.nanmean(z) if finite.any() else 0.0)
    cell = float(run.twin.attrs["cell_size"])
    shade = LightSource(azdeg=315, altdeg=45).hillshade(z, vert_exag=2.0, dx=cell, dy=cell)
    return np.where(finite, shade, 1.0)


def building_classes(run: RunData) -> np.ndarray:
    """Risk-class index per cell (:data:`RISK_CLASSES`; -1 off buildings, 0 for a building the
    table does not list)."""
    ids = np.asarray(run.twin["building_id"].values, dtype=np.int64)
    table = run.buildings
    lookup = np.zeros(max(int(ids.max()), 0) + 1, dtype=np.int64)
    if table is not None and "risk_class_name" in table:
        codes = table["risk_class_name"].map({c: k for k, c in enumerate(RISK_CLASSES)}).fillna(0)
        known = (table["building_id"] >= 0) & (table["building_id"] < lookup.size)
        lookup[table["building_id"][known].astype(int)] = codes[known].astype(int)
    return np.where(ids > 0, lookup[np.clip(ids, 0, None)], -1)


def _draw_base(ax, run: RunData) -> None:
    ax.imshow(_hillshade(run), cmap="gray", vmin=-1.2, vmax=1.25, extent=extent(run), interpolation="bilinear")


def _draw_footprints(ax, run: RunData) -> None:
    """Buildings in a neutral grey, for orientation."""
    ids = np.asarray(run.twin["building_id"].values)
    ax.imshow(np.ma.masked_where(ids <= 0, np.ones(ids.shape)), cmap=ListedColormap([RISK_COLOURS["none"]]),
              extent=extent(run), interpolation="nearest")


def _draw_buildings(ax, run: RunData) -> list[Patch]:
    """Buildings filled by risk class and outlined; returns their legend entries with counts."""
    classes = building_classes(run)
    cmap = ListedColormap([RISK_COLOURS[c] for c in RISK_CLASSES])
    ax.imshow(np.ma.masked_less(classes, 0), cmap=cmap, vmin=-0.5, vmax=len(RISK_CLASSES) - 0.5,
              extent=extent(run), interpolation="nearest")
    x, y = run.twin["x"].values, run.twin["y"].values
    ax.contour(x, y, (classes >= 0).astype(float), levels=[0.5], colors="#404040", linewidths=0.25)
    counts = {c: 0 for c in RISK_CLASSES}
    if run.buildings is not None and "risk_class_name" in run.buildings:
        counts.update(run.buildings["risk_class_name"].value_counts().to_dict())
    return [Patch(facecolor=RISK_COLOURS[c], edgecolor="#404040", linewidth=0.5,
                  label=f"buildings, risk {c} ({counts.get(c, 0):,})") for c in RISK_CLASSES]


def nice_length(span_m: float) -> float:
    """A round scale-bar length (m) of about a fifth of ``span_m``: 1, 2 or 5 times a power of ten."""
    target = span_m / 5.0
    power = 10.0 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def _scale_and_north(ax, run: RunData) -> None:
    left, right, _, _ = extent(run)
    length = nice_length(right - left)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.add_artist(AnchoredSizeBar(ax.transData, length, label, "lower left", pad=0.5, sep=4, frameon=True,
                                  size_vertical=(right - left) / 250.0))
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.86), xycoords="axes fraction", ha="center", va="center",
                fontsize=11, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "facecolor": "black", "linewidth": 1.5},
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})


def _axes(run: RunData, title: str):
    left, right, bottom, top = extent(run)
    fig = new_figure(MAP_WIDTH_IN, MAP_WIDTH_IN * (top - bottom) / (right - left) + 1.2)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("easting (m)")
    ax.set_ylabel("northing (m)")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    _draw_base(ax, run)
    return fig, ax


def depth_classes(depth_m: np.ndarray) -> np.ndarray:
    """Index of each cell's depth class in :data:`DEPTH_BOUNDS_M` (-1 below the first bound or NaN)."""
    return np.digitize(np.nan_to_num(depth_m, nan=-1.0), DEPTH_BOUNDS_M) - 1


def _depth_map(ax, run: RunData, layer: Layer) -> list[Patch]:
    classes = depth_classes(layer.values)
    ax.imshow(np.ma.masked_less(classes, 0), cmap=ListedColormap(DEPTH_COLOURS), vmin=-0.5,
              vmax=len(DEPTH_COLOURS) - 0.5, extent=extent(run), interpolation="nearest")
    return [Patch(facecolor=c, label=f"depth {label}") for c, label in zip(DEPTH_COLOURS, depth_class_labels())]


def _time_map(ax, run: RunData, layer: Layer) -> list:
    t = np.where(np.isfinite(layer.values), layer.values, np.nan)
    reached = np.isfinite(t)
    ax.imshow(np.ma.masked_where(~reached, np.ones_like(t)), cmap=ListedColormap([REACHED_COLOUR]),
              extent=extent(run), interpolation="nearest", alpha=0.8)
    handles: list = [Patch(facecolor=REACHED_COLOUR, label=f"reached ({words.area(reached.sum() * _cell_area(run))})")]
    if not reached.any():
        return handles
    x, y = run.twin["x"].values, run.twin["y"].values
    levels = np.arange(ISOCHRONE_EVERY_S, np.nanmax(t) + 1e-9, ISOCHRONE_EVERY_S)
    if levels.size:
        lines = ax.contour(x, y, np.where(reached, t, np.nanmax(t) + ISOCHRONE_EVERY_S), levels=levels,
                           colors="#7f2704", linewidths=1.2, zorder=5)
        ax.clabel(lines, fmt=lambda v: words.duration(v), fontsize=7)
        handles.append(ax.plot([], [], color="#7f2704", linewidth=1.2,
                               label=f"isochrones every {words.duration(ISOCHRONE_EVERY_S)}")[0])
    first = reached & (t <= np.nanmin(t))
    rows, cols = np.nonzero(first)
    handles.append(ax.plot(x[cols].mean(), y[rows].mean(), marker="*", markersize=14, color="black",
                           markeredgecolor="white", linestyle="none", zorder=6,
                           label=f"reached first, at {words.duration(float(np.nanmin(t)))}")[0])
    return handles


def _cell_area(run: RunData) -> float:
    return float(run.twin.attrs["cell_size"]) ** 2


def _drape_map(fig, ax, run: RunData, layer: Layer) -> list:
    name, unit = words.name_and_unit(layer.name)
    scale = 100.0 if unit == "%" else 1.0
    image = ax.imshow(scale * layer.values, cmap="viridis", extent=extent(run), interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.7, label=f"{name} ({unit or layer.units})")
    return []


def hazard_map(run: RunData, layer: Layer, title: str):
    """The top-view map of one layer of the run, buildings by risk class, scale bar, north arrow.

    Parameters
    ----------
    run : RunData
    layer : Layer
        The layer drawn: a depth (m; :data:`viz.run_data.WATER_LAYERS`) in :data:`DEPTH_BOUNDS_M`,
        a time (s) with isochrones every :data:`ISOCHRONE_EVERY_S`, anything else as a drape.
    title : str
        Title in words.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(run, title)
    if layer.name in WATER_LAYERS:
        handles = _depth_map(ax, run, layer)
    elif layer.units == "s":
        handles = _time_map(ax, run, layer)
    else:
        handles = _drape_map(fig, ax, run, layer)
    handles += _draw_buildings(ax, run)
    _scale_and_north(ax, run)
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7, frameon=False)
    return fig


def probability_maps(run: RunData, names: list[str], titles: list[str]):
    """Small maps of probabilities (0..1 in risk.nc) in per cent, two to a row.

    Parameters
    ----------
    run : RunData
    names : list of str
        Variables of risk.nc (units ``1``).
    titles : list of str
        One title in words per map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    columns = 2
    rows = math.ceil(len(names) / columns)
    left, right, bottom, top = extent(run)
    panel = MAP_WIDTH_IN / columns
    fig = new_figure(MAP_WIDTH_IN, rows * panel * (top - bottom) / (right - left) + 0.9)
    bounds = np.linspace(0.0, 100.0, 11)
    cmap = ListedColormap(colormaps["YlOrRd"](np.linspace(0.15, 1.0, 10)))
    norm = BoundaryNorm(bounds, cmap.N)
    image = None
    for k, (name, title) in enumerate(zip(names, titles)):
        ax = fig.add_subplot(rows, columns, k + 1)
        _draw_base(ax, run)
        _draw_footprints(ax, run)
        p = 100.0 * np.asarray(run.risk[name].values, dtype=np.float64)
        image = ax.imshow(np.ma.masked_where(~(p > 0), p), cmap=cmap, norm=norm, extent=extent(run),
                          interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if image is not None:
        fig.colorbar(image, ax=fig.axes, orientation="horizontal", shrink=0.6, label="probability over members (%)")
    return fig
