"""The run report (viz/report): report.html of real short runs of the shipped flash flood and urban
fire, and of a small ensemble, read back with html.parser.

What is checked: the page is self-contained (no script, no external URL, every image an embedded
PNG that decodes), its headline figures are summary.json's (the values exactly, the text to its
shown precision), the table of the buildings most at risk is buildings.csv's rows of largest loss in
order, the ledger is read by its header or its absence is said, an ensemble gets a members' band
at its gauge, the PDF is a PDF (skipped without Chromium), and ``twin report`` exits 0 or 2.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from conftest import write_valley_twin
from twin.cli import main
from twin.core.citytwin import load_twin, save_twin
from twin.core.fields import cf_attrs
from twin.pipeline.run import run_scenario
from twin.risk.exposure import FIRST_FLOOR_HEIGHT
from viz.report import write_report
from viz.report.charts import ledger_columns
from viz.report.data import forecast_issued
from viz.report.maps import depth_class_labels, depth_classes
from viz.report.pdf import find_chromium

ROOT = Path(__file__).resolve().parent.parent


class Page(HTMLParser):
    """The parts of a report page the tests look at."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: dict[str, list[dict]] = {}  # table class -> its rows: attrs and cell texts
        self.sections: list[str] = []
        self.text: list[str] = []
        self._table, self._cell = None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self._table = attrs.get("class", "")
            self.rows.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.rows[self._table].append({"attrs": attrs, "cells": []})
        elif tag == "td" and self._table is not None:
            self._cell = []
        elif tag == "section":
            self.sections.append(attrs["id"])

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "td" and self._cell is not None:
            self.rows[self._table][-1]["cells"].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def section_text(self, anchor: str) -> str:
        """Text of the section ``anchor`` (from the raw page)."""
        return re.sub(r"<[^>]+>", " ", self.raw.split(f'<section id="{anchor}">')[1].split("</section>")[0])


def _page(path: Path) -> Page:
    raw = path.read_text(encoding="utf-8")
    page = Page(raw)
    page.raw = raw
    return page


@pytest.fixture(scope="module")
def flood_run(tmp_path_factory):
    """The shipped flash flood, its first 15 minutes (gauges, buildings, a single member), on the
    sample city with first floors at street level (0 m, docs/risk.md "First-floor height"), so that
    the short run damages buildings (at the default 0.3048 m no wall of the flash flood is wet enough)."""
    folder = tmp_path_factory.mktemp("report")
    city = load_twin(ROOT / "data" / "sample_city" / "twin.yaml")
    city[FIRST_FLOOR_HEIGHT.name] = (("y", "x"), np.zeros(city["elevation"].shape), cf_attrs(FIRST_FLOOR_HEIGHT))
    save_twin(city, folder / "city_street_level.nc")
    text = (ROOT / "scenarios" / "sample_flash_flood.yaml").read_text(encoding="utf-8")
    scenario = folder / "sample_flash_flood.yaml"
    scenario.write_text(text.replace("twin: ../data/sample_city/twin.yaml", "twin: city_street_level.nc"),
                        encoding="utf-8")
    return run_scenario(scenario, out=folder / "flood", progress=False, until=900.0)


@pytest.fixture(scope="module")
def fire_run(tmp_path_factory):
    """The shipped urban fire, its first hour."""
    out = tmp_path_factory.mktemp("report") / "fire"
    return run_scenario(ROOT / "scenarios" / "sample_urban_fire.yaml", out=out, progress=False, until=3600.0)


@pytest.fixture(scope="module")
def flood_page(flood_run):
    return _page(write_report(flood_run))


@pytest.fixture(scope="module")
def fire_page(fire_run):
    return _page(write_report(fire_run))


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _at(summary: dict, key: str):
    for part in key.split("."):
        summary = summary[part]
    return summary


#: Scale of a unit word as the report writes values.
SCALES = {"cm": 0.01, "m": 1.0, "m²": 1.0, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def _shown_number(text: str) -> tuple[float, float]:
    """The first number of a shown value in SI (m, m², KRW or a count) and half its last digit."""
    match = re.match(r"([\d,]+(?:\.(\d+))?)\s*(\S+)?", text)
    number, decimals, unit = match.group(1), match.group(2), match.group(3)
    scale = SCALES.get(unit, 1.0)
    return float(number.replace(",", "")) * scale, 0.5 * scale * 10.0 ** -len(decimals or "")


@pytest.mark.parametrize("which", ["flood", "fire"])
def test_page_is_self_contained_without_script_or_external_url(which, request):
    page = request.getfixturevalue(f"{which}_page")
    assert not any(tag in ("script", "link", "iframe", "object") for tag, _ in page.tags)
    urls = [a[k] for _, a in page.tags for k in ("src", "href") if k in a]
    assert not [u for u in urls if not u.startswith("data:image/png;base64,")], "only embedded PNGs"
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", page.raw)
    assert "@page" in page.raw and "size: A4" in page.raw and "break-before: page" in page.raw


@pytest.mark.parametrize("which", ["flood", "fire"])
def test_every_embedded_image_decodes(which, request):
    page = request.getfixturevalue(f"{which}_page")
    images = [a["src"] for tag, a in page.tags if tag == "img"]
    assert len(images) >= 3
    for uri in images:
        with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1], validate=True))) as im:
            im.load()
            assert im.format == "PNG" and min(im.size) > 100


