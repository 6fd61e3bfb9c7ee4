"""What sets the flood time step of a nightly member: counts of steps by the term that limited them.

Runs forecast member ``--member`` of the nightly scenario (``scenarios/nightly``, the sample
forecast of ``--hours`` hours, roughness scale 1) in this process through the production loop
(:func:`twin.hazards.flood.model.simulate_flood`, via the flood hazard's ``prepare`` and
``simulate``), watching each step. The step chosen before a step is
:meth:`~twin.hazards.flood.model.FloodInputs.timestep`, ``min(alpha dx / sqrt(g h_max), dt_max,
outflow_fraction / r, 1.2 dt_last)`` (:func:`kernels.flood.stable_timestep`); the step taken is that
one clipped to the next output, gauge or forcing time (:meth:`ForcingSchedule.step
<twin.hazards.flood.forcing.ForcingSchedule.step>`). Each step is put in the class of the term that
gave the smallest value (``courant``, ``dt_max``, ``outflow``, ``growth``), or ``clipped`` when
it reached the next stop and was cut there (a step taken whole still differs from the one chosen
by the round-off of ``(t + dt) - t``), and for the first two physical terms the cell that set it is found:
the deepest cell for the Courant term, the watched shallow cell with the largest net outflow
share per second for the outflow control (recomputed from the state around the step as
:func:`kernels.flood._depth_row` computes it, and checked against the kernel's figure). The step
control itself is not changed. Prints the counts, their simulated time and mean step, the cells
that set the step most often (with their land cover and depth), and the mean step by hour.

    python bench/step_limits.py --hours 3 --member 1
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nightly import ROOT, SCENARIO, _scenario_folder  # noqa: E402

TERMS = ("courant", "dt_max", "outflow", "growth")


def step_terms(inputs, h_max: float, outflow_rate: float, dt_last: float) -> dict:
    """The four terms (s) of :func:`kernels.flood.stable_timestep` for the loop's inputs."""
    from kernels.flood import G, STEP_GROWTH

    return {"courant": inputs.alpha * inputs.dx / np.sqrt(G * h_max) if h_max > 0 else np.inf,
            "dt_max": float(inputs.dt_max),
            "outflow": inputs.outflow_fraction / outflow_rate if outflow_rate > 0 else np.inf,
            "growth": STEP_GROWTH * dt_last}


def outflow_cell(h_before, qx, qy, dt, dx, rain_rate, rain_weight, blocked, watched):
    """The watched shallow cell with the largest net outflow share per second over a step, and that rate (1/s).

    ``share = max(0, -(dt div q / dx + dt r w)) / max(h, OUTFLOW_DEPTH_FLOOR)`` over cells with
    depth at the start below ``SHALLOW_DEPTH`` (:func:`kernels.flood._depth_row`).
    """
    from kernels.flood import OUTFLOW_DEPTH_FLOOR, SHALLOW_DEPTH

    flow = (dt / dx) * (qx[:, :-1] - qx[:, 1:] + qy[:-1] - qy[1:])
    rain = rain_rate * dt * np.broadcast_to(rain_weight, h_before.shape)
    share = np.maximum(-(flow + rain), 0.0) / np.maximum(h_before, OUTFLOW_DEPTH_FLOOR)
    share[~(np.broadcast_to(watched, h_before.shape) & ~blocked & (h_before < SHALLOW_DEPTH))] = 0.0
    k = int(np.argmax(share))
    return divmod(k, h_before.shape[1]), float(share.flat[k]) / dt


def watch(hours: int, member: int, scratch: Path) -> dict:
    """Run the member with the loop watched; return the per-step records."""
    import twin.hazards.flood.bands as bands
    import twin.hazards.flood.model as model
    from twin.ensemble.cluster import worker_twin
    from twin.ensemble.draws import MemberDraw, member_scenario
    from twin.hazards.flood.forcing import ForcingSchedule
    from twin.hazards.registry import get_hazard, load_scenario
    from twin.samples.forecast import write_sample_forecast

    forecast = write_sample_forecast(scratch / "forecast.nc", members=max(member + 1, 2), hours=hours)
    sf = load_scenario(_scenario_folder(ROOT, scratch / "scen", f"{hours} h") / SCENARIO.name)
    hazard = get_hazard(sf.scenario.hazard)
    sf = member_scenario(hazard.with_forecast(sf, forecast, "rainfall"),
                         MemberDraw(member, {"manning_scale": 1.0}, forecast_member=member), hazard)
    twin = worker_twin(sf.twin_source(), sf.folder)
    prepared = hazard.prepare(sf, twin)
    records, pending = [], {}
    real_timestep, real_step, real_step_block = model.FloodInputs.timestep, ForcingSchedule.step, bands.step_block

    def timestep(self, h_max, outflow_rate, dt_last=np.inf):
        pending["terms"] = step_terms(self, h_max, outflow_rate, dt_last)
        pending["chosen"] = real_timestep(self, h_max, outflow_rate, dt_last)
        return pending["chosen"]

    def step(self, t, dt, stop):
        s = real_step(self, t, dt, stop)
        pending["taken"], pending["t"], pending["clipped"] = s.dt, t, t + dt >= stop
        return s

    def step_block(planes, views, fields, accs, inflows, sides, window, fstep, opts, buffers):
        h, qx, qy = views
        h_before = h.copy()
        vol, kernel_s = real_step_block(planes, views, fields, accs, inflows, sides, window, fstep, opts, buffers)
        terms, chosen = pending["terms"], pending["chosen"]
        limit = min(TERMS, key=lambda k: terms[k])
        rec = {"t": pending["t"], "dt": pending["taken"], "chosen": chosen,
               "limit": "clipped" if pending["clipped"] else limit, "term": limit}
        # the cell behind this step's own outflow rate, for the next step's control
        cell, rate = outflow_cell(h_before, qx, qy, fstep.dt, opts.dx, fstep.rain_rate, fields.rain_weight,
                                  fields.blocked, fields.watched)
        rec["next_outflow_cell"], rec["next_outflow_rate"], rec["kernel_rate"] = cell, rate, vol.outflow_rate
        rec["next_outflow_depth"] = float(h_before[cell])
        rec["next_deep_cell"] = divmod(int(np.argmax(np.where(fields.blocked, 0.0, h))), h.shape[1])
        rec["h_max"] = vol.h_max
        records.append(rec)
        return vol, kernel_s

    model.FloodInputs.timestep, ForcingSchedule.step, bands.step_block = timestep, step, step_block
    try:
        t0 = time.perf_counter()
        result = hazard.simulate(prepared, sf, False)
        wall = time.perf_counter() - t0
    finally:
        model.FloodInputs.timestep, ForcingSchedule.step, bands.step_block = real_timestep, real_step, real_step_block
    return {"records": records, "twin": twin, "n_steps": result.n_steps, "wall": wall}


