"""The build report: what a twin was built from and what the build counted, as JSON and as text.

``build_report.json`` (this module's :class:`BuildReport`, :meth:`BuildReport.to_dict`) and
``build_report.txt`` (:meth:`BuildReport.text`) sit beside the ``twin.yaml`` they describe;
``twin info`` reads the JSON back with :func:`build_info`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: File names of the report in a built twin's folder.
REPORT_JSON = "build_report.json"
REPORT_TEXT = "build_report.txt"


@dataclass
class BuildReport:
    """What a build read, counted and wrote (sections as plain dicts, written as JSON).

    Attributes
    ----------
    name : str
        The twin's name.
    config : str
        The build file.
    out : str
        The twin's folder.
    grid : dict
        CRS, cell size (m), shape, bounds (m), cells in the domain.
    terrain : dict
        DEM tiles, their CRSs, holes filled, cells outside the domain, elevation range (m).
    buildings : dict
        The footprint layer and every count of the footprints (module :mod:`twin.build.build`).
    landcover : dict
        The land-cover, roads and water sources and their counts.
    warnings : list of str
    memory_estimate_bytes : int
    timings_s : dict
        Wall time of each stage (s).
    """

    name: str
    config: str
    out: str
    grid: dict
    terrain: dict
    buildings: dict
    landcover: dict
    warnings: list = field(default_factory=list)
    memory_estimate_bytes: int = 0
    timings_s: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The report as a JSON-ready dict."""
        return asdict(self)

    def text(self) -> str:
        """The report as readable text (what ``build_report.txt`` holds)."""
        return "\n".join(describe(self.to_dict())) + "\n"


def _counts(section: dict) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in section.items())


def describe(report: dict) -> list[str]:
    """Lines describing a build report (a :meth:`BuildReport.to_dict`)."""
    g, t, b = report["grid"], report["terrain"], report["buildings"]
    ny, nx = g["shape"]
    w, s, e, n = g["bounds_m"]
    h = b["heights"]
    lines = [
        f"twin {report['name']} built from {report['config']}",
        f"grid        {g['crs']}, {g['cell_m']:g} m cells, {ny} x {nx} (rows x cols), x {w:.1f} .. {e:.1f}, "
        f"y {s:.1f} .. {n:.1f} m; {g['cells_in_domain']} cells in the domain",
        f"terrain     {len(t['tiles'])} DEM tile(s) in {', '.join(t['tile_crs'])}, bilinear; {t['holes_filled']} "
        f"nodata hole(s) filled ({t['hole_cells_filled']} cells); {t['cells_outside_domain']} cells outside "
        f"the domain; {t['elevation_range_m'][0]:.2f} .. {t['elevation_range_m'][1]:.2f} m",
        f"buildings   {b['file']} (layer {b['layer']}, {b['source_crs']}), id {b['id_column']}: "
        f"{b['in_twin']} of {b['features']['features']} footprints in the twin",
        f"            read: {_counts(b['features'])}",
        f"            on the grid: {_counts(b['status'])}; {b['overlapping_pairs']} overlapping pair(s) "
        f"({b['overlapping_footprints']} footprints)",
        f"            heights from {h['from']}: {h['given']} given, {h['default']} default {h['default_m']:g} m; "
        f"use: {_counts(b['use'])}; values given: {b['values_given']}; first-floor heights given: "
        f"{b['first_floor_heights_given']}",
    ]
    for key, part in report["landcover"].items():
        lines.append(f"{key:<12}{_counts({k: v for k, v in part.items() if not isinstance(v, dict)})}")
        lines += [f"            {k.replace('_', ' ')}: {_counts(v)}" for k, v in part.items() if isinstance(v, dict)]
    lines += [f"warning     {w}" for w in report["warnings"]]
    lines.append(f"time        {_counts({k: f'{v:.2f} s' for k, v in report['timings_s'].items()})}")
    return lines


def build_info(path: str | Path) -> dict:
    """``{"built_from": {...}}`` for a twin (``twin.yaml`` or its folder) that has a build report, else ``{}``.

    The entry holds the build file, the DEM tiles, the footprint layer, the counts of footprints
    read and in the twin, and the number of warnings.
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    try:
        report = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))
        b = report["buildings"]
        return {"built_from": {"config": report["config"], "dem_tiles": len(report["terrain"]["tiles"]),
                               "dem_crs": report["terrain"]["tile_crs"], "buildings_file": b["file"],
                               "buildings_layer": b["layer"], "id_column": b["id_column"],
                               "footprints": b["features"]["features"], "in_twin": b["in_twin"],
                               "landcover": {k: v["file"] for k, v in report["landcover"].items() if "file" in v},
                               "warnings": len(report["warnings"]),
                               "report": str(folder / REPORT_TEXT)}}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def describe_info(info: dict) -> str:
    """The ``built from`` lines of ``twin info`` for a :func:`build_info` entry (empty when none)."""
    built = info.get("built_from")
    if not built:
        return ""
    sources = ", ".join(f"{k} {Path(v).name}" for k, v in built["landcover"].items()) or "none (urban open)"
    return (f"built from     {built['config']}: {built['dem_tiles']} DEM tile(s) ({', '.join(built['dem_crs'])}), "
            f"footprints {Path(built['buildings_file']).name} (layer {built['buildings_layer']}, id "
            f"{built['id_column']}): {built['in_twin']} of {built['footprints']} in the twin; {sources}; "
            f"{built['warnings']} warning(s); see {built['report']}\n")
