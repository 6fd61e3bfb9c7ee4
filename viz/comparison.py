"""The stills and report of a comparison folder (``twin compare``, :mod:`twin.adaptation.compare`).

Per strategy: ``compare_<strategy>.png``, the baseline's and the strategy's map of the hazard's
render layer side by side (the run report's top-view maps, :func:`viz.report.maps.hazard_map`);
``change_<strategy>.png``, the change of that layer with the cells newly reached and newly spared,
and the buildings that gain (less loss) and lose (more loss). ``report.html`` gathers the
summary's figures and these images (matplotlib, no pyvista).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import xarray as xr
from matplotlib.colors import ListedColormap, TwoSlopeNorm
from matplotlib.image import imread
from matplotlib.patches import Patch

from twin.adaptation.layer import MEASURES_LAYER
from twin.core.atomic import atomic_path
from viz.report.maps import extent, hazard_map
from viz.report.png import DPI, new_figure
from viz.run_data import get_layer, load_run

#: Colours of the buildings that gain, lose and stay the same, and of newly reached and spared cells.
OUTCOME_COLOURS = {"gains": "#1a9850", "loses": "#d73027", "same": "#bdbdbd"}
NEWLY_REACHED, NEWLY_SPARED, MEASURE_COLOUR = "#b2182b", "#2166ac", "black"


def _png(fig) -> np.ndarray:
    """The figure rendered (RGBA array)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    buffer.seek(0)
    return imread(buffer)


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI)


def side_by_side(folder: Path, strategy: str, layer: str) -> Path:
    """``compare_<strategy>.png``: the baseline's and the strategy's map of ``layer``, side by side."""
    images = []
    for name, title in (("baseline", "baseline"), (strategy, f"strategy {strategy}")):
        run = load_run(folder / name)
        images.append(_png(hazard_map(run, get_layer(run, layer), f"{title}: {layer.replace('_', ' ')}")))
    height, width = images[0].shape[:2]
    fig = new_figure(2 * width / DPI, height / DPI)
    for k, image in enumerate(images):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.imshow(image)
        ax.set_axis_off()
    path = folder / f"compare_{strategy}.png"
    _save(fig, path)
    return path


def change_map(folder: Path, strategy: str, layer: str) -> Path:
    """``change_<strategy>.png``: the change of ``layer`` with the newly reached and spared cells, and
    the buildings by outcome."""
    run = load_run(folder / "baseline")
    with xr.open_dataset(folder / f"difference_{strategy}.nc") as ds:
        change = ds[f"{layer}_change"].values
        reached = ds["reached_change"].values
        units = ds[f"{layer}_change"].attrs.get("units", "")
    table = pd.read_csv(folder / f"avoided_{strategy}.csv")
    ids = np.asarray(run.twin["building_id"].values, dtype=np.int64)
    codes = {k: i for i, k in enumerate(OUTCOME_COLOURS)}
    lookup = np.full(max(int(ids.max()), 0) + 1, codes["same"])
    lookup[table["building_id"].to_numpy(int)] = table["outcome"].map(codes).to_numpy(int)
    box = extent(run)
    fig = new_figure(12.0, 6.4)
    ax = fig.add_subplot(1, 2, 1)
    shown = np.where(np.isfinite(change) & (change != 0), change, np.nan)
    span = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
    image = ax.imshow(shown, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -span, span), extent=box, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.7, label=f"{layer.replace('_', ' ')} change ({units}), strategy - baseline")
    for value, colour in ((1, NEWLY_REACHED), (-1, NEWLY_SPARED)):
        mask = (reached == value).astype(float)
        if mask.any():
            ax.contour(run.twin["x"].values, run.twin["y"].values, mask, levels=[0.5], colors=colour, linewidths=0.8)
    n_new, n_spared = int(np.sum(reached == 1)), int(np.sum(reached == -1))
    ax.imshow(np.ma.masked_where(ids <= 0, np.ones(ids.shape)), cmap=ListedColormap(["#d9d9d9"]), extent=box,
              interpolation="nearest", zorder=0)
    _draw_measures(ax, folder / f"measures_{strategy}.gpkg")
    ax.legend(handles=[Patch(edgecolor=NEWLY_REACHED, facecolor="none", label=f"newly reached ({n_new} cells)"),
                       Patch(edgecolor=NEWLY_SPARED, facecolor="none", label=f"newly spared ({n_spared} cells)"),
                       Patch(edgecolor=MEASURE_COLOUR, facecolor="none", label="measures")],
              loc="lower left", fontsize=7)
    ax.set_title(f"where the hazard changed: {strategy}", fontsize=10)
    ax2 = fig.add_subplot(1, 2, 2)
    outcome = np.where(ids > 0, lookup[np.clip(ids, 0, None)], -1)
    ax2.imshow(np.ma.masked_less(outcome, 0), cmap=ListedColormap(list(OUTCOME_COLOURS.values())), vmin=-0.5,
               vmax=len(OUTCOME_COLOURS) - 0.5, extent=box, interpolation="nearest")
    counts = table["outcome"].value_counts().to_dict()
    ax2.legend(handles=[Patch(facecolor=c, label=f"{k} ({counts.get(k, 0)})") for k, c in OUTCOME_COLOURS.items()],
               loc="lower left", fontsize=7)
    ax2.set_title("buildings: less loss (gains), more loss (loses)", fontsize=10)
    for a in (ax, ax2):
        a.tick_params(labelsize=6)
        a.ticklabel_format(useOffset=False, style="plain")
    path = folder / f"change_{strategy}.png"
    _save(fig, path)
    return path