def report(run: dict, hours: int, member: int) -> None:
    """Print the counts, the cells and the mean step by hour."""
    from twin.core.classes import LANDCOVER

    recs, twin = run["records"], run["twin"]
    names = {v: k for k, v in LANDCOVER.items()}
    cover = twin["landcover"].values
    x, y = twin["x"].values, twin["y"].values
    total = sum(r["dt"] for r in recs)
    print(f"member {member}, {hours} h: {len(recs)} steps, mean step {total / len(recs):.3f} s, "
          f"{run['wall']:.1f} s wall (watched; load {os.getloadavg()[0]:.2f})")
    mismatch = max(abs(r["next_outflow_rate"] - r["kernel_rate"]) / max(r["kernel_rate"], 1e-300) for r in recs)
    print(f"outflow rate recomputed here against the kernel's: largest relative difference {mismatch:.1e}")
    print("\nlimited by   steps   share   simulated s   mean step s")
    by = collections.defaultdict(list)
    for r in recs:
        by[r["limit"]].append(r["dt"])
    for k in (*TERMS, "clipped"):
        v = by.get(k, [])
        print(f"{k:10s} {len(v):7d} {len(v) / len(recs):7.1%} {sum(v):13.1f} "
              f"{(sum(v) / len(v)) if v else float('nan'):13.3f}")
    clipped = [r for r in recs if r["limit"] == "clipped"]
    under = collections.Counter(r["term"] for r in clipped)
    print("clipped steps, by the term that chose the step before clipping: "
          + ", ".join(f"{k} {under[k]}" for k in TERMS if under[k]))
    # the cell behind each limited step: step i's limit comes from the state after step i - 1
    for term, key in (("courant", "next_deep_cell"), ("outflow", "next_outflow_cell")):
        cells = collections.Counter(recs[i - 1][key] for i in range(1, len(recs)) if recs[i]["term"] == term)
        if not cells:
            continue
        print(f"\ncells that set the {term} term (most often first; {sum(cells.values())} steps, "
              f"{len(cells)} cells):")
        for (r, c), count in cells.most_common(5):
            depth = "h_max" if term == "courant" else "next_outflow_depth"
            depths = [recs[i - 1][depth] for i in range(1, len(recs))
                      if recs[i]["term"] == term and recs[i - 1][key] == (r, c)]
            extra = f", depth {min(depths):.3g}-{max(depths):.3g} m"
            print(f"  row {r}, col {c} (x {x[c]:.0f}, y {y[r]:.0f}), {names.get(int(cover[r, c]), cover[r, c])}: "
                  f"{count} steps{extra}")
    cover_of = collections.Counter(names.get(int(cover[recs[i - 1]["next_outflow_cell"]]), "?")
                                   for i in range(1, len(recs)) if recs[i]["term"] == "outflow")
    if cover_of:
        print("outflow-limited steps by the land cover of their cell: "
              + ", ".join(f"{k} {v / sum(cover_of.values()):.0%}" for k, v in cover_of.most_common()))
    print("\nhour   steps   mean step s   courant  outflow  growth  clipped  dt_max")
    for hour in range(hours):
        v = [r for r in recs if hour * 3600 <= r["t"] < (hour + 1) * 3600]
        if v:
            c = collections.Counter(r["limit"] for r in v)
            print(f"{hour:4d} {len(v):7d} {sum(r['dt'] for r in v) / len(v):13.3f} {c['courant']:9d} "
                  f"{c['outflow']:8d} {c['growth']:7d} {c['clipped']:8d} {c['dt_max']:7d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=3, help="forecast and simulated hours (default 3)")
    parser.add_argument("--member", type=int, default=1, help="forecast member (default 1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run = watch(args.hours, args.member, Path(tmp))
    report(run, args.hours, args.member)
    return 0


if __name__ == "__main__":
    sys.exit(main())