def _check_headline(page: Page, summary: dict, expected_keys: set) -> None:
    rows = page.rows["headline"][1:]  # after the header row
    keys = {r["attrs"]["data-key"] for r in rows}
    assert expected_keys <= keys, f"missing headline figures {expected_keys - keys}"
    for row in rows:
        key, value = row["attrs"]["data-key"], json.loads(row["attrs"]["data-value"])
        assert value == _at(summary, key), key
        shown, half_digit = _shown_number(row["cells"][1])
        assert abs(shown - value) <= half_digit * (1 + 1e-9), f"{key}: shown {row['cells'][1]!r}, summary {value}"


def test_flood_headline_figures_are_the_summary_ones(flood_run, flood_page):
    summary = _summary(flood_run)
    classes = {f"risk.buildings_by_risk_class.{c}" for c in summary["risk"]["buildings_by_risk_class"]}
    assert "risk.buildings_by_risk_class.none" in classes
    _check_headline(flood_page, summary, {"peak_depth_m", "flooded_area_m2", "risk.expected_total_loss_krw"} | classes)


def test_fire_headline_figures_are_the_summary_ones(fire_run, fire_page):
    summary = _summary(fire_run)
    _check_headline(fire_page, summary, {"burned_area_m2", "buildings_burned", "risk.expected_total_loss_krw"})
    burned = next(r for r in fire_page.rows["headline"][1:] if r["attrs"]["data-key"] == "buildings_burned")
    assert burned["cells"][1] == f"{summary['buildings_burned']:,} of {summary['buildings_total']:,}"


@pytest.mark.parametrize("which, loss", [("flood", "expected_flood_loss_krw"), ("fire", "expected_fire_loss_krw")])
def test_buildings_most_at_risk_are_the_largest_losses_in_order(which, loss, request):
    run, page = request.getfixturevalue(f"{which}_run"), request.getfixturevalue(f"{which}_page")
    table = pd.read_csv(run / "buildings.csv")
    expected = table.sort_values(loss, ascending=False, kind="stable").head(20)
    rows = page.rows["buildings"][1:]  # after the header row
    assert [int(r["attrs"]["data-building-id"]) for r in rows] == expected["building_id"].tolist()
    assert [r["cells"][0] for r in rows] == [str(b) for b in expected["building_id"]]
    assert expected[loss].iloc[0] > 0, "the run damaged some building"
    assert [r["cells"][-1] for r in rows] == expected["risk_class_name"].tolist()


def test_sections_titles_and_words_not_slugs(flood_run, flood_page):
    assert flood_page.sections == ["headline", "map", "gauges", "ledger", "damage-by-use", "buildings", "ensemble",
                                   "scenario", "figures", "provenance"]
    description = "80 mm/h convective burst over the sample district, with storm drains at design capacity"
    assert f"<h1>{description}</h1>" in flood_page.raw
    assert "maximum water depth over 15 min" in flood_page.section_text("map")
    assert "(1)" not in "".join(flood_page.text), "fractions in %, not (1)"
    assert "name: sample-flash-flood" in flood_page.section_text("scenario"), "the scenario file as written"
    provenance = flood_page.section_text("provenance")
    manifest = json.loads((flood_run / "manifest.json").read_text())
    assert manifest["scenario_sha256"] in provenance and manifest["versions"]["numpy"] in provenance
    assert "one member (no ensemble)" in flood_page.section_text("ensemble")
    assert len(flood_page.rows["figures"]) > 20, "every figure of summary.json"


def test_fire_map_shows_arrival_times(fire_page):
    assert "time the fire reached each cell over 1 h" in fire_page.section_text("map")
    assert "no gauges" in fire_page.section_text("gauges")


def test_depth_classes_and_their_labels():
    assert depth_class_labels() == ["5–10 cm", "10–30 cm", "30–50 cm", "50 cm–1 m", "1–2 m", "over 2 m"]
    depths = np.array([0.0, 0.049, 0.05, 0.1, 0.29, 0.5, 1.0, 1.99, 2.0, 7.0, np.nan])
    assert depth_classes(depths).tolist() == [-1, -1, 0, 1, 1, 3, 4, 4, 5, 5, -1]


