"""The sections of a run report, each from what the run folder holds; a section whose data the
run did not write says so in a note instead of being left out silently. The section of a
design-event set (:func:`event_set_section`) is in the reports of event-set runs only."""

from __future__ import annotations

import json
import re

from twin.core.citytwin import twin_grid
from twin.hazards.registry import get_hazard
from viz.report import charts, html, maps, tables, words
from viz.report.data import ReportData
from viz.report.png import data_uri
from viz.run_data import get_layer

#: Probability maps shown per figure (two rows of two, one printed page).
MAPS_PER_FIGURE = 4


def _over(data: ReportData) -> str:
    """``over 2 h`` (the simulated duration), or ``over the run``."""
    return f"over {words.duration(data.duration_s)}" if data.duration_s is not None else "over the run"


def _ensemble_words(data: ReportData) -> str:
    return "a single run (1 member)" if data.members == 1 else f"an ensemble of {data.members} members"


def header(data: ReportData) -> str:
    """Title (the scenario's description) and what the run was."""
    run = data.run
    facts = [f"{run.kind} run of scenario {run.scenario_name}"]
    if data.duration_s is not None:
        facts.append(f"{words.duration(data.duration_s)} simulated")
    facts.append(_ensemble_words(data))
    if data.issued:
        facts.append(f"forecast issued {data.issued}")
    manifest = data.manifest or {}
    if manifest.get("finished"):
        facts.append(f"finished {manifest['finished']}")
    if manifest.get("status"):
        facts.append(f"status {manifest['status']}")
    return (f"<h1>{html.text(data.description)}</h1>"
            f"<p class=\"meta\">{html.text(' · '.join(facts))}</p>")


def headline_section(data: ReportData) -> str:
    """The headline figures of summary.json."""
    rows = tables.headline(data.summary)
    if not rows:
        return html.section("headline", "Headline figures", html.note("summary.json holds none of the headline figures"))
    body = html.table(["figure", "value"], [[r.label, r.text] for r in rows], numeric=(1,),
                      row_attrs=[{"data-key": r.key, "data-value": json.dumps(r.value)} for r in rows],
                      css_class="headline")
    return html.section("headline", "Headline figures", body)


def map_title(data: ReportData, layer) -> str:
    """The map's title in words: ``maximum water depth over 2 h``, ``time the fire reached each
    cell over 6 h``."""
    if layer.units == "s":
        return f"time the {data.run.kind} reached each cell {_over(data)}"
    long_name = str(data.run.hazard[layer.name].attrs.get("long_name", words.name_and_unit(layer.name)[0]))
    return long_name.replace(" over the run", "") + f" {_over(data)}"


def map_section(data: ReportData) -> str:
    """The top-view map of the hazard's default layer."""
    layer = get_layer(data.run, data.run.outputs.render_layer)
    title = map_title(data, layer)
    fig = maps.hazard_map(data.run, layer, title)
    caption = f"{data.description}: {title}; {_ensemble_words(data)}"
    if data.events is not None:
        caption += (f"; the run's control is its rarest design event, T = {data.events.return_periods[-1]:g} years "
                    "(the maps of every return period are in risk.nc and the viewer)")
    if data.issued:
        caption += f"; forecast issued {data.issued}"
    caption += ". Buildings coloured by their risk class (as in the table of buildings most at risk)."
    return html.section("map", "Map", html.figure(data_uri(fig), title, caption))


def _gauge_cells(data: ReportData) -> dict[str, tuple[int, int]]:
    """Cells of the scenario's gauges, by name (empty without the scenario file)."""
    grid = twin_grid(data.run.twin)
    gauges = (data.scenario.data.get("output") or {}).get("gauges") or []
    cells = {}
    for gauge in gauges:
        cell = grid.cell_of(*gauge["at"]) if isinstance(gauge, dict) and "at" in gauge else None
        if cell is not None:
            cells[str(gauge["name"])] = cell
    return cells


