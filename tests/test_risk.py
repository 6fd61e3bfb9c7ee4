"""Per-cell risk statistics: exceedance probabilities, percentiles, DEFRA hazard rating, streaming and spill."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from twin.core.errors import InputError, RunError
from twin.hazards.fire import FIRE
from twin.hazards.flood import FLOOD
from twin.hazards.flood.rating import debris_factor, hazard_class, hazard_rating
from twin.hazards.flood.risk import exceedance_name, flood_risk
from twin.risk.accumulator import FINALIZE_BYTES_PER_MEMBER_CELL, RiskAccumulator
from twin.risk.fields import within_name
from twin.risk.statistics import integer_weights, weighted_percentiles
from twin.risk.summary import risk_summary

#: The risk specifications of the hazards, by name.
SPEC = {"flood": FLOOD.risk, "fire": FIRE.risk}

SHAPE = (5, 6)
#: The wet threshold (m) of the members built here (the flood schema's default).
WET = 0.05


def flood_member(depth, speed=0.0, arrival=None):
    """A flood member with spatially uniform maps (depth m, speed m/s, arrival s); by default it
    arrives at 0 s where the depth reaches the wet threshold and never elsewhere, as in a run."""
    arrival = (0.0 if depth >= WET else np.nan) if arrival is None else arrival
    return {"max_depth": np.full(SHAPE, depth, dtype=np.float64), "max_speed": np.full(SHAPE, speed),
            "arrival_time": np.full(SHAPE, arrival)}


def random_members(kind, n, seed=3):
    """``n`` random members of ``kind`` with NaN arrivals and exact ties (depths on a 0.05 m lattice);
    a flood member arrives exactly where its depth reaches the wet threshold, as in a run."""
    rng = np.random.default_rng(seed)
    members = []
    for _ in range(n):
        arrival = np.where(rng.random(SHAPE) < 0.3, np.nan, rng.uniform(0, 2e4, SHAPE))
        if kind == "flood":
            depth = np.where(np.isnan(arrival), 0.0, rng.integers(0, 40, SHAPE) * 0.05)   # dry where never reached
            members.append({"max_depth": depth, "max_speed": rng.uniform(0, 3, SHAPE),
                            "arrival_time": np.where(depth >= WET, arrival, np.nan)})
        else:
            members.append({"arrival_time": arrival, "burned": ~np.isnan(arrival)})
    return members


def reduce(kind, members, order, spec=None, **kw):
    with RiskAccumulator(spec or SPEC[kind], SHAPE, len(members), **kw) as acc:
        for i in order:
            acc.add(i, members[i])
        return acc.finalize()


def test_exceedance_probabilities_by_hand():
    """Four members at 0.05, 0.2, 0.5 and 1.2 m: P(d > t) counts members strictly above t."""
    members = [flood_member(d) for d in (0.05, 0.2, 0.5, 1.2)]
    out = reduce("flood", members, range(4))
    expected = {0.1: 0.75, 0.3: 0.5, 0.5: 0.25, 1.0: 0.25}  # 0.5 m does not exceed 0.5 m
    for t, p in expected.items():
        assert np.all(out[exceedance_name(t)] == p)
    weighted = reduce("flood", members, range(4), weights=[1, 1, 1, 5])
    assert np.all(weighted[exceedance_name(1.0)] == 5 / 8)
    assert np.all(weighted[exceedance_name(0.1)] == 7 / 8)


def test_depth_mean_and_percentiles_by_hand():
    members = [flood_member(d) for d in (0.25, 0.5, 1.0, 2.0)]
    out = reduce("flood", members, (2, 0, 3, 1))
    assert np.all(out["max_depth_mean"] == 0.9375)
    assert np.all(out["max_depth_p50"] == 0.5)     # smallest value with P(X <= x) >= 0.5
    assert np.all(out["max_depth_p90"] == 2.0)
    weighted = reduce("flood", members, range(4), weights=[1, 1, 6, 0])
    assert np.all(weighted["max_depth_p50"] == 1.0)
    assert np.all(weighted["max_depth_p90"] == 1.0)   # the zero-weight member never counts
    assert np.allclose(weighted["max_depth_mean"], (0.25 + 0.5 + 6.0) / 8, rtol=1e-12, atol=0)


def test_percentiles_match_numpy_inverted_cdf():
    """Equal weights: the percentile is numpy's ``inverted_cdf`` (Hyndman & Fan definition 1)."""
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 5, (11, 40))
    qs = (1, 9, 10, 50, 90, 100)
    for q, ours in zip(qs, weighted_percentiles(values, np.ones(11, dtype=np.int64), qs)):
        assert np.array_equal(ours, np.percentile(values, q, axis=0, method="inverted_cdf")), q


