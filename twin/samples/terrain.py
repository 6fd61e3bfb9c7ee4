"""Sample city terrain: valley floor, meandering river, floodplain, micro-relief and hills.

See :mod:`twin.samples.city` for the design; all lengths in metres, elevations above sea level.
"""

from __future__ import annotations

import math

import numpy as np

_VALLEY_Z_CENTRE = 45.0          # m a.s.l., valley floor at the district centre
_VALLEY_SLOPE = 1.0e-3           # m/m, down-valley (north to south) slope of the valley floor
_FLOODPLAIN_SLOPE = 4.0e-3       # m/m, cross-valley rise of the floodplain away from the river
_MICRO_RELIEF = 1.0              # m, amplitude of smooth urban micro-relief
_URBAN_HILL_LIMIT = 2.0          # m, hill relief above which land is wild (forest / grass)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], cell: float,
                  length_m: float) -> np.ndarray:
    """Smooth random field in [0, 1] over a 1-D or 2-D grid of cells of ``cell`` m.

    White noise on control points ``length_m`` apart, spread with normalised Gaussian weights
    of standard deviation ``length_m`` (separable, so a 2-D field costs two matrix products),
    then rescaled to span exactly [0, 1].
    """
    weights = []
    for n in shape:
        k = int(math.ceil(n * cell / length_m)) + 3
        centres = (np.arange(k) - 1.0) * length_m
        pos = (np.arange(n) + 0.5) * cell
        w = np.exp(-0.5 * ((pos[:, None] - centres[None, :]) / length_m) ** 2)
        weights.append(w / w.sum(axis=1, keepdims=True))
    c = rng.standard_normal([w.shape[1] for w in weights])
    f = weights[0] @ c if len(shape) == 1 else weights[0] @ c @ weights[1].T
    f -= f.min()
    f /= f.max()
    return f


def _smoothstep(t: np.ndarray) -> np.ndarray:
    """3 t^2 - 2 t^3 on t clipped to [0, 1], computed in place in ``t`` (which is returned)."""
    np.clip(t, 0.0, 1.0, out=t)
    r = np.multiply(t, -2.0)
    r += 3.0
    t *= t
    t *= r
    return t


def make_terrain(rng: np.random.Generator, ny: int, nx: int, cell: float) -> dict:
    """River, floodplain and hills: elevation (m) and the masks the layout needs.

    Returns
    -------
    dict
        ``z`` elevation (m a.s.l., ``(ny, nx)``, float64, streets and underpasses not yet cut);
        boolean masks ``water`` (river), ``riverside`` (the riverside park strip) and ``urban``
        (land below the hills' urban limit, not water); ``d`` distance from the river centreline
        (m); ``hills`` hill relief (m); ``axis`` the valley axis and ``xc`` the centreline per
        row (m east of the west edge); ``bank_z`` the river's bank-cell bed level per row
        (m a.s.l.); ``green`` and ``housing`` smooth fields in [0, 1] (40 m and 500 m scales)
        that place groves and apartment zones.
    """
    size = nx * cell
    xm = (np.arange(nx) + 0.5) * cell                     # m east of the west edge
    ym = (np.arange(ny) + 0.5) * cell                     # m south of the north edge
    axis = size * (0.5 + rng.uniform(-0.03, 0.03))       # valley axis, m east of west edge
    width = rng.uniform(24.0, 36.0)                       # bankfull width, m
    depth = rng.uniform(2.5, 3.5)                         # bankfull depth, m
    amp = np.array([rng.uniform(20.0, 45.0), rng.uniform(5.0, 12.0)])
    k = 2.0 * np.pi / np.array([rng.uniform(900.0, 1400.0), rng.uniform(300.0, 500.0)])
    phase = rng.uniform(0.0, 2.0 * np.pi, 2)
    arg = ym[:, None] * k + phase
    xc = axis + (amp * np.sin(arg)).sum(axis=1)           # river centreline, m
    stretch = np.sqrt(1.0 + (amp * k * np.cos(arg)).sum(axis=1) ** 2)   # sqrt(1 + (dxc/dy)^2)
    # distance from the centreline, perpendicular to it (locally straight channel)
    d = np.abs(xm[None, :] - xc[:, None])
    d /= stretch[:, None]
    z_valley = _VALLEY_Z_CENTRE - _VALLEY_SLOPE * (ym - size / 2)     # per row, m
    water = d <= width / 2

    # hills: smoothstep ramps from a wavy foot to the district edge on each side
    hills = np.zeros((ny, nx))
    for sign, edge in ((-1.0, axis), (1.0, size - axis)):
        foot = size * (0.31 + 0.05 * _smooth_noise(rng, (ny,), cell, 400.0))   # m from axis
        relief = rng.uniform(80.0, 120.0) * (0.8 + 0.2 * _smooth_noise(rng, (ny,), cell, 600.0))
        out = sign * (xm - axis)                           # m from the axis, outwards
        cols = np.flatnonzero(out > foot.min())
        win = slice(cols.min(), cols.max() + 1)
        t = out[None, win] - foot[:, None]
        t /= (edge - cell / 2 - foot)[:, None]
        t = _smoothstep(t)
        t *= relief[:, None]
        hills[:, win] += t

    z = d - width / 2
    np.maximum(z, 0.0, out=z)
    z *= _FLOODPLAIN_SLOPE
    z += z_valley[:, None]
    z += hills
    # micro-relief, faded out over 200 m towards the river so that the banks stay 2-4 m above
    # the bed (the fade only touches the columns within 200 m of the river)
    relief = _smooth_noise(rng, (ny, nx), cell, 400.0)
    reach = (width / 2 + 200.0) * stretch.max()
    win = slice(max(0, int((xc.min() - reach) / cell)), min(nx, int((xc.max() + reach) / cell) + 1))
    fade = d[:, win] - width / 2
    fade /= 200.0
    relief[:, win] *= _smoothstep(fade)
    relief *= _MICRO_RELIEF
    z += relief
    del relief, fade
    # flat bed across the middle half of the channel, banks rising to 0.6 * depth below the
    # floodplain: every row then has its thalweg exactly ``depth`` below the valley floor
    rows, cols = np.nonzero(water)
    bank = np.clip(4.0 * d[rows, cols] / width - 1.0, 0.0, 1.0)
    z[rows, cols] = z_valley[rows] - depth * (1.0 - 0.4 * bank ** 2)
    riverside = ~water & (d <= width / 2 + rng.uniform(30.0, 50.0))
    return dict(z=z, water=water, riverside=riverside, d=d, hills=hills,
                urban=(hills < _URBAN_HILL_LIMIT) & ~water, axis=axis, xc=xc,
                bank_z=z_valley - 0.6 * depth, green=_smooth_noise(rng, (ny, nx), cell, 40.0),
                housing=_smooth_noise(rng, (ny, nx), cell, 500.0))
