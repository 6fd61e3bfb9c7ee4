"""Arrival-time solver: circles, ellipses, grid-orientation independence, firebreaks, terrain."""

import math

import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from kernels.arrival import arrival_time, ellipse_rates, stencil
from kernels.fire import length_to_breadth

N = 161          # grid side (cells)
C = N // 2       # ignition row and column
DX = 2.0         # m


def _point_start(n=N, r=C, c=C, t0=0.0):
    start = np.full((n, n), np.inf)
    start[r, c] = t0
    return start


def _front_distance(t, azimuth, t_front, r0=C, c0=C, dx=DX):
    """Distance (m) from the ignition to the front at time t_front along an azimuth (rad)."""
    s = np.linspace(0.0, (min(t.shape) // 2 - 2) * dx, 4000)
    rows = r0 - s * math.cos(azimuth) / dx
    cols = c0 + s * math.sin(azimuth) / dx
    vals = map_coordinates(np.where(np.isfinite(t), t, 1e30), [rows, cols], order=1)
    i = int(np.argmax(vals > t_front))
    assert i > 0, "front reached the edge of the grid"
    return float(np.interp(t_front, vals[i - 1:i + 1], s[i - 1:i + 1]))


def _uniform(value, n=N):
    return np.full((n, n), float(value))


@pytest.mark.parametrize("n_directions", [16, 32])
def test_no_wind_point_ignition_burns_a_circle(n_directions):
    """Flat, uniform fuel, no wind: radius along 32 directions varies < 3 %, mean within 3 % of R T."""
    rate, t_front = 0.4, 300.0                          # front at 120 m = 60 cells
    t = arrival_time(_point_start(), _uniform(rate), _uniform(rate), _uniform(rate), _uniform(0.0), DX,
                     n_directions=n_directions)
    radii = np.array([_front_distance(t, az, t_front) for az in np.linspace(0, 2 * np.pi, 32, endpoint=False)])
    assert (radii.max() - radii.min()) / radii.mean() < 0.03
    assert radii.mean() == pytest.approx(rate * t_front, rel=0.03)


@pytest.mark.parametrize("head_azimuth_deg", [0.0, 30.0, 117.0])
def test_uniform_wind_gives_the_fire_ellipse(head_azimuth_deg):
    """Head, flank and back distances at time T within 5 % of the ellipse (head rate, LB)."""
    head, lb, t_front = 0.5, float(length_to_breadth(4.0)), 220.0
    f, s, b = ellipse_rates(head, lb)
    az = math.radians(head_azimuth_deg)
    start = _point_start(r=C + int(round(45 * math.cos(az))), c=C - int(round(45 * math.sin(az))))
    r0, c0 = np.argwhere(np.isfinite(start))[0]
    t = arrival_time(start, _uniform(f), _uniform(s), _uniform(b), _uniform(az), DX)
    e = math.sqrt(lb**2 - 1) / lb
    expected = {0.0: head, math.pi / 2: head * (1 - e), math.pi: head * (1 - e) / (1 + e),
                -math.pi / 2: head * (1 - e)}
    for theta, rate in expected.items():
        got = _front_distance(t, az + theta, t_front, r0, c0)
        assert got == pytest.approx(rate * t_front, rel=0.05), f"theta={theta:.2f}"


def test_three_rate_profile_matches_hamada_style_rates():
    """Downwind, side and upwind distances follow three unrelated rates (the urban profile)."""
    fwd, side, back, t_front = 0.12, 0.05, 0.03, 800.0
    az = math.radians(60.0)
    start = _point_start(r=C + 25, c=C - 40)
    t = arrival_time(start, _uniform(fwd), _uniform(side), _uniform(back), _uniform(az), DX)
    for theta, rate in ((0.0, fwd), (math.pi / 2, side), (math.pi, back), (-math.pi / 2, side)):
        got = _front_distance(t, az + theta, t_front, C + 25, C - 40)
        assert got == pytest.approx(rate * t_front, rel=0.05)


def _random_field(rng, n=61):
    head = rng.uniform(0.2, 0.8, (n, n))
    lb = rng.uniform(1.0, 3.0, (n, n))
    f, s, b = ellipse_rates(head, lb)
    az = rng.uniform(0, 2 * np.pi, (n, n))
    f[rng.random((n, n)) < 0.05] = 0.0            # scattered non-burnable cells
    start = np.full((n, n), np.inf)
    start[10, 17] = 0.0
    start[44, 40] = 30.0
    return start, f, s, b, az


def test_rotation_by_90_degrees_gives_the_rotated_result():
    """Rotating the grid (and every head direction) by 90 deg rotates the arrival times (3 %)."""
    start, f, s, b, az = _random_field(np.random.default_rng(7))
    t = arrival_time(start, f, s, b, az, DX)
    rot = [np.rot90(x) for x in (start, f, s, b)]
    t_rot = arrival_time(*rot, np.rot90(az - np.pi / 2), DX)   # counter-clockwise rotation
    finite = np.isfinite(np.rot90(t))
    assert np.array_equal(finite, np.isfinite(t_rot))
    np.testing.assert_allclose(t_rot[finite], np.rot90(t)[finite], rtol=0.03)


def test_mirror_with_the_wind_gives_the_mirrored_result():
    """Mirroring east-west (head azimuths mirrored) mirrors the arrival times (3 %)."""
    start, f, s, b, az = _random_field(np.random.default_rng(11))
    t = arrival_time(start, f, s, b, az, DX)
    t_mir = arrival_time(*(np.fliplr(x) for x in (start, f, s, b)), np.fliplr(-az), DX)
    finite = np.isfinite(np.fliplr(t))
    assert np.array_equal(finite, np.isfinite(t_mir))
    np.testing.assert_allclose(t_mir[finite], np.fliplr(t)[finite], rtol=0.03)


@pytest.mark.parametrize("diagonal", [False, True])
def test_one_cell_firebreak_stops_the_fire(diagonal):
    """A one-cell-wide line of non-burnable cells (straight or diagonal) is never crossed."""
    n = 41
    f = _uniform(0.5, n)
    rows, cols = np.indices((n, n))
    wall = (rows + cols == n - 1) if diagonal else (cols == 20)
    f[wall] = 0.0
    start = _point_start(n, 5, 5)
    t = arrival_time(start, f, _uniform(0.5, n), _uniform(0.5, n), _uniform(0.0, n), DX)
    far_side = (rows + cols > n - 1) if diagonal else (cols > 20)
    near_side = ~far_side & ~wall
    assert np.isinf(t[far_side]).all()
    assert np.isfinite(t[near_side]).all()


def test_stencil_edges_cover_their_segments():
    """Every edge's crossed-cell fractions sum to 1 and start and end in the end cells."""
    for n_dir in (16, 32):
        st = stencil(n_dir)
        assert len(st["offsets"]) == n_dir
        for k, (dr, dc) in enumerate(st["offsets"]):
            segs = st["seg"][st["seg_ptr"][k]:st["seg_ptr"][k + 1]]
            assert segs[:, 2].sum() == pytest.approx(1.0, abs=1e-12)
            assert tuple(segs[0, :2]) == (0, 0) and tuple(segs[-1, :2]) == (dr, dc)


def test_sources_times_and_t_max():
    """Sources keep their start times; stopping at t_max leaves earlier times unchanged."""
    rate = 0.3
    start = np.full((N, N), np.inf)
    start[20, 20], start[120, 130] = 0.0, 100.0
    args = (_uniform(rate), _uniform(rate), _uniform(rate), _uniform(0.0), DX)
    full = arrival_time(start, *args)
    assert full[20, 20] == 0.0 and full[120, 130] == 100.0
    # ten cells east of the second ignition: reached 20 m / 0.3 m/s after it started
    assert full[120, 140] == pytest.approx(100.0 + 20.0 / rate, rel=1e-12)
    part = arrival_time(start, *args, t_max=150.0)
    reached = part <= 150.0
    assert np.isinf(part[~reached]).all() and (full[~reached] > 150.0).all()
    np.testing.assert_array_equal(part[reached], full[reached])


def test_terrain_lengthens_the_path():
    """On a uniform slope s, distance along x is covered at R along the surface: t = x sqrt(1+s^2)/R."""
    rate, s = 0.5, 0.4
    n = 81
    elevation = s * DX * np.indices((n, n))[1].astype(float)
    start = _point_start(n, 40, 0)
    t = arrival_time(start, _uniform(rate, n), _uniform(rate, n), _uniform(rate, n), _uniform(0.0, n), DX,
                     elevation=elevation)
    assert t[40, 60] == pytest.approx(60 * DX * math.sqrt(1 + s**2) / rate, rel=1e-12)


def test_bad_inputs_raise():
    """NaN rates, NaN start times, mismatched shapes and zero side rates are refused."""
    ok = _uniform(0.5, 5)
    start = _point_start(5, 2, 2)
    bad = ok.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        arrival_time(start, bad, ok, ok, ok, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        arrival_time(np.where(np.isinf(start), np.nan, 0.0), ok, ok, ok, ok, 1.0)
    with pytest.raises(ValueError, match="shape"):
        arrival_time(start, ok[:4], ok, ok, ok, 1.0)
    with pytest.raises(ValueError, match="side > 0"):
        arrival_time(start, ok, np.zeros((5, 5)), ok, ok, 1.0)
    with pytest.raises(ValueError, match="stencil"):
        arrival_time(start, ok, ok, ok, ok, 1.0, n_directions=8)


def test_spotting_lands_brands_downwind_at_the_lognormal_median():
    """Brands fly downwind (east here) with the log-normal median distance; none land on water."""
    from kernels.spotting import spot_fires

    n = 401
    src = np.full((n, n), np.inf)
    src[200, 50] = 10.0
    receptive = np.ones((n, n), dtype=bool)
    kw = dict(brands_per_cell=20000.0, median_distance=300.0, sigma_log=0.4, lateral_sd=0.0,
              ignition_probability=1.0, delay=60.0)
    spots = spot_fires(src, math.pi / 2, receptive, DX, np.random.default_rng(1), **kw)
    assert np.all(spots.rows == 200) and np.all(spots.cols >= 50)
    assert np.median((spots.cols - 50) * DX) == pytest.approx(300.0, rel=0.02)
    assert np.all(spots.times == 70.0)
    none = spot_fires(src, math.pi / 2, np.zeros((n, n), dtype=bool), DX, np.random.default_rng(1), **kw)
    assert none.rows.size == 0