def test_arrival_percentiles_and_within():
    """Never-wet members count as arriving never: the percentile is NaN where too few members arrive."""
    members = [flood_member(0.2, arrival=a) for a in (100.0, 5000.0, np.nan, np.nan)]
    out = reduce("flood", members, range(4), spec=flood_risk(arrival_within_s=(100, 3600, 10800)))
    assert np.all(out["arrival_time_p10"] == 100.0)
    assert np.all(out["arrival_time_p50"] == 5000.0)
    assert np.all(np.isnan(out["arrival_time_p90"]))
    assert np.all(out[within_name(100)] == 0.25)     # "within" includes the horizon itself
    assert np.all(out[within_name(3600)] == 0.25)
    assert np.all(out[within_name(10800)] == 0.5)


def test_hazard_class_boundaries():
    """Classes: low < 0.75 <= some < 1.25 <= most <= 2.0 < all."""
    hr = np.array([0.0, 0.7499, 0.75, 1.2499, 1.25, 2.0, 2.0001, 9.0])
    assert hazard_class(hr).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_hazard_rating_exact_boundaries():
    """HR = d (v + 0.5) + DF hits each boundary exactly for these (d, v) in binary floating point."""
    d = np.array([0.25, 0.5, 0.5, 0.25])
    v = np.array([2.5, 0.0, 1.5, 0.5])
    hr = hazard_rating(d, v, debris_factor(d, v))
    assert hr.tolist() == [0.75, 1.25, 2.0, 0.25]   # DF = 0 at d = 0.25 m, 1 above
    assert hazard_class(hr).tolist() == [1, 2, 2, 0]


def test_debris_factor_land_use_table():
    """Defra/EA (2008) Table 2: pasture/arable, woodland, urban by depth band; v > 2 m/s takes the top band."""
    grass, forest, road = 4, 5, 2
    d = np.array([0.2, 0.5, 1.0, 0.5, 0.2, 0.3, 0.0, 0.2])
    v = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 2.5])
    lc = np.array([forest, forest, forest, grass, road, road, road, grass])
    assert debris_factor(d, v, lc).tolist() == [0.0, 0.5, 1.0, 0.0, 0.0, 1.0, 0.0, 0.5]


def test_hazard_class_probabilities_in_accumulator():
    """Per member class from that member's depth and speed maxima, wet cells only; a cell that stays
    below the wet threshold (no arrival) is dry, not low; the five probabilities sum to 1."""
    members = [flood_member(0.0), flood_member(0.04, 0.0), flood_member(0.1), flood_member(0.25, 2.5),
               flood_member(0.5, 0.0), flood_member(1.0, 2.0)]
    out = reduce("flood", members, range(6))
    for name, p in (("p_hazard_dry", 2 / 6), ("p_hazard_low", 1 / 6), ("p_hazard_danger_for_some", 1 / 6),
                    ("p_hazard_danger_for_most", 1 / 6), ("p_hazard_danger_for_all", 1 / 6)):
        assert np.all(out[name] == p), name
    assert FLOOD.risk.fields["p_hazard_dry"].long_name.endswith("stays below the wet threshold (dry)")


