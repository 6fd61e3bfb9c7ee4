"""Annual risk over an event set (twin.events.annual, twin.events.exceedance): the EAD against an
independent trapezoid with each tail convention, hand cases, monotonicity, and the return period
at which a threshold is first exceeded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.events.annual import TAILS, expected_annual_damage, loss_curve
from twin.events.exceedance import exceedance_probability, first_exceeding_return_period

RP = np.array([2.0, 5.0, 10.0, 30.0, 50.0, 100.0, 200.0, 500.0])


def _reference_ead(rp, loss, protection_rp, tail, max_loss=np.inf):
    """The same integral written another way: the curve as a list of (AEP, loss) points from rare to
    frequent, integrated by numpy's trapezoid, one item at a time."""
    points = [(1.0 / t, value) for t, value in zip(rp, loss) if t > protection_rp]
    points.reverse()  # rare first
    if tail == "constant":
        points.insert(0, (0.0, points[0][1]))
    elif tail == "linear":
        (p1, l1), (p0, l0) = points[0], points[1]
        points.insert(0, (0.0, min(max(l1 + (l1 - l0) / (p0 - p1) * p1, 0.0), max_loss)))
    if protection_rp > 0:
        points.append((1.0 / protection_rp, 0.0))
    x, y = zip(*points)
    return np.trapezoid(y, x)


@pytest.fixture
def losses():
    """Per-event losses of 40 items (e.g. buildings, KRW), non-decreasing in return period."""
    rng = np.random.default_rng(19)
    return np.cumsum(rng.gamma(1.0, 1.0e6, size=(RP.size, 40)), axis=0) * (rng.random(40) > 0.2)


# ---------------------------------------------------------------- the integral

@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("protection_rp", [0.0, 1.0, 5.0, 20.0])
def test_ead_equals_an_independent_trapezoid(losses, tail, protection_rp):
    ead = expected_annual_damage(RP, losses, protection_rp=protection_rp, tail=tail)
    want = [_reference_ead(RP, losses[:, i], protection_rp, tail) for i in range(losses.shape[1])]
    assert ead == pytest.approx(want, rel=1e-12, abs=1e-6)


def test_ead_by_hand():
    """T 2, 10, 100 with losses 0, 10, 100: AEP 0.5, 0.1, 0.01; segments (0.4)(5) + (0.09)(55) = 6.95."""
    rp, loss = np.array([2.0, 10.0, 100.0]), np.array([0.0, 10.0, 100.0])
    assert expected_annual_damage(rp, loss, tail="truncate") == pytest.approx(6.95, rel=1e-14)
    assert expected_annual_damage(rp, loss, tail="constant") == pytest.approx(6.95 + 0.01 * 100, rel=1e-14)
    # linear: slope 90 / 0.09 = 1000 per unit AEP, 110 at AEP 0: + 0.01 (100 + 110) / 2
    assert expected_annual_damage(rp, loss, tail="linear") == pytest.approx(6.95 + 1.05, rel=1e-14)
    assert expected_annual_damage(rp, loss, tail="linear", max_loss=105.0) == pytest.approx(6.95 + 1.025, rel=1e-14)
    # protection at 5 years: the 2-year event does no damage, 0 at AEP 0.2, then (0.1)(5) + 4.95
    assert expected_annual_damage(rp, loss, protection_rp=5.0, tail="truncate") == pytest.approx(5.45, rel=1e-14)


def test_loss_curve_holds_the_tail_points():
    rp, loss = np.array([2.0, 10.0, 100.0]), np.array([1.0, 10.0, 100.0])
    aep, curve = loss_curve(rp, loss, protection_rp=5.0, tail="constant")
    assert aep == pytest.approx([0.2, 0.1, 0.01, 0.0])
    assert curve == pytest.approx([0.0, 10.0, 100.0, 100.0])


