"""Oscillation of the flood depths on the sample flash flood: how far each cell's depth moves back and forth.

Runs the whole-grid loop (twin.hazards.flood.model.simulate_flood) on the sample flash flood
(scenarios/sample_flash_flood.yaml, 500 x 500 cells of 5 m, 2 h), with snapshots every ``--every``
seconds, and prints per run:

* ``steps`` and wall time (s);
* the **excess variation** (m) of each cell's depth over time: its total variation over the
  snapshots less that of a single rise and fall, ``sum |dh| - (2 max h - h_first - h_last)``;
  zero for a depth that rises and falls once, twice the amplitude per extra swing: its largest
  value and the cells where it exceeds 0.05, 0.2 and 1 m;
* the largest **jump** (m) of a depth from one snapshot to the next against the mean of its two
  neighbours in time, ``|h_k - (h_{k-1} + h_{k+1}) / 2|`` (surges and swings faster than
  2 ``--every``), and the cells above 0.02 m;
* the largest maximum depth (m) and the cells whose maximum depth exceeds 0.1 m and 0.5 m.

``--set NAME=VALUE`` overrides a numerics field of the flood inputs (``alpha``, ``theta``,
``dt_max``, ``outflow_fraction``); ``--checkout`` imports another checkout of the project (e.g. a
git worktree of an older commit) to measure it with the same script.

Usage::

    python bench/flood_oscillation.py
    python bench/flood_oscillation.py --set alpha=0.4 --set theta=1.0
    python bench/flood_oscillation.py --checkout /tmp/old   # git worktree add /tmp/old c787fe3
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def excess_variation(snapshots: np.ndarray) -> np.ndarray:
    """Per cell (m): total variation of the depth over the snapshots (time first) less that of one
    rise and fall between its first and last value through its maximum."""
    s = snapshots.astype(np.float64)
    total = np.abs(np.diff(s, axis=0)).sum(axis=0)
    return total - (2 * s.max(axis=0) - s[0] - s[-1])


def largest_jump(snapshots: np.ndarray) -> np.ndarray:
    """Per cell (m): the largest departure of a snapshot from the mean of its two neighbours in time."""
    s = snapshots.astype(np.float64)
    return np.abs(s[1:-1] - 0.5 * (s[:-2] + s[2:])).max(axis=0)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--every", type=float, default=10.0, help="snapshot interval (s)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a numerics field of the flood inputs (alpha, theta, dt_max, outflow_fraction)")
    p.add_argument("--checkout", type=Path, default=ROOT, help="project checkout to import")
    args = p.parse_args(argv)
    sys.path.insert(0, str(args.checkout.resolve()))
    from twin.hazards.flood.model import simulate_flood
    from twin.pipeline.run import load_run_scenario, prepare_run

    prep = prepare_run(load_run_scenario(args.checkout / "scenarios" / "sample_flash_flood.yaml"))
    inputs, duration = prep.inputs["model"], float(prep.sf.scenario.duration)
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    if overrides:
        inputs = dataclasses.replace(inputs, **overrides)
    tic = time.perf_counter()
    res = simulate_flood(inputs, duration, args.every, None)
    wall = time.perf_counter() - tic
    open_cells = ~inputs.blocked
    excess, jump = excess_variation(res.snapshots)[open_cells], largest_jump(res.snapshots)[open_cells]
    md = res.max_depth[open_cells]
    print(f"sample flash flood ({args.checkout}), {overrides or 'defaults'}: theta {inputs.theta:g}, "
          f"alpha {inputs.alpha:g}")
    print(f"  steps {res.n_steps}, wall {wall:.1f} s")
    print(f"  excess variation: largest {excess.max():.4f} m; cells above 0.05 / 0.2 / 1 m: "
          f"{(excess > 0.05).sum()} / {(excess > 0.2).sum()} / {(excess > 1).sum()}")
    print(f"  largest jump {jump.max():.4f} m; cells above 0.02 m: {(jump > 0.02).sum()}")
    print(f"  maximum depth: largest {md.max():.3f} m; cells above 0.1 / 0.5 m: {(md > 0.1).sum()} / "
          f"{(md > 0.5).sum()}")


if __name__ == "__main__":
    main()