def member_band(data: ReportData, cell: tuple[int, int]) -> tuple[str, float, float] | None:
    """The band of maximum depths (m) at a cell between the lowest and the highest percentile
    over members that risk.nc holds (``max_depth_pNN``), for a run of several members."""
    risk = data.run.risk
    if data.members < 2 or risk is None:
        return None
    found = sorted((int(m.group(1)), v) for v in risk.data_vars if (m := re.fullmatch(r"max_depth_p(\d+)", v)))
    if len(found) < 2:
        return None
    (lo, lo_name), (hi, hi_name) = found[0], found[-1]
    values = [float(risk[n].values[cell]) for n in (lo_name, hi_name)]
    return f"maximum depth over the {data.members} members, {lo}th to {hi}th percentile", *values


def gauges_section(data: ReportData) -> str:
    """Depth and discharge over time at each gauge, with the members' band where there is one."""
    title = "Gauges"
    if data.gauges is None:
        return html.section("gauges", title, html.note("This run recorded no gauges (no output.gauges in its scenario)."))
    cells = _gauge_cells(data)
    parts = []
    if data.members > 1:
        parts.append(html.note("The hydrographs are the control run's; the band is the spread of the maximum depth "
                               "over the members at the gauge's cell (risk.nc)."))
    for name, rows in data.gauges.groupby("gauge", sort=False):
        band = member_band(data, cells[name]) if name in cells else None
        fig = charts.hydrograph(name, rows, band)
        caption = f"Depth and discharge at gauge {name} ({len(rows)} records)."
        if band is not None:
            caption += f" Band: {band[0]}, from {words.depth(band[1])} to {words.depth(band[2])}."
        parts.append(html.figure(data_uri(fig), f"hydrograph at gauge {name}", caption))
    return html.section("gauges", title, "".join(parts))


def ledger_section(data: ReportData) -> str:
    """The volume ledger over time (``ledger.csv``), or a note where the run has none."""
    title = "Volume ledger"
    if data.ledger is None:
        totals = (" The run's totals are in the table of all figures (volume ledger)."
                  if "volume_ledger_m3" in data.summary else "")
        return html.section("ledger", title, html.note(
            f"This run folder holds no ledger.csv, so the volume ledger over time is not shown.{totals}"))
    try:
        fig = charts.ledger_chart(data.ledger)
    except ValueError:
        return html.section("ledger", title, html.note(
            f"ledger.csv has no time column (its columns: {', '.join(data.ledger.columns)})."))
    return html.section("ledger", title, html.figure(
        data_uri(fig), "volume ledger over time",
        "Cumulative volumes of the ledger (rain, inflow, outflow through each open edge, infiltration, drainage, "
        "storage) and its closure error, as ledger.csv records them."))


def _no_losses(data: ReportData, what: str) -> str:
    """Why a section of a single storm's losses is empty: no such table, or an event set's losses
    (per return period and per year, in the section "Annual damage")."""
    if data.events is not None:
        return ("This run is a design-event set: its losses are per return period and per year, in the section "
                "\"Annual damage\".")
    return f"This run has no building table {what}."


def damage_by_use_section(data: ReportData) -> str:
    """Buildings by risk class and expected loss per building use."""
    title = "Damage by building use"
    by_use = tables.losses_by_use(data.run)
    if by_use.empty:
        return html.section("damage-by-use", title, html.note(_no_losses(data, "with uses and losses")))
    classes = [c for c in by_use.columns if c not in ("buildings", "loss", "share")]
    headers = ["use", "buildings", *[f"risk {c}" for c in classes], "expected loss", "share of the loss"]
    rows = [[use, f"{int(r['buildings']):,}", *[f"{int(r[c]):,}" for c in classes], words.money(r["loss"]),
             words.percent(r["share"])] for use, r in by_use.iterrows()]
    loss_words = words.name_and_unit(tables.loss_column(data.run))[0]
    fig = charts.losses_by_use_chart(by_use, loss_words)
    body = html.table(headers, rows, numeric=tuple(range(1, len(headers))), css_class="by-use")
    return html.section("damage-by-use", title, body + html.figure(data_uri(fig), "expected loss by building use",
                                                                   f"{loss_words} by building use"))


