"""Regenerate the README's images and headline figures from the current code.

Runs the sample flash flood and the sample urban fire (``scenarios/``) on the bundled sample
district, renders the README's stills into ``docs/img/`` and prints the figures the README
quotes: the run times, the flood's peak depth, flooded area and buildings by risk class, the
fire's burned area and buildings burned, and how long the sample animations take to render::

    python docs/make_images.py [--runs DIR] [--no-animations]

The run folders go to ``--runs`` (default: a temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin.pipeline.run import run_scenario  # noqa: E402
from viz.render_run import render_run  # noqa: E402

#: The README's stills: (scenario, layer, view, file in docs/img/).
STILLS = (("sample_flash_flood", "max_depth", "sw", "sample_flash_flood.png"),
          ("sample_flash_flood", "max_depth", "top", "sample_flash_flood_top.png"),
          ("sample_urban_fire", "arrival_time", "sw", "sample_urban_fire.png"))
#: Size (pixels) of the stills, and of the animations (the size a run's own animation has).
STILL_SIZE, ANIMATION_SIZE = (1920, 1080), (960, 540)


def run_sample(name: str, runs: Path) -> tuple[Path, float]:
    """Run ``scenarios/<name>.yaml`` into ``runs/<name>`` without renderings; its folder and wall time (s)."""
    t0 = time.perf_counter()
    run_dir = run_scenario(ROOT / "scenarios" / f"{name}.yaml", out=runs / name, progress=False, force=True)
    return Path(run_dir), time.perf_counter() - t0


def headline(name: str, summary: dict, seconds: float) -> list[str]:
    """The README's figures of one run, from its summary.json."""
    lines = [f"{name}: run {seconds:.1f} s wall (control run {summary['timings']['control_run_s']:.1f} s)"]
    if "peak_depth_m" in summary:
        lines.append(f"  peak depth {summary['peak_depth_m']:.2f} m, flooded area {summary['flooded_area_m2'] / 1e6:.2f}"
                     f" km^2 (depth over {summary['wet_threshold_m'] * 100:g} cm)")
    if "burned_area_m2" in summary:
        lines.append(f"  burned area {summary['burned_area_m2'] / 1e6:.2f} km^2, buildings burned "
                     f"{summary['buildings_burned']:,} of {summary['buildings_total']:,}")
    classes = summary.get("risk", {}).get("buildings_by_risk_class", {})
    lines.append("  buildings by risk class: " + ", ".join(f"{c} {n:,}" for c, n in classes.items()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, help="folder for the run folders (default: a temporary one)")
    parser.add_argument("--no-animations", action="store_true", help="skip timing the sample animations")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        runs = args.runs or Path(scratch)
        runs.mkdir(parents=True, exist_ok=True)
        folders, report = {}, []
        for name in dict.fromkeys(s for s, *_ in STILLS):
            folders[name], seconds = run_sample(name, runs)
            summary = json.loads((folders[name] / "summary.json").read_text(encoding="utf-8"))
            report += headline(name, summary, seconds)
        for name, layer, view, file in STILLS:
            t0 = time.perf_counter()
            out = render_run(folders[name], ROOT / "docs" / "img" / file, view=view, layer=layer, size=STILL_SIZE)
            report.append(f"still {out.relative_to(ROOT)}: {time.perf_counter() - t0:.1f} s")
        if not args.no_animations:
            for name in folders:
                for suffix in (".gif", ".mp4"):
                    t0 = time.perf_counter()
                    out = render_run(folders[name], runs / f"{name}{suffix}", size=ANIMATION_SIZE)
                    report.append(f"animation {name}{suffix} ({ANIMATION_SIZE[0]} x {ANIMATION_SIZE[1]}): "
                                  f"{time.perf_counter() - t0:.1f} s, {out.stat().st_size / 2**20:.1f} MiB")
    print("\n".join(report))


if __name__ == "__main__":
    main()