def test_ead_of_a_grid_is_the_ead_of_each_cell(losses):
    grid = losses.reshape(RP.size, 5, 8)
    ead = expected_annual_damage(RP, grid, protection_rp=2.0, tail="linear")
    assert ead.shape == (5, 8)
    assert ead.ravel() == pytest.approx(expected_annual_damage(RP, losses, protection_rp=2.0, tail="linear"),
                                        rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e9), min_size=RP.size, max_size=RP.size), st.floats(0, 1e9),
       st.lists(st.floats(1.0, 199.0), min_size=2, max_size=4))  # two events left for the linear tail
def test_ead_grows_with_losses_and_tails_and_falls_with_protection(steps, extra, protections):
    loss = np.cumsum(steps)  # non-decreasing in return period
    by_tail = [expected_annual_damage(RP, loss, tail=t) for t in TAILS]
    assert by_tail[0] <= by_tail[1] * (1 + 1e-12) and by_tail[1] <= by_tail[2] * (1 + 1e-12)
    more = loss + extra * (np.arange(RP.size) >= 3)
    assert expected_annual_damage(RP, more) >= expected_annual_damage(RP, loss) * (1 - 1e-12)
    protected = [expected_annual_damage(RP, loss, protection_rp=p, tail=tail)
                 for tail in TAILS for p in sorted(protections)]
    for tail in range(len(TAILS)):
        row = protected[tail * len(protections):(tail + 1) * len(protections)]
        assert all(b <= a * (1 + 1e-12) + 1e-6 for a, b in zip(row, row[1:]))


@pytest.mark.parametrize("kwargs, message", [
    ({"return_periods": np.array([5.0, 2.0])}, "increase strictly"),
    ({"protection_rp": 500.0}, "below the largest"),
    ({"tail": "extrapolate"}, "tail must be one of"),
])
def test_bad_arguments_are_refused(kwargs, message):
    args = {"return_periods": RP, "losses": np.ones(RP.size), **kwargs}
    args["losses"] = np.ones(args["return_periods"].size)
    with pytest.raises(ValueError, match=message):
        expected_annual_damage(**args)


def test_linear_tail_needs_two_points():
    with pytest.raises(ValueError, match="two events"):
        expected_annual_damage(np.array([100.0]), np.array([1.0]), tail="linear")
    with pytest.raises(ValueError, match="two events"):
        expected_annual_damage(np.array([10.0, 100.0]), np.array([1.0, 2.0]), protection_rp=20.0, tail="linear")


# ---------------------------------------------------------------- exceedance

def test_first_exceeding_return_period_by_hand():
    depth = np.array([[0.0, 0.2, 0.6, np.nan, 0.3],
                      [0.05, 0.4, 0.7, np.nan, 0.3],
                      [0.1, 0.6, 0.8, np.nan, 0.3]])
    rp = np.array([2.0, 10.0, 100.0])
    assert first_exceeding_return_period(depth, rp, 0.3) == pytest.approx([np.inf, 10.0, 2.0, np.nan, np.inf],
                                                                            nan_ok=True)
    assert exceedance_probability(depth, rp, 0.3) == pytest.approx([0.0, 0.1, 0.5, np.nan, 0.0], nan_ok=True)
    # a threshold per item (a floor height per building)
    floors = np.array([0.05, 0.5, 0.75, 0.1, 0.0])
    assert first_exceeding_return_period(depth, rp, floors) == pytest.approx([100.0, 100.0, 100.0, np.nan, 2.0],
                                                                             nan_ok=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 5), min_size=3 * 6, max_size=3 * 6), st.floats(0, 5), st.floats(0, 5))
def test_exceedance_probability_does_not_grow_with_the_threshold(values, a, b):
    depth = np.array(values).reshape(3, 6)
    rp = np.array([2.0, 10.0, 100.0])
    low, high = sorted((a, b))
    assert np.all(exceedance_probability(depth, rp, high) <= exceedance_probability(depth, rp, low))