def _ledger_section(page) -> str:
    return page.raw.split('<section id="ledger">')[1].split("</section>")[0]


def test_ledger_is_read_by_its_header_and_its_absence_is_said(flood_run, flood_page, tmp_path):
    written = _ledger_section(flood_page)
    assert (flood_run / "ledger.csv").is_file() and 'class="note"' not in written and written.count("<img") == 1
    run = shutil.copytree(flood_run, tmp_path / "run")
    (run / "ledger.csv").unlink()
    assert "holds no ledger.csv" in _page(write_report(run)).section_text("ledger")
    t = np.arange(0.0, 601.0, 60.0)
    rain = 62.5 * t
    ledger = pd.DataFrame({"step": np.arange(t.size), "time_s": t, "rain_in_m3": rain, "inflow_m3": 0.0,
                           **{f"outflow_{e}_m3": 0.01 * rain for e in "nsew"}, "infiltration_m3": 0.1 * rain,
                           "drainage_m3": 0.1 * rain, "storage_m3": 0.76 * rain, "closure_error_m3": 0.0})
    ledger.to_csv(run / "ledger.csv", index=False)
    page = _page(write_report(run))
    section = _ledger_section(page)
    assert 'class="note"' not in section and section.count("<img") == 1
    time, volumes, closure = ledger_columns(ledger)
    assert time == "time_s" and closure == ["closure_error_m3"] and "step" not in volumes and len(volumes) == 9


def test_ledger_without_a_time_column_is_refused():
    with pytest.raises(ValueError, match="no time column"):
        ledger_columns(pd.DataFrame({"rain_m3": [1.0]}))


def test_ensemble_report_has_the_members_band_at_the_gauge(tmp_path):
    twin = write_valley_twin(tmp_path / "twin")
    scenario = tmp_path / "ens.yaml"
    scenario.write_text(
        f"name: small-ensemble\ndescription: Three members of a 200 mm/h burst on a small valley\n"
        f"twin: {twin}\nhazard: flood\nduration: 10 min\n"
        "flood:\n  rainfall: {times: [0, 3 min, 6 min], intensity_mm_h: [0, 200, 0]}\n"
        "  boundaries: {north: closed, south: free, east: closed, west: closed}\n"
        "ensemble:\n  members: 3\n  seed: 7\n  perturb:\n    rainfall_scale: {lognormal: {median: 1.0, sigma: 0.3}}\n"
        "output:\n  gauge_every: 60 s\n  gauges: [{name: valley, at: [234305, 415695]}]\n"
        "render: {enabled: false}\n")
    run = run_scenario(scenario, out=tmp_path / "run", progress=False, workers=1)
    page = _page(write_report(run))
    assert "<h1>Three members of a 200 mm/h burst on a small valley</h1>" in page.raw
    gauges = page.section_text("gauges")
    band = re.search(r"maximum depth over the 3 members, 50th to 90th percentile, from (\S+ c?m) to (\S+ c?m)", gauges)
    assert band, gauges
    with xr.open_dataset(run / "risk.nc") as risk:
        cell = {"y": 30, "x": 30}  # the gauge's cell: row 30, column 30 of the 10 m grid
        for shown, name in zip(band.groups(), ("max_depth_p50", "max_depth_p90")):
            value, half_digit = _shown_number(shown)
            assert abs(value - float(risk[name][cell])) <= half_digit, name
    assert "Probabilities over the 3 members" in page.section_text("ensemble")
    assert "an ensemble of 3 members" in page.section_text("map")


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on PATH (apt install chromium)")
def test_pdf_is_printed_by_chromium(fire_run, tmp_path):
    pdf = write_report(fire_run, tmp_path / "fire.pdf")
    head = pdf.read_bytes()
    assert pdf == tmp_path / "fire.pdf" and head.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", head)) >= 5, "a page per section"
    assert (tmp_path / "fire.html").exists()


def test_twin_report_command(fire_run, tmp_path, capsys):
    assert main(["report", str(fire_run), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(fire_run), "--out", str(tmp_path / "r.txt")]) == 2
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "run folder not found" in err


def test_forecast_issue_time_of_a_nightly_run(tmp_path):
    run = tmp_path / "2026-11-25T00Z" / "city-flood"
    run.mkdir(parents=True)
    assert forecast_issued(run) is None
    (run.parent / "batch.json").write_text(json.dumps({"issued": "2026-11-25T00Z", "scenarios": {"other": {}}}))
    assert forecast_issued(run) is None, "a batch that does not list the run"
    (run.parent / "batch.json").write_text(json.dumps({"issued": "2026-11-25T00Z", "scenarios": {"city-flood": {}}}))
    assert forecast_issued(run) == "2026-11-25T00Z"