@pytest.mark.parametrize("kind", ["flood", "fire"])
def test_member_order_does_not_change_results(kind, tmp_path):
    """Two arrival orders, weights, and row blocks of one row: bit-identical maps."""
    members = random_members(kind, 7)
    weights = [0.1, 0.3, 0.2, 0.05, 0.15, 0.12, 0.08]
    a = reduce(kind, members, range(7), weights=weights, spill_dir=tmp_path)
    b = reduce(kind, members, (4, 6, 0, 2, 5, 1, 3), weights=weights, spill_dir=tmp_path, block_bytes=1)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


def test_memory_stays_bounded_and_maps_are_spilled(tmp_path):
    """Held arrays do not grow with members; each member's maps are .npy files in the spill folder."""
    members = random_members("flood", 6)
    acc = RiskAccumulator(FLOOD.risk, SHAPE, 6, spill_dir=tmp_path)
    acc.add(0, members[0])
    held = acc.held_bytes()
    for i in range(1, 6):
        acc.add(i, members[i])
    assert acc.held_bytes() == held
    files = sorted(p.name for p in tmp_path.rglob("*.npy"))
    assert len(files) == 12   # max depth and arrival time per member
    spilled = np.load(next(tmp_path.rglob("max_depth_000003.npy")))
    assert np.array_equal(spilled, members[3]["max_depth"].astype(np.float32))
    acc.finalize()
    acc.close()
    assert not list(tmp_path.rglob("*.npy"))


def test_finalize_reads_spilled_maps_in_bounded_row_blocks(tmp_path):
    """Peak allocation of finalize beyond its output maps stays near block_bytes, not members x grid."""
    shape, n = (200, 100), 12
    rng = np.random.default_rng(5)
    acc = RiskAccumulator(FLOOD.risk, shape, n, spill_dir=tmp_path,
                          block_bytes=n * shape[1] * FINALIZE_BYTES_PER_MEMBER_CELL * 4)   # four rows
    for i in range(n):
        acc.add(i, {"max_depth": rng.uniform(0, 2, shape), "max_speed": rng.uniform(0, 2, shape),
                    "arrival_time": rng.uniform(0, 1e4, shape)})
    tracemalloc.start()
    out = acc.finalize()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    acc.close()
    working = peak - sum(a.nbytes for a in out.values())
    all_members = n * shape[0] * shape[1] * FINALIZE_BYTES_PER_MEMBER_CELL    # 7 MB: what one block would take
    assert working < acc.block_bytes + 256 * 2**10 < all_members / 10


@pytest.mark.parametrize("kind", ["flood", "fire"])
def test_single_hazard_maps_are_well_formed(kind):
    members = random_members(kind, 4)
    mask = np.ones(SHAPE, bool)
    mask[0, :] = False
    for m in members:
        for a in m.values():
            if a.dtype.kind == "f":
                a[0, :] = np.nan     # outside the domain the hazard maps are NaN
    with RiskAccumulator(SPEC[kind], SHAPE, 4, mask=mask) as acc:
        for i, m in enumerate(members):
            acc.add(i, m)
        out = acc.finalize()
    probabilities = [k for k in out if k.startswith("p_") or k == "burn_probability"]
    assert ("burn_probability" in out) == (kind == "fire")
    assert (exceedance_name(0.5) in out) == (kind == "flood")
    for name, a in out.items():
        SPEC[kind].fields[name]      # every map is a declared field
        assert a.shape == SHAPE and a.dtype == np.float64
        assert np.all(np.isnan(a[0]))
        if name in probabilities:
            assert np.all((a[1:] >= 0) & (a[1:] <= 1))
    if kind == "fire":
        burned_share = np.mean([m["burned"] for m in members], axis=0)
        assert np.array_equal(out["burn_probability"][1:], burned_share[1:])


