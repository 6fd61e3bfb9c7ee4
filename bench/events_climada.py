"""Expected annual damage of twin.events.annual against CLIMADA's ImpactCalc on the same event losses.

An 8-event design-storm set (T = 2 ... 500 years) over synthetic buildings: a depth per building
and event growing with the return period, the JRC Asia residential depth-damage curve
(``twin/risk/data/jrc_depth_damage_asia.csv``) and a value per building. Ours: losses = value x
curve(depth), then :func:`twin.events.annual.expected_annual_damage`. CLIMADA: a Hazard of the
same depths (one centroid per building), Exposures of the same values, the same curve as an
impact function, and ``ImpactCalc(...).impact()``. CLIMADA's expected annual impact is
``eai_exp = sum_k f_k impact_k``: it has no trapezoid over return periods, so event k is given
the frequency of its weight in the trapezoid rule (written out in this script, not taken from
twin), which makes that sum the trapezoid EAD: the two must agree to round-off, per building (``eai_exp``) and
in all (``aai_agg``); the per-event totals (``at_event``) check the impact step itself. Also
printed: CLIMADA's EAD with the frequencies of an event set (each event the AEP band it stands
for, 1/T_k - 1/T_(k+1)), a step rule, against the trapezoid.

    python bench/events_climada.py [--buildings 20000]

CLIMADA 6.1 needs GDAL's Python bindings (``gdal``, an sdist that needs the GDAL library and
``gdal-config``); installed without them (``pip install --no-deps climada`` plus its other
requirements as wheels) it imports ``osgeo`` only for night-light exposures, so this script puts
an empty ``osgeo`` module in its place when GDAL is missing. Without CLIMADA it prints ours alone.
"""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin.events.annual import expected_annual_damage, loss_curve  # noqa: E402

RP = np.array([2.0, 5.0, 10.0, 30.0, 50.0, 100.0, 200.0, 500.0])
CURVE = ROOT / "twin" / "risk" / "data" / "jrc_depth_damage_asia.csv"


def _event_set(n: int, seed: int = 19) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depths (m, events x buildings) growing with return period, values (KRW), and the curve."""
    rng = np.random.default_rng(seed)
    rows = [line.split(",") for line in CURVE.read_text().splitlines() if line and not line.startswith("#")]
    curve = {name: np.array([float(r[k]) for r in rows[1:]]) for k, name in enumerate(rows[0])}
    exposure = rng.gamma(0.7, 0.35, size=n)  # how low the building sits (m of depth at T = 100)
    growth = np.log(RP) / np.log(100.0)
    depth = np.maximum(exposure[None, :] * growth[:, None] - 0.15, 0.0)
    value = rng.lognormal(np.log(5e8), 0.6, size=n)
    return depth, value, curve["depth_m"], curve["residential"]


def trapezoid_weights(rp: np.ndarray, tail: str) -> np.ndarray:
    """Frequency per event of the trapezoid rule over AEP = 1/T, written out here (not from twin):
    each segment [p_(k+1), p_k] gives half its width to both ends; the constant tail adds p_n to the last."""
    p = 1.0 / rp
    width = p[:-1] - p[1:]
    w = np.zeros(rp.size)
    w[:-1] += width / 2
    w[1:] += width / 2
    if tail == "constant":
        w[-1] += p[-1]
    return w


def _climada(depth, value, curve_depth, curve_fraction, frequency):
    """CLIMADA's impact of the event set with the given event frequencies."""
    try:
        import osgeo  # noqa: F401
    except ImportError:
        osgeo = types.ModuleType("osgeo")
        osgeo.gdal = types.ModuleType("osgeo.gdal")
        sys.modules.update({"osgeo": osgeo, "osgeo.gdal": osgeo.gdal})
    from scipy import sparse

    from climada.engine import ImpactCalc
    from climada.entity import Exposures, ImpactFunc, ImpactFuncSet
    from climada.hazard import Centroids, Hazard

    n = depth.shape[1]
    lat, lon = np.linspace(37.0, 37.1, n), np.full(n, 127.0)
    hazard = Hazard(haz_type="FL", units="m", centroids=Centroids(lat=lat, lon=lon),
                    event_id=np.arange(1, RP.size + 1), event_name=[f"T{t:g}" for t in RP], date=np.ones(RP.size, int),
                    frequency=frequency, frequency_unit="1/year", intensity=sparse.csr_matrix(depth),
                    fraction=sparse.csr_matrix(np.ones_like(depth)))
    exposures = Exposures(data={"value": value, "latitude": lat, "longitude": lon, "impf_FL": np.ones(n, int),
                                "centr_FL": np.arange(n)})
    impf = ImpactFuncSet([ImpactFunc(haz_type="FL", id=1, intensity=curve_depth, mdd=curve_fraction,
                                     paa=np.ones_like(curve_depth), intensity_unit="m", name="JRC Asia residential")])
    return ImpactCalc(exposures, impf, hazard).impact(assign_centroids=False, save_mat=False)


def main() -> None:
    """Print ours, CLIMADA's and their differences."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buildings", type=int, default=20000)
    args = ap.parse_args()
    depth, value, curve_depth, curve_fraction = _event_set(args.buildings)
    losses = value[None, :] * np.interp(depth, curve_depth, curve_fraction)
    losses[depth <= 0] = 0.0
    ours = {}
    for tail in ("truncate", "constant", "linear"):
        t0 = time.perf_counter()
        ours[tail] = expected_annual_damage(RP, losses, tail=tail)
        print(f"ours  tail={tail:8s} EAD total {ours[tail].sum():.6e} KRW/year  "
              f"({(time.perf_counter() - t0) * 1e3:.2f} ms for {args.buildings} buildings)")
    aep, curve = loss_curve(RP, losses.sum(axis=1), tail="constant")
    print("loss-exceedance curve (AEP 1/year: total loss KRW):",
          ", ".join(f"{p:g}: {c:.4g}" for p, c in zip(aep, curve)))
    try:
        release = version("climada")
    except PackageNotFoundError:
        print("CLIMADA is not installed here: ours alone")
        return
    t0 = time.perf_counter()
    for tail in ("truncate", "constant"):
        imp = _climada(depth, value, curve_depth, curve_fraction, trapezoid_weights(RP, tail))
        rel = np.max(np.abs(imp.eai_exp - ours[tail]) / np.maximum(np.abs(ours[tail]), 1.0))
        print(f"CLIMADA {release} tail={tail:8s} "
              f"aai_agg {imp.aai_agg:.6e}  ours {ours[tail].sum():.6e}  "
              f"rel diff total {abs(imp.aai_agg / ours[tail].sum() - 1):.2e}, per building max {rel:.2e}")
        at_event = np.max(np.abs(imp.at_event - losses.sum(axis=1)) / losses.sum(axis=1).clip(1.0))
        print(f"        per-event totals at_event vs ours: max rel diff {at_event:.2e}")
    band = np.append(1.0 / RP[:-1] - 1.0 / RP[1:], 1.0 / RP[-1])
    imp = _climada(depth, value, curve_depth, curve_fraction, band)
    print(f"CLIMADA with AEP-band frequencies (step rule) aai_agg {imp.aai_agg:.6e}: "
          f"{imp.aai_agg / ours['constant'].sum() - 1:+.1%} against our trapezoid with the constant tail")
    print(f"CLIMADA part: {time.perf_counter() - t0:.1f} s (import and three impact calculations)")


if __name__ == "__main__":
    main()