def buildings_section(data: ReportData) -> str:
    """The buildings with the largest expected loss."""
    title = f"The {tables.TOP_BUILDINGS} buildings most at risk"
    top = tables.most_at_risk(data.run)
    if top.empty:
        return html.section("buildings", title, html.note(_no_losses(data, "with losses")))
    headers = [words.name_and_unit(c)[0] for c in top.columns]
    rows = [[tables.cell_text(c, r[c]) for c in top.columns] for _, r in top.iterrows()]
    ids = [{"data-building-id": str(int(b))} for b in top["building_id"]]
    body = html.table(headers, rows, numeric=tuple(range(2, len(headers) - 1)), row_attrs=ids, css_class="buildings")
    walls = (" Depth at the walls: the maximum depth on the open cells around the footprint."
             if "expected_depth_max_m" in top else "")
    return html.section("buildings", title, body + html.note(f"Largest expected loss first.{walls}"))


def _ead_words(amount: float) -> str:
    """An expected annual damage (KRW per year) in words."""
    return f"{words.money(amount)} per year"


def _ead_buildings(data: ReportData, reached_column: str) -> str:
    """The table of the buildings of largest expected annual damage (buildings.csv), or a note."""
    top = tables.highest_ead(data.run, data.events, reached_column)
    title = f"<h3>The {tables.TOP_BUILDINGS} buildings of largest expected annual damage</h3>"
    if top.empty:
        return title + html.note("buildings.csv holds no expected annual damage.")
    cells = [[tables.cell_text(c, r[c]) for c in top.columns] for _, r in top.iterrows()]
    numeric = tuple(k for k, c in enumerate(top.columns) if c not in tables.TEXT_COLUMNS and "source" not in c)
    return title + html.table(
        [words.name_and_unit(c)[0] for c in top.columns], cells, numeric=numeric,
        row_attrs=[{"data-building-id": str(int(b))} for b in top["building_id"]], css_class="ead-buildings") + \
        html.note("Largest expected annual damage first; the losses per event are the model's, before the "
                  "protection standard; '–' where no event of the set reaches the first floor.")


def event_set_section(data: ReportData) -> str:
    """A design-event set: its loss-exceedance curve with the tails as configured, the expected
    annual damage, the buildings reached by return period and the buildings of largest EAD, read
    from summary.json and buildings.csv; "" for a run of a single storm."""
    events = data.events
    if events is None:
        return ""
    given = events.events
    reached = get_hazard(data.run.kind).events.risk.reached
    reached_words = words.name_and_unit(reached.count)[0]
    t = events.return_periods
    conventions = given.get("tail_conventions", {})
    facts = [given.get("temporal"),
             f"storms of {words.duration(float(given['storm_duration_s']))}" if "storm_duration_s" in given else None,
             f"IDF {given['idf']}" if "idf" in given else None]
    said = "; ".join(str(f) for f in facts if f)
    intro = f"{t.size} design events of return period {t[0]:g} to {t[-1]:g} years" + (f" ({said})" if said else "")
    body = (f"<p>{html.text(intro)}. Expected annual damage: <strong data-key=\"ead\" "
            f"data-value=\"{events.ead_krw!r}\">{html.text(_ead_words(events.ead_krw))}</strong>, the trapezoid "
            "of the total loss over the annual exceedance probability.</p>")
    ends = [conventions.get(k) for k in ("frequent_end", "rare_end", "rule") if conventions.get(k)]
    if ends:
        body += html.note("Tails of the curve: " + "; ".join(ends) + ".")
    fig = charts.loss_exceedance_chart(events, _ead_words(events.ead_krw))
    body += html.figure(data_uri(fig), "loss-exceedance curve",
                        f"Loss-exceedance curve: total loss over the buildings against the return period (top) and "
                        f"the annual exceedance probability (bottom); protection_rp {events.protection_rp:g} years, "
                        f"rare tail '{events.tail}'. Points as summary.json holds them (risk.events.loss_curve).")
    body += "<h3>Points of the curve</h3>" + html.table(
        ["AEP", "return period", "total loss", "point"], tables.curve_rows(events), numeric=(0, 1, 2),
        row_attrs=[{"data-aep": repr(float(p)), "data-loss": repr(float(v))}
                   for p, v in zip(events.curve_aep, events.curve_loss_krw)], css_class="loss-curve")
    headers, rows = tables.event_rows(events, reached_words)
    body += "<h3>Design events</h3>" + html.table(
        headers, rows, numeric=tuple(range(1, len(headers))),
        row_attrs=[{"data-return-period": repr(float(x)), "data-reached": str(int(n))}
                   for x, n in zip(t, events.reached)], css_class="events")
    body += html.figure(data_uri(charts.reached_chart(events, reached_words)), f"{reached_words} by return period",
                        f"{reached_words.capitalize()} in each design event (summary.json risk.events."
                        f"{reached.count}).")
    body += _ead_buildings(data, reached.name)
    return html.section("annual-damage", "Annual damage", body)


