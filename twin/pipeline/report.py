"""What a finished run reports of itself, read back from its folder: status, products, headline figures.

``twin run`` prints this after the run (or, with ``--json``, :func:`run_report` as JSON). The
figures are read from the ``summary.json`` the run wrote; each hazard's summary holds its own
keys, and :data:`HEADLINE` lists those worth a line, shown where the summary has them (a
hazard's summary that has none of them gets no headline lines, not an error).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from twin.io.run_folders import MANIFEST


@dataclass(frozen=True)
class Figure:
    """A headline figure: its key path in ``summary.json``, label, unit (``m``, ``m2``, ``KRW`` or
    ``""`` for a count) and, for a count, the summary key of the total it is out of."""

    path: tuple
    label: str
    unit: str = ""
    out_of: str | None = None


#: Headline figures, shown in this order where the summary has them.
HEADLINE = (
    Figure(("peak_depth_m",), "peak depth", "m"),
    Figure(("flooded_area_m2",), "flooded area", "m2"),
    Figure(("burned_area_m2",), "burned area", "m2"),
    Figure(("buildings_burned",), "buildings burned", out_of="buildings_total"),
    Figure(("risk", "expected_total_loss_krw"), "expected loss", "KRW"),
    Figure(("risk", "buildings_by_risk_class"), "buildings by risk class"),
)


def run_report(run_dir: str | Path) -> dict:
    """The report of a finished run folder.

    Returns
    -------
    dict
        ``run_dir``, ``status`` and ``until_s`` (from ``manifest.json``), ``products`` (the files
        the manifest lists), ``summary`` (``summary.json`` as written).
    """
    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return {"run_dir": str(run_dir), "status": manifest["status"], "until_s": manifest.get("until_s"),
            "products": manifest["products"], "summary": summary}


def _value(summary: dict, path: tuple):
    for key in path:
        if not isinstance(summary, dict) or key not in summary:
            return None
        summary = summary[key]
    return summary


def _number(value: float, unit: str) -> str:
    if unit == "m2":
        return f"{value:,.0f} m^2 ({value / 1e6:.3f} km^2)"
    if unit == "m":
        return f"{value:.3f} m"
    if unit == "KRW":
        return f"{value:,.0f} KRW"
    return f"{value:,}"


def headline(summary: dict) -> list[tuple[str, str]]:
    """``(label, text)`` of each :data:`HEADLINE` figure the summary holds, in that order.

    A figure that is a mapping (buildings by risk class) is shown as ``name count, …`` with the
    names the summary gives; a count with a total as ``count of total``.
    """
    lines = []
    for figure in HEADLINE:
        value = _value(summary, figure.path)
        if value is None:
            continue
        if isinstance(value, dict):
            text = ", ".join(f"{name} {count:,}" for name, count in value.items())
        else:
            text = _number(value, figure.unit)
            if figure.out_of in summary:
                text += f" of {summary[figure.out_of]:,}"
        lines.append((figure.label, text))
    return lines


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def report_lines(report: dict) -> list[str]:
    """The report as lines of text: status, products with their sizes, headline figures."""
    status = report["status"]
    if report["until_s"] is not None:
        status += f", stopped at --until {report['until_s']:g} s"
    lines = [f"run {status}: {report['run_dir']}", "products:"]
    width = max((len(p["file"]) for p in report["products"]), default=0)
    lines += [f"  {p['file']:<{width}}  {_size(p['bytes'])}" for p in report["products"]]
    figures = headline(report["summary"])
    if figures:
        lines.append("headline:")
        width = max(len(label) for label, _ in figures)
        lines += [f"  {label:<{width}}  {text}" for label, text in figures]
    return lines