def test_bad_members_raise():
    acc = RiskAccumulator(FLOOD.risk, SHAPE, 3)
    bad = flood_member(0.2)
    bad["max_depth"][2, 3] = np.nan
    with pytest.raises(RunError, match="member 0: max_depth .* row 2, col 3"):
        acc.add(0, bad)
    with pytest.raises(RunError, match="max_speed"):
        acc.add(0, flood_member(0.2, speed=-1.0))
    with pytest.raises(RunError, match="lack arrival_time"):
        acc.add(0, {"max_depth": np.zeros(SHAPE), "max_speed": np.zeros(SHAPE)})
    acc.add(0, flood_member(0.2))
    with pytest.raises(RunError, match="added twice"):
        acc.add(0, flood_member(0.2))
    with pytest.raises(RunError, match="2 of 3 members were not added"):
        acc.finalize()
    acc.add(2, flood_member(0.6))
    assert np.all(acc.finalize(allow_missing=True)[exceedance_name(0.5)] == 0.5)
    acc.close()


def test_bad_weights_raise():
    with pytest.raises(InputError, match="weights"):
        integer_weights([1.0, -1.0], 2)
    with pytest.raises(InputError, match="one weight per member"):
        integer_weights([1.0], 2)
    with pytest.raises(InputError, match="thresholds repeat"):
        flood_risk(thresholds_m=(0.5, 0.5))


def test_summary_expected_areas():
    members = [flood_member(d) for d in (0.0, 0.4, 0.03, 0.1)]
    with RiskAccumulator(FLOOD.risk, SHAPE, 4) as acc:
        for i, m in enumerate(members):
            acc.add(i, m)
        s = risk_summary(FLOOD.risk, acc.finalize(), cell_area_m2=4.0, members_used=acc.members_used)
    cells = SHAPE[0] * SHAPE[1]
    assert s["members_used"] == 4
    # 0.4 m still, DF = 1: HR = 0.4 * 0.5 + 1 = 1.2 (danger for some); 0.1 m: HR = 0.05 (low);
    # 0 m and 0.03 m stay below the 0.05 m wet threshold: dry, in no hazard class
    assert s["expected_area_by_hazard_class_m2"] == {"low": 1.0 * cells, "danger_for_some": 1.0 * cells,
                                                    "danger_for_most": 0.0, "danger_for_all": 0.0}
    assert s["expected_wet_area_m2"] == 2.0 * cells and s["expected_dry_area_m2"] == 2.0 * cells
    assert s["expected_area_depth_over_m2"][exceedance_name(0.3)] == 1.0 * cells


def test_area_by_class_sums_to_the_wet_area_and_wet_plus_dry_to_the_domain():
    """Weighted random members on a masked grid: the classes' areas equal the expected area at or
    above the wet threshold counted from the depths, and wet + dry equals the domain's area."""
    members = random_members("flood", 7, seed=11)
    weights = [3, 1, 4, 1, 5, 9, 2]
    mask = np.ones(SHAPE, bool)
    mask[:, 0] = False
    with RiskAccumulator(FLOOD.risk, SHAPE, 7, weights=weights, mask=mask) as acc:
        for i, m in enumerate(members):
            acc.add(i, m)
        s = risk_summary(FLOOD.risk, acc.finalize(), cell_area_m2=25.0, members_used=7)
    wet = np.average([m["max_depth"] >= WET for m in members], axis=0, weights=weights)
    expected_wet = float(wet[mask].sum() * 25.0)
    assert 0 < expected_wet < mask.sum() * 25.0
    assert sum(s["expected_area_by_hazard_class_m2"].values()) == pytest.approx(expected_wet, rel=1e-12)
    assert s["expected_wet_area_m2"] == pytest.approx(expected_wet, rel=1e-12)
    assert s["expected_wet_area_m2"] + s["expected_dry_area_m2"] == pytest.approx(mask.sum() * 25.0, rel=1e-12)