def _draw_measures(ax, path: Path) -> None:
    """The measures' geometries (their layer, :func:`twin.adaptation.layer.write_measures`) as outlines."""
    for geom in pyogrio.read_dataframe(path, layer=MEASURES_LAYER).geometry:
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "Point":
                ax.plot(part.x, part.y, marker="^", color=MEASURE_COLOUR, markersize=6)
            else:
                ax.plot(*(part.exterior if part.geom_type == "Polygon" else part).xy, color=MEASURE_COLOUR,
                        linewidth=1.0)


def _money(value) -> str:
    return "—" if value is None else f"{value:,.0f} KRW"


def _rows(st: dict) -> list[tuple[str, str]]:
    econ = st["economics"]
    rows = [("measures", ", ".join(f"{m['name']} ({m['type']})" for m in st["measures"]) or "none"),
            ("cost", _money(st["cost_krw"])),
            (f"baseline loss ({st['loss_column']})", _money(st["baseline_loss_krw"])),
            (f"strategy loss ({st['loss_column']})", _money(st["strategy_loss_krw"])),
            ("avoided loss", _money(st["avoided_loss_krw"])),
            ("buildings gaining / losing / same", " / ".join(str(st["buildings"][k]) for k in ("gains", "loses", "same"))),
            ("cells newly reached / newly spared",
             f"{st['cells']['cells_newly_reached']} / {st['cells']['cells_newly_spared']}")]
    rows += [(f"avoided loss, {k}", _money(v)) for k, v in st["avoided_loss_per_event_krw"].items()]
    if "note" in econ:
        return rows + [("benefit-cost", econ["note"])]
    bcr = econ["benefit_cost_ratio"]
    return rows + [("avoided expected annual damage", f"{econ['avoided_ead_krw_per_year']:,.0f} KRW/yr "
                                                      f"({econ['avoided_ead_from']})"),
                   ("present value", f"{econ['present_value_krw']:,.0f} KRW over {econ['lifetime_years']} years at "
                                     f"{100 * econ['discount_rate']:g} %"),
                   ("benefit-cost ratio", "— (no cost)" if bcr is None else f"{bcr:.2f}")]


def write_comparison_report(folder: Path, summary: dict) -> Path:
    """Write the stills of each strategy and ``report.html`` into the comparison folder."""
    from twin.hazards.registry import get_hazard

    layer = get_hazard(summary["hazard"]).outputs.render_layer
    parts = [f"<h1>Comparison: {html.escape(summary['scenario'])}</h1>",
             f"<p>Scenario file {html.escape(summary['scenario_file'])}; baseline run folder "
             f"<code>{summary['baseline_folder']}/</code>.</p>"]
    for st in summary["strategies"]:
        name = st["strategy"]
        pair, change = side_by_side(folder, name, layer), change_map(folder, name, layer)
        table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _rows(st))
        parts += [f"<h2>Strategy {html.escape(name)}</h2><p>{html.escape(st['description'])}</p>",
                  f"<table>{table}</table>", f'<img src="{pair.name}" alt="baseline and strategy">',
                  f'<img src="{change.name}" alt="change">']
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>comparison</title><style>body{font-family:"
            "sans-serif;max-width:1400px;margin:auto}img{max-width:100%}th{text-align:left;padding-right:1em}"
            "</style></head><body>" + "".join(parts) + "</body></html>")
    path = folder / "report.html"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return path
