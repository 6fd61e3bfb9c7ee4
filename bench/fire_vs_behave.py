"""Error distribution of our Rothermel rates against Behave (BehavePlus's C++ core, pyrothermel).

Draws ``--n`` seeded random surface fires over every standard fuel model
(``tests/behave_reference.py``: dead 1-h moisture 0.02-0.30, 10-h and 100-h up to 0.05 wetter
each, live herbaceous 0.20-2.00, live woody 0.50-2.00, mid-flame wind 0-12 m/s and slope 0-1.2
from any direction), runs them through Behave
and :mod:`kernels.fire`, and prints the median, 99th percentile and maximum relative error of the
head rate of spread, reaction intensity, fireline intensity and backing rate (where Behave's LB
cap of 8 does not bind) over the cases that burn, overall and per fuel model family, with the
worst cases of the head rate.

Usage::

    python bench/fire_vs_behave.py                   # 100 000 draws, seed 17
    python bench/fire_vs_behave.py --n 20000 --seed 3 --worst 5

Needs ``pyrothermel`` (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from behave_reference import behave_fire, draw_cases, our_fire, our_length_to_breadth, relative_error  # noqa: E402
from kernels.fuel_models import MODEL_NAMES  # noqa: E402

OUTPUTS = ("rate", "reaction_intensity", "fireline_intensity", "backing_rate")


def family(number: int) -> str:
    """FM for Anderson's 13 models, else the Scott & Burgan code without its digit (GR, GS, ...)."""
    return "FM" if number < 90 else MODEL_NAMES[number][:2]


def percent(errors: np.ndarray) -> str:
    """'median | p99 | max' of relative errors, in per cent."""
    if errors.size == 0:
        return "- | - | -"
    return " | ".join(f"{100.0 * q:.3g} %" for q in (np.median(errors), np.percentile(errors, 99), errors.max()))


def main(argv=None) -> None:
    """Print the error distribution (markdown tables) of ``--n`` draws."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of random draws (default 100000)")
    parser.add_argument("--seed", type=int, default=17, help="seed of the draws (default 17)")
    parser.add_argument("--worst", type=int, default=10, help="worst head-rate cases to list (default 10)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("pyrothermel") is None:
        sys.exit("bench/fire_vs_behave.py needs pyrothermel (the test extra: pip install pyrothermel)")

    cases = draw_cases(args.n, args.seed)
    t0 = time.perf_counter()
    ref = behave_fire(cases)
    t1 = time.perf_counter()
    ours = our_fire(cases)
    t2 = time.perf_counter()
    burning = ref.rate > 0.0
    lb_free = our_length_to_breadth(cases) < 8.0
    errors = {name: relative_error(getattr(ours, name), getattr(ref, name)) for name in OUTPUTS}
    keep = {name: burning & lb_free if name == "backing_rate" else burning for name in OUTPUTS}

    print(f"{args.n} draws (seed {args.seed}), {burning.sum()} burning in Behave, "
          f"{np.sum(burning != (ours.rate > 0.0))} burn/no-burn disagreements; "
          f"Behave {t1 - t0:.2f} s, ours {t2 - t1:.3f} s")
    print("\n| output | median | p99 | max |\n|---|---|---|---|")
    for name in OUTPUTS:
        print(f"| {name} | {percent(errors[name][keep[name]])} |")
    print("\n| family | burning draws | head rate: median | p99 | max |\n|---|---|---|---|---|")
    families = np.array([family(int(n)) for n in cases.fuel_model])
    for fam in dict.fromkeys(family(int(n)) for n in sorted(set(cases.fuel_model.tolist()))):
        sel = burning & (families == fam)
        print(f"| {fam} | {sel.sum()} | {percent(errors['rate'][sel])} |")
    print("\nworst head rates: model, moisture (1-h 10-h 100-h herb woody), wind m/s, slope, Behave m/s, ours m/s, error")
    for k in np.argsort(np.where(burning, errors["rate"], -1.0))[::-1][:args.worst]:
        print(f"  {cases.fuel_model[k]:3d} {MODEL_NAMES[cases.fuel_model[k]][:12]:12s} "
              f"{np.array2string(cases.moisture[:, k], precision=3)} {cases.wind[k]:6.2f} {cases.slope[k]:5.2f} "
              f"{ref.rate[k]:.6g} {ours.rate[k]:.6g} {100.0 * errors['rate'][k]:.3g} %")


if __name__ == "__main__":
    main()