def ensemble_section(data: ReportData) -> str:
    """Probability maps over the members (risk.nc)."""
    title = "Ensemble spread"
    risk = data.run.risk
    if risk is None:
        return html.section("ensemble", title, html.note("This run folder holds no risk.nc."))
    names = [v for v in risk.data_vars if risk[v].attrs.get("units") == "1" and risk[v].dims == ("y", "x")]
    parts = [html.note(
        "This run has one member (no ensemble): each probability is 0 % or 100 %, and there is no spread."
        if data.members == 1 else f"Probabilities over the {data.members} members.")]
    for start in range(0, len(names), MAPS_PER_FIGURE):
        chunk = names[start:start + MAPS_PER_FIGURE]
        titles = [str(risk[n].attrs.get("long_name", words.name_and_unit(n)[0])).replace(" over members", "")
                  for n in chunk]
        fig = maps.probability_maps(data.run, chunk, titles)
        parts.append(html.figure(data_uri(fig), "probability maps", "; ".join(titles) + "."))
    return html.section("ensemble", title, "".join(parts))


def scenario_section(data: ReportData) -> str:
    """The scenario's description and its file as written."""
    scenario = data.scenario
    body = f"<p>{html.text(data.description)}</p>"
    if scenario.text is None:
        body += html.note(f"The scenario file is not shown: {scenario.note}.")
    else:
        body += f"<h3>{html.text(scenario.path)}</h3><pre>{html.text(scenario.text)}</pre>"
    return html.section("scenario", "Scenario", body)


def provenance_section(data: ReportData) -> str:
    """Status, seed, inputs with their hashes, package versions and timings (manifest.json)."""
    manifest = data.manifest
    title = "Provenance"
    if manifest is None:
        return html.section("provenance", title, html.note("manifest.json is not written: the run folder is incomplete."))
    keys = ("scenario", "hazard", "status", "seed", "started", "finished", "scenario_file", "scenario_sha256")
    facts = [[words.name_and_unit(k)[0], str(manifest[k])] for k in keys if k in manifest]
    if isinstance(manifest.get("ensemble"), dict):
        facts += [[f"ensemble {k}", str(v)] for k, v in manifest["ensemble"].items()]
    body = html.table(["item", "value"], facts)
    inputs = manifest.get("inputs") or {}
    body += "<h3>Inputs</h3>" + html.table(["file", "SHA-256"], [[f, h] for f, h in inputs.items()])
    versions = manifest.get("versions") or {}
    body += "<h3>Versions</h3>" + html.table(["package", "version"], [[k, str(v)] for k, v in versions.items()])
    timings = manifest.get("timings") or data.summary.get("timings") or {}
    body += "<h3>Timings</h3>" + html.table(
        ["step", "wall time"], [[words.name_and_unit(k)[0], f"{v:.1f} s"] for k, v in timings.items()], numeric=(1,))
    return html.section("provenance", title, body)


def figures_section(data: ReportData) -> str:
    """Every figure summary.json holds, in words."""
    figures, series = tables.summary_figures(data.summary)
    body = html.table(["figure", "value"], [[f.label, f.text] for f in figures], numeric=(1,),
                      row_attrs=[{"data-key": f.key} for f in figures], css_class="figures")
    for name, frame in series.items():
        body += f"<h3>{html.text(name)}</h3>" + html.table(list(frame.columns), frame.values.tolist(),
                                                           numeric=tuple(range(len(frame.columns))))
    return html.section("figures", "All figures of the run", body)


#: The sections in the order of the report.
SECTIONS = (headline_section, map_section, event_set_section, gauges_section, ledger_section, damage_by_use_section,
            buildings_section, ensemble_section, scenario_section, figures_section, provenance_section)
