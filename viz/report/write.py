"""Writing a run's report: ``report.html`` (and its PDF) from a run folder."""

from __future__ import annotations

from pathlib import Path

from twin.core.atomic import atomic_path
from twin.core.errors import InputError
from viz.report import html, sections
from viz.report.data import read_report_data
from viz.report.pdf import print_to_pdf

#: The report's file name in the run folder.
REPORT_NAME = "report.html"


def report_paths(run_dir: Path, out: str | Path | None, pdf: bool) -> tuple[Path, Path | None]:
    """The HTML file and the PDF (or None) a report writes.

    ``out`` names the HTML (``.html``) or the PDF (``.pdf``, which implies ``pdf``); the other
    file goes beside it with the same stem. Default: ``report.html`` in the run folder.

    Raises
    ------
    InputError
        For an ``out`` that ends neither in ``.html`` nor in ``.pdf``.
    """
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    if target.suffix.lower() not in (".html", ".pdf"):
        raise InputError("the report is an .html or a .pdf file", field="--out", expected=".html or .pdf",
                         found=str(target))
    if target.suffix.lower() == ".pdf":
        return target.with_suffix(".html"), target
    return target, target.with_suffix(".pdf") if pdf else None


def report_html(run_dir: str | Path, manifest: dict | None = None) -> str:
    """The report of a run folder as one self-contained HTML page (see :func:`write_report`)."""
    data = read_report_data(run_dir, manifest)
    return html.page(f"Run report: {data.description}", sections.header(data), [s(data) for s in sections.SECTIONS])


def write_report(run_dir: str | Path, out: str | Path | None = None, pdf: bool = False, *,
                 manifest: dict | None = None) -> Path:
    """Write the report of a run: ``report.html``, self-contained and printable, and its PDF.

    The page holds the headline figures of ``summary.json``, a top-view map of the hazard with
    the buildings by risk class, the gauges' hydrographs, the volume ledger over time, damage by
    building use, the buildings most at risk, the probability maps of the ensemble, the scenario
    file and the provenance (``manifest.json``); for a design-event set, its annual damage (the
    loss-exceedance curve, the EAD, the events, the buildings of largest EAD). Images are embedded PNGs, the style is inline,
    there is no script and nothing is fetched. Files are written atomically.

    Parameters
    ----------
    run_dir : str or Path
        A run folder (twin.nc, hazard.nc, summary.json; risk.nc, buildings.csv, gauges.csv,
        ledger.csv and manifest.json where the run wrote them).
    out : str or Path, optional
        The HTML file (default ``RUN_DIR/report.html``), or the PDF (a ``.pdf`` name: the HTML
        is written beside it).
    pdf : bool
        Also print the page to PDF (beside the HTML, same stem) with headless Chromium.
    manifest : dict, optional
        The run's manifest, for a folder whose manifest.json is not written yet.

    Returns
    -------
    Path
        The PDF when one is written, else the HTML file.

    Raises
    ------
    InputError
        A run folder missing what a report needs (exit code 2), or a bad ``out``.
    RunError
        Chromium missing or failing to print (exit code 1).
    """
    html_file, pdf_file = report_paths(Path(run_dir), out, pdf)
    page = report_html(run_dir, manifest)
    with atomic_path(html_file) as tmp:
        tmp.write_text(page, encoding="utf-8")
    if pdf_file is None:
        return html_file
    return print_to_pdf(html_file, pdf_file)
