"""Convergence of the flood maximum depth with the step: the default step against fixed small steps.

Rain on a nearly dry grid (rain on the grid) wets every cell at once; with a large step the face
update, which starts from rest with no friction, overshoots and short-lived piles of water enter
the maximum-depth map (kernels.flood.stable_timestep). This bench runs the whole-grid loop
(twin.hazards.flood.model.simulate_flood) on

* ``terrain``: the sample city's terrain generator (twin.samples.terrain.make_terrain: valley,
  river channel, floodplain, hills) at 30 m cells, no buildings, Manning n 0.035, free edges,
  40 mm/h of rain for 1 h, 1.5 h simulated (``--seeds``, ``--size``);
* ``sample``: the sample flash flood (scenarios/sample_flash_flood.yaml: 5 m cells, buildings,
  80 mm/h burst, losses), 2 h (``--sample``);

with the numerics as given (``default``) and with ``max_dt`` cut to each of ``--dts`` (s),
and reports steps, wall time, the cells whose maximum depth exceeds 1 cm and 10 cm, their
change against the run at ``--ref`` s, and the correlation of the maps. It uses only the
FloodInputs fields that predate the outflow control, so that the checkout before it can be
measured with the same script (``--checkout``).

Usage::

    python bench/wetup_convergence.py --seeds 2 1 --size 150 --dts 1 0.5 0.25 --sample
    python bench/wetup_convergence.py --checkout /work/main --seeds 2 --dts --sample  # before
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DURATION_S = 5400.0
THRESHOLDS_M = (0.01, 0.1)


def terrain_inputs(size: int, seed: int):
    """Flood inputs of 40 mm/h for 1 h on the sample terrain of ``size`` x ``size`` cells of 30 m
    (the convergence test's, tests/test_wetup_convergence.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_wetup_convergence import rain_on_terrain

    return rain_on_terrain(size, seed)


def sample_inputs():
    """Flood inputs and duration (s) of the sample flash flood scenario."""
    from twin.pipeline.run import load_run_scenario, prepare_run

    prep = prepare_run(load_run_scenario(ROOT / "scenarios" / "sample_flash_flood.yaml"))
    return prep.inputs["model"], float(prep.sf.scenario.duration)


def run(inputs, duration: float) -> tuple[np.ndarray, int, float]:
    """Maximum depth (m), steps and wall time (s) of one whole-grid run."""
    from twin.hazards.flood.model import simulate_flood

    tic = time.perf_counter()
    res = simulate_flood(inputs, duration, None, None)
    return res.max_depth, res.n_steps, time.perf_counter() - tic


def compare(name: str, inputs, duration: float, dts: list[float], ref_dt: float) -> None:
    """Print the default run and the runs at each fixed ``max_dt`` against the one at ``ref_dt``."""
    cases = {"default": inputs}
    cases.update({f"max_dt {dt:g} s": dataclasses.replace(inputs, dt_max=dt) for dt in dts})
    results = {label: run(inp, duration) for label, inp in cases.items()}
    ref = results.get(f"max_dt {ref_dt:g} s")
    print(f"\n{name}: {inputs.shape[0]} x {inputs.shape[1]} cells of {inputs.dx:g} m, {duration:g} s")
    heads = " ".join(f"{'>' + format(t * 100, 'g') + ' cm':>16s}" for t in THRESHOLDS_M)
    print(f"{'case':16s} {'steps':>7s} {'wall s':>7s} {heads}  r")
    for label, (md, steps, wall) in results.items():
        cols = []
        for t in THRESHOLDS_M:
            n = int((md > t).sum())
            rel = "" if ref is None else f" ({n / max(int((ref[0] > t).sum()), 1) - 1:+.2%})"
            cols.append(f"{n}{rel}".rjust(16))
        r = "" if ref is None else f"  {np.corrcoef(md.ravel(), ref[0].ravel())[0, 1]:.5f}"
        print(f"{label:16s} {steps:7d} {wall:7.1f} " + " ".join(cols) + r, flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=150, help="terrain side (cells of 30 m)")
    p.add_argument("--seeds", type=int, nargs="*", default=[2], help="terrain seeds (none: skip)")
    p.add_argument("--dts", type=float, nargs="*", default=[1.0, 0.5, 0.25], help="fixed max_dt (s)")
    p.add_argument("--ref", type=float, default=0.5, help="max_dt (s) of the reference run")
    p.add_argument("--sample", action="store_true", help="also the sample flash flood")
    p.add_argument("--checkout", type=Path, default=ROOT, help="project checkout to import")
    args = p.parse_args(argv)
    sys.path.insert(0, str(args.checkout.resolve()))
    for seed in args.seeds:
        compare(f"terrain seed {seed}", terrain_inputs(args.size, seed), DURATION_S, args.dts, args.ref)
    if args.sample:
        compare("sample flash flood", *sample_inputs(), args.dts, args.ref)


if __name__ == "__main__":
    main()
